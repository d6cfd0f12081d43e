// The API client against a server that closes kept-alive connections as it likes: a request
// that went out on a reused connection the server had just closed is sent again on a new one;
// a failure on a fresh connection is reported, not retried.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { ApiClient } from '../src/api/client';
import { TempDir } from './helpers/daemon';

describe('the API client on kept-alive connections', () => {
  const dir = new TempDir();
  const socket = join(dir.path, 'api.sock');
  let server: Server;
  /** Requests the server took, with the connection each came on. */
  const seen: { path: string; connection: number }[] = [];
  const connections = new Map<Socket, number>();
  /** Paths whose request the server answers by closing the connection (once, or always). */
  const closeOnce = new Set<string>();
  const closeAlways = new Set<string>();

  before(async () => {
    server = createServer((req, res) => {
      const s = req.socket;
      if (!connections.has(s)) connections.set(s, connections.size);
      const path = req.url ?? '';
      seen.push({ path, connection: connections.get(s)! });
      // What a server does when its keep-alive timer fires as the request arrives.
      if (closeAlways.has(path) || closeOnce.delete(path)) {
        s.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path }));
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    dir.remove();
  });

  it('sends a request again on a new connection when the reused one was closed under it', async () => {
    const api = new ApiClient({ socket });
    assert.equal((await api.call('GET', '/a')).status, 200);
    closeOnce.add('/b');
    seen.length = 0;
    const r = await api.call('PUT', '/b', { x: 1 });
    assert.deepEqual(r, { status: 200, body: { path: '/b' } });
    assert.equal(seen.length, 2, 'sent twice');
    assert.equal(seen[0]!.connection, 0, 'first on the kept-alive connection');
    assert.notEqual(seen[1]!.connection, 0, 'then on a new one');
  });

  it('reports a connection closed under a request on a new connection, without sending it again', async () => {
    const api = new ApiClient({ socket });
    closeAlways.add('/c');
    seen.length = 0;
    await assert.rejects(api.call('POST', '/c', {}), /cannot reach unix:.*api\.sock: (socket hang up|read ECONNRESET|write EPIPE)/);
    // The first attempt may go out on a kept-alive connection from the last test; the retry does
    // not, and is the last.
    assert.ok(seen.length >= 1 && seen.length <= 2, JSON.stringify(seen));
  });
});
