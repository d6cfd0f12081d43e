// Small HTTP helpers shared by the control API's handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  const headers: Record<string, string> = {};
  if (error.status === 401) headers['www-authenticate'] = 'Bearer realm="microarp"';
  const text = `${JSON.stringify({
    error: { code: error.code, message: error.message, ...(error.field ? { field: error.field } : {}) },
    ...error.extra,
  })}\n`;
  res.writeHead(error.status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const MAX_JSON_BODY = 64 * 1024;

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_JSON_BODY) throw new ApiError(413, 'BODY_TOO_LARGE', `a JSON body is at most ${MAX_JSON_BODY} bytes (use /v1/bindings/import for bulk)`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new ApiError(400, 'BAD_BODY', 'the request needs a JSON body', 'body');
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'BAD_BODY', 'the body is not valid JSON', 'body');
  }
}
