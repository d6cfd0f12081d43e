// A client of the control API, over the Unix socket or TCP, for the CLI and for tests.
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import type { Readable } from 'node:stream';
import { DEFAULTS } from '../config/config';

export interface Target {
  socket?: string;
  /** http://HOST:PORT */
  url?: string;
  token?: string;
}

export class ApiClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly body: Record<string, unknown> | null,
  ) {
    super(message);
  }
}

export interface Response {
  status: number;
  body: unknown;
}

export function defaultSocket(env: NodeJS.ProcessEnv = process.env): string {
  return env.MICROARP_SOCKET || DEFAULTS.apiSocket;
}

export class ApiClient {
  constructor(private readonly target: Target) {}

  describe(): string {
    return this.target.url ?? `unix:${this.target.socket}`;
  }

  private options(method: string, path: string, headers: Record<string, string>): RequestOptions {
    const auth: Record<string, string> = this.target.token ? { authorization: `Bearer ${this.target.token}` } : {};
    if (this.target.url) {
      const base = new URL(this.target.url);
      return { method, hostname: base.hostname.replace(/^\[|\]$/g, ''), port: base.port || 80, path, headers: { ...headers, ...auth } };
    }
    return { method, socketPath: this.target.socket, path, headers: { ...headers, ...auth } };
  }

  /** Sends a request and returns the raw response stream (for exports). */
  raw(method: string, path: string, body?: Readable | string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const send = (retry: boolean): void => {
        const req = httpRequest(this.options(method, path, headers), resolve);
        req.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive connection the daemon closed as idle just as this request went out on
          // it: the daemon never read the request, so it is sent once more on a new connection.
          // (A streamed body cannot be sent twice.)
          if (retry && req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) send(false);
          else reject(this.connectionError(error));
        });
        if (body === undefined) req.end();
        else if (typeof body === 'string') req.end(body);
        else body.pipe(req);
      };
      send(typeof body !== 'object');
    });
  }

  async call(method: string, path: string, body?: unknown): Promise<Response> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const res = await this.raw(method, path, text, text ? { 'content-type': 'application/json' } : {});
    return readResponse(res);
  }

  private connectionError(error: NodeJS.ErrnoException): Error {
    const where = this.describe();
    if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
      return new ApiClientError(`no microarp daemon answers on ${where} (is 'microarp run' running? use --socket or --api)`, 0, null);
    }
    if (error.code === 'EACCES') return new ApiClientError(`permission denied on ${where} (the socket is mode 0660: run as its owner or group)`, 0, null);
    return new ApiClientError(`cannot reach ${where}: ${error.message}`, 0, null);
  }
}

export async function readResponse(res: IncomingMessage): Promise<Response> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.statusCode ?? 0, body };
}

/** Throws the API's own error message for a non-2xx response. */
export function expectOk(r: Response): Record<string, unknown> {
  if (r.status >= 200 && r.status < 300) return (r.body ?? {}) as Record<string, unknown>;
  const body = (typeof r.body === 'object' && r.body ? r.body : null) as Record<string, unknown> | null;
  const error = body?.error as { message?: string } | undefined;
  throw new ApiClientError(error?.message ?? `HTTP ${r.status}: ${String(r.body)}`, r.status, body);
}
