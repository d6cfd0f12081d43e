// `microarp config schema`: the JSON Schema it prints, checked as an editor uses it, with ajv
// on the printed text: it accepts every config the repository has or the test suite writes,
// refuses bad ones where check-config does, and says what every key means and defaults to.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { before, describe, it } from 'node:test';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { CONFIG_SCHEMA } from '../src/config/schema';
import { validateConfig } from '../src/config/validate';
import { SUITE_CONFIGS, everyKey } from './helpers/config_corpus';
import { REPO, runCli } from './helpers/daemon';

type Node = { [keyword: string]: unknown };

/** A fresh ajv in strict mode, told only that the two message keywords are annotations. */
function editorAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true });
  ajv.addVocabulary(['errorMessage', 'patternErrorMessage']);
  return ajv;
}

/** ajv's errors as the paths check-config names (`ports[0].device`). */
function errorPaths(errors: ErrorObject[] | null | undefined, data: unknown): string[] {
  return (errors ?? []).map((e) => {
    const params = e.params as Record<string, string | undefined>;
    const parts = e.instancePath.split('/').slice(1);
    const child = e.keyword === 'required' ? params.missingProperty : params.additionalProperty ?? params.propertyName;
    if (child !== undefined) parts.push(child);
    let path = '';
    let value = data;
    for (const part of parts) {
      path += Array.isArray(value) ? `[${part}]` : path ? `.${part}` : part;
      value = (value as Record<string, unknown> | undefined)?.[part];
    }
    return path;
  });
}

/** YAML and JSON files under `dir` (recursively) that are microarp configs: a mapping with `ports`, or named microarp.*. */
function configFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const file = join(dir, name);
    if (statSync(file).isDirectory()) return name === 'node_modules' ? [] : configFiles(file);
    if (!/\.(ya?ml|json)$/.test(name)) return [];
    let doc: unknown;
    try {
      doc = parse(readFileSync(file, 'utf8'));
    } catch {
      return /^microarp\./.test(name) ? [file] : [];
    }
    const isConfig = typeof doc === 'object' && doc !== null && 'ports' in doc;
    return isConfig || /^microarp\./.test(name) ? [file] : [];
  });
}

