// The control API's listeners: a Unix socket (trusted by its file mode, 0660) and optionally
// TCP, where a bearer token is needed for every write and, unless open_reads, every read.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { chmodSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
import { timingSafeEqual, createHash } from 'node:crypto';
import type { ApiConfig } from '../config/config';
import type { Logger } from '../log/logger';
import { ApiError, sendError } from './http_util';
import { handlers, loadBody, type ApiContext, type Request } from './handlers';

type Handler = (r: Request, ctx: ApiContext) => void | Promise<void>;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
  write: boolean;
  body: boolean;
}

const IP = '([^/]+)';
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/healthz$/, handler: handlers.health, write: false, body: false },
  { method: 'GET', pattern: /^\/readyz$/, handler: handlers.readiness, write: false, body: false },
  { method: 'GET', pattern: /^\/v1\/stats$/, handler: handlers.stats, write: false, body: false },
  { method: 'GET', pattern: /^\/v1\/fabric$/, handler: handlers.fabric, write: false, body: false },
  { method: 'GET', pattern: /^\/v1\/ports$/, handler: handlers.ports, write: false, body: false },
  { method: 'PATCH', pattern: /^\/v1\/ports\/([^/]+)$/, handler: handlers.portPatch, write: true, body: true },
  { method: 'GET', pattern: /^\/v1\/fdb$/, handler: handlers.fdbList, write: false, body: false },
  { method: 'GET', pattern: /^\/v1\/events$/, handler: handlers.eventStream, write: false, body: false },
  { method: 'PUT', pattern: /^\/v1\/fdb$/, handler: handlers.fdbPut, write: true, body: true },
  { method: 'DELETE', pattern: /^\/v1\/fdb\/([^/]+)$/, handler: handlers.fdbDelete, write: true, body: false },
  { method: 'POST', pattern: /^\/v1\/reload$/, handler: handlers.reload, write: true, body: false },
  { method: 'POST', pattern: /^\/v1\/debug\/stall$/, handler: handlers.debugStall, write: true, body: false },
  { method: 'GET', pattern: /^\/v1\/bindings$/, handler: handlers.list, write: false, body: false },
  { method: 'POST', pattern: /^\/v1\/bindings$/, handler: handlers.add, write: true, body: true },
  { method: 'GET', pattern: /^\/v1\/bindings\/export$/, handler: handlers.exportBindings, write: false, body: false },
  { method: 'POST', pattern: /^\/v1\/bindings\/import$/, handler: handlers.importBindings, write: true, body: false },
  { method: 'GET', pattern: new RegExp(`^/v1/bindings/${IP}$`), handler: handlers.get, write: false, body: false },
  { method: 'PUT', pattern: new RegExp(`^/v1/bindings/${IP}$`), handler: handlers.put, write: true, body: true },
  { method: 'DELETE', pattern: new RegExp(`^/v1/bindings/${IP}$`), handler: handlers.remove, write: true, body: false },
];

/** Health and readiness stay open on TCP so that probes need no secret. */
const OPEN_PATHS = new Set(['/healthz', '/readyz']);

function sameSecret(given: string, expected: string): boolean {
  // Hash both so the comparison is constant-time whatever the lengths.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

export class ApiServer {
  private readonly servers: Server[] = [];
  /** Where each listener ended up (the TCP port when 0 was asked for). */
  readonly addresses: string[] = [];

  constructor(
    private readonly config: ApiConfig,
    private readonly ctx: ApiContext,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.config.socket) await this.listenUnix(this.config.socket);
    if (this.config.listen) {
      const { host, port } = this.config.listen;
      const server = this.create('tcp');
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      const address = server.address();
      this.addresses.push(typeof address === 'object' && address ? `http://${host.includes(':') ? `[${host}]` : host}:${address.port}` : String(address));
    }
  }

  private async listenUnix(path: string): Promise<void> {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    if (existsSync(path)) {
      if (await socketAnswers(path)) {
        throw new ApiError(500, 'SOCKET_IN_USE', `another process serves ${path}: stop it, or set api.socket to another path`);
      }
      unlinkSync(path); // left behind by a process that died
    }
    const server = this.create('unix');
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o660);
    this.addresses.push(`unix:${path}`);
  }

  private create(kind: 'unix' | 'tcp'): Server {
    const server = createServer((req, res) => void this.handle(kind, req, res));
    this.servers.push(server);
    return server;
  }

  private async handle(kind: 'unix' | 'tcp', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const who = kind === 'unix' ? 'unix' : `tcp:${req.socket.remoteAddress ?? '?'}`;
    try {
      const url = new URL(req.url ?? '/', 'http://microarp');
      const candidates = ROUTES.filter((r) => r.pattern.test(url.pathname));
      if (candidates.length === 0) throw new ApiError(404, 'NO_ROUTE', `no such endpoint: ${url.pathname}`);
      const route = candidates.find((r) => r.method === req.method);
      if (!route) {
        res.setHeader('allow', candidates.map((r) => r.method).join(', '));
        throw new ApiError(405, 'METHOD', `${req.method} is not allowed on ${url.pathname}`);
      }
      if (kind === 'tcp' && !OPEN_PATHS.has(url.pathname) && (route.write || !this.config.openReads)) {
        this.authorise(req, who, route.write);
      }
      // A path parameter may be percent-encoded: an IPv6 address's colons as %3A.
      const params = route.pattern.exec(url.pathname)!.slice(1).map(decodedParam);
      const request: Request = { req, res, url, params, who };
      if (route.body) await loadBody(request);
      await route.handler(request, this.ctx);
    } catch (error) {
      if (error instanceof ApiError) {
        sendError(res, error);
      } else {
        this.log.error('api request failed', { who, method: req.method, url: req.url, error: (error as Error).message });
        sendError(res, new ApiError(500, 'INTERNAL', (error as Error).message));
      }
    }
  }

  private authorise(req: IncomingMessage, who: string, write: boolean): void {
    const header = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m || !this.config.token || !sameSecret(m[1]!, this.config.token)) {
      this.log.warn('api request refused: no valid token', { who, method: req.method, path: req.url?.split('?')[0], write });
      throw new ApiError(401, 'UNAUTHORIZED', 'a valid bearer token is needed (Authorization: Bearer <token>)');
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    if (this.config.socket && existsSync(this.config.socket)) unlinkSync(this.config.socket);
  }
}

function decodedParam(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ApiError(400, 'INVALID', `not valid percent-encoding in the path: ${JSON.stringify(text)}`);
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
