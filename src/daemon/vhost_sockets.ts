// vhost-user ports in server mode listen on a Unix socket that DPDK creates at start. What
// keeps it from doing so (a missing or read-only directory, a socket file left by a killed
// instance, another backend on the same path) is found here first and either fixed (a stale
// file is removed) or reported with the path and what to do, instead of DPDK's bare
// "Address already in use".
import { accessSync, constants, existsSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { DataplaneError } from '../dataplane/dataplane';
import type { Logger } from '../log/logger';

export interface VhostSocket {
  port: string;
  path: string;
  /** client=1: microarp connects to the guest's socket (and reconnects), it does not listen. */
  client: boolean;
}

/** The vhost-user sockets of the ports whose device is a net_vhost. */
export function vhostSockets(ports: readonly { name: string; device: string }[]): VhostSocket[] {
  const out: VhostSocket[] = [];
  for (const p of ports) {
    const [driver, ...args] = p.device.split(',');
    if (!driver?.startsWith('net_vhost')) continue;
    const kv = new Map(args.map((a) => [a.slice(0, a.indexOf('=') >>> 0), a.slice(a.indexOf('=') + 1)]));
    const path = kv.get('iface');
    if (!path) throw new DataplaneError(`port '${p.name}': a vhost-user device needs its socket: ${driver},iface=/run/microarp/${p.name}.sock`, 'VHOST_SOCKET');
    out.push({ port: p.name, path, client: kv.get('client') === '1' });
  }
  return out;
}

/**
 * Whether something answers on the socket. Only a refused connection proves the file stale; a
 * connection, or no answer within a second (a busy backend), means someone holds it.
 */
function listening(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ path });
    const done = (held: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(held);
    };
    const timer = setTimeout(() => done(true), 1000);
    socket.once('connect', () => done(true));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code !== 'ECONNREFUSED' && error.code !== 'ENOENT'));
  });
}

/**
 * mkdir -p, one level at a time from the nearest existing ancestor (Node's recursive mkdir
 * spins forever under /proc), then checks that the directory takes a new socket.
 */
function makeDirectory(dir: string): void {
  const missing: string[] = [];
  let at = dir;
  while (!existsSync(at)) {
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const level of missing) mkdirSync(level, { mode: 0o755 });
  accessSync(dir, constants.W_OK | constants.X_OK);
}

/** Readies every server socket path; throws a DataplaneError naming the port and the path. */
export async function prepareVhostSockets(ports: readonly { name: string; device: string }[], log: Logger): Promise<VhostSocket[]> {
  const sockets = vhostSockets(ports);
  for (const s of sockets) {
    const where = `port '${s.port}': vhost-user socket ${s.path}`;
    if (s.client) {
      log.info('vhost-user client port: connects to the guest, and reconnects when it restarts', { port: s.port, socket: s.path });
      continue;
    }
    const dir = dirname(s.path);
    try {
      makeDirectory(dir);
    } catch (error) {
      throw new DataplaneError(`${where}: its directory ${dir} cannot be created or written (${(error as NodeJS.ErrnoException).code}); choose another path or fix its permissions`, 'VHOST_SOCKET');
    }
    let isSocket: boolean;
    try {
      isSocket = lstatSync(s.path).isSocket();
    } catch {
      continue; // nothing there: DPDK creates it
    }
    if (!isSocket) throw new DataplaneError(`${where} exists and is not a socket; remove it or choose another path`, 'VHOST_SOCKET');
    if (await listening(s.path)) {
      throw new DataplaneError(`${where} is in use: another vhost-user backend listens on it (another microarp, OVS, testpmd?)`, 'VHOST_SOCKET');
    }
    // Nobody listens: the file of a backend that was killed. DPDK would fail to bind it.
    unlinkSync(s.path);
    log.warn('removed a stale vhost-user socket', { port: s.port, socket: s.path });
  }
  return sockets;
}
