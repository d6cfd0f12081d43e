// The fabric's etcd over TLS with a user and password, as a production cluster runs: a real
// etcd with a server certificate from a CA the test makes (openssl), auth enabled, and a user
// whose role can read and write the fabric's prefix only.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { FabricClient } from '../src/fabric/etcd_client';
import { TempDir } from './helpers/daemon';
import { freePort } from './helpers/wire';
import { waitFor } from './helpers/wait';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('fabric over TLS with etcd authentication', () => {
  const dir = new TempDir();
  let etcd: ChildProcess | undefined;
  let endpoint = '';
  const pem = (name: string): string => dir.file(`${name}.pem`);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { stdio: 'ignore' });
  const etcdctl = (...args: string[]): string =>
    execFileSync('etcdctl', [`--endpoints=${endpoint}`, `--cacert=${pem('ca')}`, '--dial-timeout=2s', ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  const clients: FabricClient[] = [];
  const client = (host: string, password: string): FabricClient => {
    const c = new FabricClient({ endpoints: [endpoint], prefix: '/microarp/', host, leaseSeconds: 5, username: 'microarp', password, tls: { ca: pem('ca') } });
    clients.push(c);
    return c;
  };

  before(async () => {
    // A CA, and a server certificate for 127.0.0.1 signed by it.
    openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=microarp-test-ca', '-keyout', pem('ca-key'), '-out', pem('ca'));
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', pem('server-key'), '-out', dir.file('server.csr'));
    execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${dir.file('san.cnf')}`]);
    openssl('x509', '-req', '-in', dir.file('server.csr'), '-CA', pem('ca'), '-CAkey', pem('ca-key'), '-CAcreateserial', '-days', '1', '-extfile', dir.file('san.cnf'), '-out', pem('server'));
    const [client, peer] = [await freePort(), await freePort()];
    endpoint = `https://127.0.0.1:${client}`;
    etcd = spawn('etcd', [
      '--name', 'tls0', '--data-dir', dir.file('etcd'),
      '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
      // Server TLS; clients check the server against the CA and log in with a password.
      // (--trusted-ca-file would make etcd 3.4 ask every client for a certificate.)
      '--cert-file', pem('server'), '--key-file', pem('server-key'),
      '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
      '--initial-cluster', `tls0=http://127.0.0.1:${peer}`, '--initial-cluster-token', `microarp-tls-${process.pid}`,
    ], { stdio: 'ignore' });
    for (let i = 0; ; i++) {
      try {
        etcdctl('endpoint', 'health');
        break;
      } catch (error) {
        if (i > 100) throw error;
        await sleep(100);
      }
    }
    etcdctl('user', 'add', 'root:root-secret');
    etcdctl('role', 'add', 'root');
    etcdctl('user', 'grant-role', 'root', 'root');
    etcdctl('user', 'add', 'microarp:fabric-secret');
    etcdctl('role', 'add', 'fabric');
    etcdctl('role', 'grant-permission', 'fabric', 'readwrite', '/microarp/', '--prefix=true');
    etcdctl('user', 'grant-role', 'microarp', 'fabric');
    etcdctl('auth', 'enable');
  });

  after(async () => {
    for (const c of clients) await c.stop();
    if (etcd && etcd.exitCode === null) {
      const gone = new Promise((r) => etcd!.once('exit', r));
      etcd.kill('SIGTERM');
      await gone;
    }
    dir.remove();
  });

  it('publishes and receives over TLS as an authenticated user', async () => {
    const a = client('hv-a', 'fabric-secret');
    const b = client('hv-b', 'fabric-secret');
    const seen = new Promise<string>((resolve) => b.on('put', (record) => resolve(`${record.ip} ${record.mac} ${record.host}`)));
    await b.start();
    await a.start();
    assert.equal(a.state, 'up');
    assert.equal(await a.putIntent({ ip: '10.99.0.1', mac: '02:99:00:00:00:01', vlan: 0 }), true);
    assert.equal(await seen, '10.99.0.1 02:99:00:00:00:01 hv-a');
    const stored = etcdctl('--user=root:root-secret', 'get', '--prefix', '/microarp/bindings/');
    assert.match(stored, /"ip":"10\.99\.0\.1"/);
    assert.deepEqual((await a.health()).map((h) => h.healthy), [true]);
  });

  it('a wrong password never connects, and says so', async () => {
    const logs: string[] = [];
    const c = new FabricClient({
      endpoints: [endpoint], prefix: '/microarp/', host: 'hv-x', leaseSeconds: 5, username: 'microarp', password: 'wrong', tls: { ca: pem('ca') },
      log: (_level, msg, fields) => logs.push(`${msg} ${JSON.stringify(fields)}`),
    });
    clients.push(c);
    await c.start();
    await waitFor('the refusal to be logged', () => /authentication failed|invalid user ID or password/i.test(logs.join('\n')), 10000, 50);
    assert.notEqual(c.state, 'up');
  });
});
