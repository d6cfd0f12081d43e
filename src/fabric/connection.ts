// How the fabric talks to etcd through the etcd3 package: client options (TLS, auth, deadlines,
// fault handling), which errors are worth a retry, and a health probe per endpoint.
import { readFileSync } from 'node:fs';
import { Etcd3, EtcdLeaseInvalidError, isRecoverableError, type IOptions } from 'etcd3';

export interface EtcdAccess {
  endpoints: string[];
  username?: string;
  password?: string;
  /** PEM file paths. */
  tls?: { ca?: string; cert?: string; key?: string };
  /** Deadline of each unary request. */
  requestTimeoutMs: number;
}

export interface EndpointHealth {
  endpoint: string;
  healthy: boolean;
  error?: string;
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/**
 * etcd3's default per-host circuit breaker opens for 5 s after three failures in a row, and
 * a leader election makes every member fail a few requests ("no leader"): all breakers open
 * and the whole cluster is unusable for 5 s after each election. Without a breaker, a dead
 * member costs one fast refused connection per request before etcd3's global retry (three
 * attempts, each on another member) moves on; our own reconnect loop does the backing off.
 */
const passThrough = {
  execute: <T>(fn: (context: { signal: AbortSignal; attempt: number }) => T | PromiseLike<T>): Promise<T> =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal, attempt: 0 })),
} as unknown as HostPolicy;

function readPem(what: string, path: string | undefined): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`fabric: cannot read the etcd TLS ${what} '${path}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Validates the access settings; a mistake here is a configuration error and throws. */
export function etcdOptions(access: EtcdAccess, endpoints = access.endpoints): IOptions {
  if (endpoints.length === 0) throw new Error('fabric: no etcd endpoints');
  for (const e of endpoints) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new Error(`fabric: etcd endpoint '${e}' is not a URL (http://HOST:PORT or https://HOST:PORT)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`fabric: etcd endpoint '${e}' must be http:// or https://`);
    if (access.tls && url.protocol !== 'https:') throw new Error(`fabric: etcd endpoint '${e}' must be https:// when TLS is configured`);
  }
  if ((access.username === undefined) !== (access.password === undefined)) {
    throw new Error('fabric: etcd username and password go together');
  }
  if (access.tls && (access.tls.cert === undefined) !== (access.tls.key === undefined)) {
    throw new Error('fabric: the etcd TLS client cert and key go together');
  }
  const options: IOptions = {
    hosts: endpoints,
    // Streams (watch, lease keepalive) live long: only unary requests get a deadline.
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + access.requestTimeoutMs }),
    faultHandling: { host: () => passThrough },
    // HTTP/2 pings find a dead TCP connection under a long-lived stream. etcd refuses pings
    // more often than every 5 s (--grpc-keepalive-min-time) with GOAWAY "too_many_pings".
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000 },
  };
  if (access.tls) {
    // Without a CA file, gRPC uses the system roots (etcd3 types rootCertificate as required).
    options.credentials = {
      rootCertificate: readPem('CA', access.tls.ca) as Buffer,
      privateKey: readPem('key', access.tls.key),
      certChain: readPem('cert', access.tls.cert),
    };
  }
  if (access.username !== undefined) options.auth = { username: access.username, password: access.password ?? '' };
  return options;
}

/** Errors after which the same request can succeed later: network, deadlines, elections, a lost lease. */
export function isTransient(error: unknown): boolean {
  return error instanceof Error && (isRecoverableError(error) || error instanceof EtcdLeaseInvalidError);
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Asks each endpoint on its own for its status: healthy when it answers within the deadline,
 * knows a leader and reports no alarm-like errors.
 */
export async function probeEndpoints(access: EtcdAccess, timeoutMs = 1000): Promise<EndpointHealth[]> {
  return Promise.all(
    access.endpoints.map(async (endpoint): Promise<EndpointHealth> => {
      let client: Etcd3 | undefined;
      try {
        client = new Etcd3({ ...etcdOptions({ ...access, requestTimeoutMs: timeoutMs }, [endpoint]), faultHandling: { host: () => passThrough, global: passThrough } });
        const status = await client.maintenance.status({ deadline: Date.now() + timeoutMs });
        if (status.leader === '0') return { endpoint, healthy: false, error: 'no leader' };
        if (status.errors.length > 0) return { endpoint, healthy: false, error: status.errors.join('; ') };
        return { endpoint, healthy: true };
      } catch (error) {
        return { endpoint, healthy: false, error: describeError(error) };
      } finally {
        client?.close();
      }
    }),
  );
}