/** Every node of the schema, with the path that leads to it, $refs followed once. */
function walk(node: Node, at: string, visit: (node: Node, at: string) => void): void {
  visit(node, at);
  const definitions = (CONFIG_SCHEMA.definitions as Record<string, Node>);
  if (typeof node.$ref === 'string') walk(definitions[node.$ref.replace('#/definitions/', '')]!, at, visit);
  for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Node>)) walk(child, at ? `${at}.${key}` : key, visit);
  if (typeof node.items === 'object') walk(node.items as Node, `${at}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as Node, `${at}.*`, visit);
  for (const [i, branch] of ((node.anyOf ?? node.allOf ?? []) as Node[]).entries()) walk(branch, `${at}|${i}`, visit);
}

/** The key paths a config uses, in walk()'s spelling (branches left out). */
function keyPaths(value: unknown, at: string, out: Set<string>, mapOf: Set<string>): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => keyPaths(item, `${at}[]`, out, mapOf));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) {
      const path = mapOf.has(at) ? `${at}.*` : at ? `${at}.${key}` : key;
      out.add(path);
      keyPaths(child, path, out, mapOf);
    }
  }
  return out;
}

describe('microarp config schema', () => {
  let printed: Node;
  let check: ValidateFunction;
  const accepts = (config: unknown): string => (check(config) ? '' : JSON.stringify(check.errors, null, 1));

  before(async () => {
    const r = await runCli(['config', 'schema']);
    assert.equal(r.code, 0, r.stderr);
    printed = JSON.parse(r.stdout) as Node;
    check = editorAjv().compile(printed);
  });

  it('prints the schema microarp validates with, a valid draft-07 schema that ajv compiles in strict mode', () => {
    assert.equal(printed.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.equal(editorAjv().validateSchema(printed), true);
    assert.deepEqual(printed, CONFIG_SCHEMA, 'the printed text is the validating schema itself');
  });

  it('accepts every config file in the repository: examples, the bare-metal kit, packaging, test fixtures', (t) => {
    const files = ['examples', 'benchmarks/bare-metal', 'packaging', 'test/fixtures'].flatMap((d) => configFiles(join(REPO, d)));
    const names = files.map((f) => relative(REPO, f));
    t.diagnostic(`config files: ${names.join(', ')}`);
    for (const expected of ['examples/pcap-responder.yaml', 'benchmarks/bare-metal/microarp.yaml']) assert.ok(names.includes(expected), `${expected} found`);
    for (const file of files) {
      const doc = parse(readFileSync(file, 'utf8')) as unknown;
      assert.equal(accepts(doc), '', relative(REPO, file));
    }
  });

  it('accepts the configs the test suite and the demo write, and one with every key; check-config accepts them too', () => {
    const dir = mkdtempSync(join(tmpdir(), 'microarp-schema-'));
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'not checked here, only its existence\n');
      const configs = { ...SUITE_CONFIGS, 'every key': everyKey(dir) };
      for (const [name, config] of Object.entries(configs)) {
        assert.equal(accepts(config), '', name);
        const { issues } = validateConfig(config, { ETCD_PW: 'pw', OTHER_TOKEN: 'x'.repeat(16) });
        assert.deepEqual(issues, [], name);
      }
      // The config with every key uses every key the schema has, and no other. Branches (anyOf)
      // spell no key: a path through one is the key's path.
      const schemaKeys = new Set<string>();
      const maps = new Set<string>();
      walk(printed, '', (node, at) => {
        const key = at.replace(/\|\d+/g, '');
        if (key && !key.endsWith('[]')) schemaKeys.add(key);
        if (typeof node.additionalProperties === 'object') maps.add(key);
      });
      const used = keyPaths(everyKey(dir), '', new Set(), maps);
      assert.deepEqual([...schemaKeys].filter((k) => !used.has(k)), [], 'schema keys the every-key config does not set');
      assert.deepEqual([...used].filter((k) => !schemaKeys.has(k)), [], 'keys set that the schema does not have');
      assert.ok(schemaKeys.size > 70, `${schemaKeys.size} keys`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad configs at the path check-config names', () => {
    const P = { name: 'p0', device: 'net_ring0' };
    const bad: [string, Record<string, unknown>][] = [
      ['ports', { ports: [] }],
      ['ports', {}],
      ['ports[0].device', { ports: [{ name: 'p0' }] }],
      ['ports[0].device', { ports: [{ name: 'p0', device: 'eth0' }] }],
      ['ports[0].name', { ports: [{ name: 'a name with spaces', device: 'net_ring0' }] }],
      ['colour', { ports: [P], colour: 'blue' }],
      ['ports[0].colour', { ports: [{ ...P, colour: 'blue' }] }],
      ['ports[0].vlan', { ports: [{ ...P, mode: 'access', vlan: 5000 }] }],
      ['ports[0].vlans', { ports: [{ ...P, mode: 'trunk', vlans: [10, 10] }] }],
      ['ports[0].allowed_subnets[0]', { ports: [{ ...P, allowed_subnets: ['10.0.0.0/33'] }] }],
      ['ports[0].arp_rate', { ports: [{ ...P, arp_rate: 'on' }] }],
      ['ports[0].nd_rate', { ports: [{ ...P, nd_rate: true }] }],
      ['bindings[0].mac', { ports: [P], bindings: [{ ip: '10.0.0.1', mac: '01:00:5e:00:00:01' }] }],
      ['bindings[0].mac', { ports: [P], bindings: [{ ip: '10.0.0.1', mac: '00:00:00:00:00:00' }] }],
      ['bindings[0].ip', { ports: [P], bindings: [{ ip: '10.0.0.01', mac: '02:00:00:00:00:01' }] }],
      ['bindings[0].ip', { ports: [P], bindings: [{ ip: 'ff02::1:ff00:7', mac: '02:00:00:00:00:01' }] }],
      ['bindings[0].ip', { ports: [P], bindings: [{ ip: '0::0', mac: '02:00:00:00:00:01' }] }],
      ['bindings[0].ip', { ports: [P], bindings: [{ ip: 'fe80::1%eth0', mac: '02:00:00:00:00:01' }] }],
      ['bindings[0].ip', { ports: [P], bindings: [{ ip: '2001:db8::1::2', mac: '02:00:00:00:00:01' }] }],
      ['bindings[0].router', { ports: [P], bindings: [{ ip: '2001:db8::1', mac: '02:00:00:00:00:01', router: 'yes' }] }],
      ['ports[0].router', { ports: [{ ...P, router: 1 }] }],
      ['ports[0].allowed_subnets[1]', { ports: [{ ...P, allowed_subnets: ['10.0.0.0/8', '2001:db8::/129'] }] }],
      ['table.ipv6_capacity', { ports: [P], table: { ipv6_capacity: 0 } }],
      ['workers', { ports: [P], workers: 0 }],
      ['workers[0]', { ports: [P], workers: [128] }],
      ['learning', { ports: [P], learning: 'on' }],
      ['learning.subnets.5000', { ports: [P], learning: { subnets: { 5000: [] } } }],
      ['metrics.listen', { ports: [P], metrics: { listen: '127.0.0.1:70000' } }],
      ['api.socket', { ports: [P], api: { socket: 'relative.sock' } }],
      ['api.token', { ports: [P], api: { token: 'short' } }],
      ['hugepages', { ports: [P], hugepages: 'yes' }],
      ['mbufs', { ports: [P], mbufs: 100 }],
      ['state_dir', { ports: [P], state_dir: 'relative/dir' }],
      ['fabric', { ports: [P], fabric: false }],
      ['fabric.etcd.prefix', { ports: [P], fabric: { etcd: { endpoints: ['http://10.0.0.1:2379'], prefix: 'no-slashes' } } }],
      ['fabric.etcd.tls', { ports: [P], fabric: { etcd: { endpoints: ['http://10.0.0.1:2379'], tls: { cert: '/c.pem' } } } }],
    ];
    for (const [path, config] of bad) {
      assert.equal(check(config), false, `the schema refuses ${JSON.stringify(config)}`);
      assert.ok(errorPaths(check.errors, config).includes(path), `${path} in ${errorPaths(check.errors, config).join(', ')}`);
      assert.ok(validateConfig(config, {}).issues.some((i) => i.path === path), `check-config names ${path}`);
    }
  });

  it('leaves to check-config only what needs more than one value, the environment or files', () => {
    const P = { name: 'p0', device: 'net_ring0' };
    const onlyCode: [string, Record<string, unknown>][] = [
      ['ports[1].name', { ports: [P, { ...P, device: 'net_ring1' }] }],
      ['ports[1].device', { ports: [P, { name: 'p1', device: 'net_ring0,size=4' }] }],
      ['ports[0].vlan', { ports: [{ ...P, vlan: 10 }] }],
      ['ports[0].allowed_subnets[0]', { ports: [{ ...P, allowed_subnets: ['10.0.0.1/24'] }] }],
      ['bindings[1]', { ports: [P], bindings: [{ ip: '10.0.0.1', mac: '02:00:00:00:00:01' }, { ip: '10.0.0.1', mac: '02:00:00:00:00:02', vlan: 0 }] }],
      ['bindings', { ports: [P], table: { capacity: 1 }, bindings: [{ ip: '10.0.0.1', mac: '02:00:00:00:00:01' }, { ip: '10.0.0.2', mac: '02:00:00:00:00:02' }] }],
      ['api.listen', { ports: [P], api: { listen: '127.0.0.1:0' } }],
      ['bindings[0].router', { ports: [P], bindings: [{ ip: '10.0.0.1', mac: '02:00:00:00:00:01', router: true }] }],
      ['bindings[1]', { ports: [P], bindings: [{ ip: '2001:db8::1', mac: '02:00:00:00:00:01' }, { ip: '2001:DB8:0:0::1', mac: '02:00:00:00:00:02' }] }],
      ['ports[0].allowed_subnets[0]', { ports: [{ ...P, allowed_subnets: ['2001:db8::1/64'] }] }],
      ['table.ipv6_capacity', { ports: [P], table: { capacity: 10, ipv6_capacity: 11 } }],
      ['fabric.etcd.tls.ca', { ports: [{ ...P, uplink: true }], fabric: { host: 'h', etcd: { endpoints: ['http://10.0.0.1:2379'], tls: { ca: '/nonexistent/ca.pem' } } } }],
    ];
    for (const [path, config] of onlyCode) {
      assert.equal(accepts(config), '', `the schema accepts ${JSON.stringify(config)}`);
      assert.deepEqual(validateConfig(config, {}).issues.map((i) => i.path), [path]);
    }
  });

  it('describes every key, bounds every integer, explains every pattern, and its defaults are the defaults', () => {
    let defaults = 0;
    const ajv = editorAjv();
    walk(printed, '', (node, at) => {
      if (at && !/\|\d+$|\[\]$|\*$/.test(at)) assert.equal(typeof node.description, 'string', `${at} has a description`);
      if (node.type === 'integer') assert.ok(typeof node.minimum === 'number' && typeof node.maximum === 'number', `${at} is bounded`);
      if (node.pattern !== undefined) assert.equal(typeof node.errorMessage, 'string', `${at} says what its pattern means`);
      if (node.properties) assert.equal(node.additionalProperties, false, `${at || '(top)'} refuses unknown keys`);
      if ('default' in node) {
        defaults++;
        const valid = ajv.compile({ ...node, definitions: printed.definitions });
        assert.ok(valid(node.default), `${at}'s default ${JSON.stringify(node.default)} is valid: ${JSON.stringify(valid.errors)}`);
      }
    });
    assert.ok(defaults >= 40, `${defaults} defaults`);

    // A file that spells out every default is the same config as one that leaves them out.
    const definitions = printed.definitions as Record<string, Node>;
    const resolve = (n: Node): Node => (typeof n.$ref === 'string' ? definitions[n.$ref.replace('#/definitions/', '')]! : n);
    const spelled = (node: Node, top: boolean): unknown => {
      if ('default' in node) return node.default;
      const object = [resolve(node), ...((resolve(node).anyOf ?? []) as Node[])].find((n) => n.type === 'object' && n.properties);
      if (!object || (!top && Array.isArray(object.required))) return undefined;
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(object.properties as Record<string, Node>)) {
        const value = spelled(child, false);
        if (value !== undefined) out[k] = value;
      }
      return out;
    };
    const port = { name: 'p0', device: 'net_ring0' };
    const portSchema = (printed.properties as Record<string, Node>).ports!.items as Node;
    const explicit = { ...(spelled(printed, true) as object), ports: [{ ...port, ...(spelled(portSchema, true) as object) }] };
    assert.ok(JSON.stringify(explicit).length > 600, JSON.stringify(explicit));
    assert.equal(accepts(explicit), '');
    assert.deepEqual(validateConfig(explicit, {}), validateConfig({ ports: [port] }, {}));
  });

  it('--help says what it prints and how an editor uses it', async () => {
    const top = await runCli(['--help']);
    assert.match(top.stdout, /\n {2}config +about the config file: its JSON Schema\n/);
    const group = await runCli(['config', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /Usage: microarp config/);
    assert.match(group.stdout, /Example:\n\s+microarp config schema > microarp\.schema\.json/);
    const r = await runCli(['config', 'schema', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: microarp config schema/);
    assert.match(r.stdout, /JSON Schema \(draft-07\)/);
    assert.match(r.stdout, /Examples:\n\s+microarp config schema > microarp\.schema\.json/);
    assert.match(r.stdout, /# yaml-language-server: \$schema=\.\/microarp\.schema\.json/);
  });
});
