// `microarp bindings add|del|list|import|export`: the running daemon's table.
import { Command, InvalidArgumentError, Option } from 'commander';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ipField, macField, prefixAnyField, vlanField, FieldError } from '../api/binding_input';
import { ApiClientError, expectOk, readResponse } from '../api/client';
import { formatIp } from '../dataplane/address';
import { CliError, EXIT_USAGE } from './exit_codes';
import { clientFor, table, withTarget, type TargetOptions } from './target';

/** For option parsers: commander reports the message and exits 2. */
function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FieldError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** For positional arguments checked inside an action. */
function argument<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof FieldError) throw new CliError(error.message, EXIT_USAGE);
    throw error;
  }
}

const vlanOption = (): Option =>
  new Option('--vlan <id>', 'VLAN (0 = untagged)').argParser((v) => checked(() => vlanField(v))).default(0);

function out(options: TargetOptions, json: unknown, text: string): void {
  process.stdout.write(options.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
}

function add(): Command {
  return withTarget(new Command('add'))
    .description('bind IP to MAC; refuses an IP bound to another MAC unless --replace')
    .argument('<ip>', 'IPv4 or IPv6 address')
    .argument('<mac>', 'MAC address (aa:bb:cc:dd:ee:ff)')
    .addOption(vlanOption())
    .option('--replace', 'replace an existing binding to another MAC')
    .option('--router', "IPv6: the address is a router's (R set in the Neighbor Advertisements)")
    .addHelpText('after', '\nExamples:\n  microarp bindings add 10.0.0.7 02:00:00:00:00:07 --vlan 10\n  microarp bindings add 2001:db8::1 02:00:00:00:00:01 --router')
    .action(async (ipText: string, macText: string, options: TargetOptions & { vlan: number; replace?: boolean; router?: boolean }) => {
      const ip = argument(() => ipField(ipText));
      argument(() => macField(macText));
      if (options.router && typeof ip === 'number') throw new CliError('--router: only an IPv6 binding has a router flag', EXIT_USAGE);
      const client = clientFor(options);
      const router = options.router ? { router: true } : {};
      const body = { ip: formatIp(ip), mac: macText.toLowerCase().replace(/-/g, ':'), vlan: options.vlan, ...router };
      const result = options.replace
        ? expectOk(await client.call('PUT', `/v1/bindings/${encodeURIComponent(body.ip)}`, { mac: body.mac, vlan: options.vlan, ...router }))
        : expectOk(await client.call('POST', '/v1/bindings', body));
      const previous = result.previous_mac ? ` (was ${result.previous_mac as string})` : '';
      const flags = options.router ? ' (router)' : '';
      out(options, result, `${result.outcome as string}: ${body.ip}${options.vlan ? ` vlan ${options.vlan}` : ''} -> ${body.mac}${flags}${previous}`);
    });
}

function del(): Command {
  return withTarget(new Command('del'))
    .alias('delete')
    .description('remove the binding of an IP')
    .argument('<ip>', 'IPv4 or IPv6 address')
    .addOption(vlanOption())
    .addHelpText('after', '\nExamples:\n  microarp bindings del 10.0.0.7 --vlan 10\n  microarp bindings del 2001:db8::7')
    .action(async (ipText: string, options: TargetOptions & { vlan: number }) => {
      const ip = formatIp(argument(() => ipField(ipText)));
      const result = expectOk(await clientFor(options).call('DELETE', `/v1/bindings/${encodeURIComponent(ip)}?vlan=${options.vlan}`));
      out(options, result, `removed: ${ip}${options.vlan ? ` vlan ${options.vlan}` : ''}`);
    });
}

function list(): Command {
  return withTarget(new Command('list'))
    .alias('ls')
    .description('list bindings in (VLAN, IP) order, IPv4 before IPv6 in a VLAN, optionally filtered')
    .addOption(new Option('--vlan <id>', 'only this VLAN').argParser((v) => checked(() => vlanField(v))))
    .addOption(new Option('--prefix <cidr>', 'only IPs in this prefix, e.g. 10.0.0.0/24 or 2001:db8::/64').argParser((v) => (checked(() => prefixAnyField(v)), v)))
    .addOption(new Option('--mac <mac>', 'only this MAC').argParser((v) => (checked(() => macField(v)), v)))
    .addOption(new Option('--limit <n>', 'at most n bindings (0 = all)').argParser(positiveInt).default(100))
    .addHelpText('after', '\nExamples:\n  microarp bindings list --prefix 10.0.0.0/24\n  microarp bindings list --vlan 10 --limit 0 --json')
    .action(async (options: TargetOptions & { vlan?: number; prefix?: string; mac?: string; limit: number }) => {
      const client = clientFor(options);
      const bindings: { ip: string; mac: string; vlan: number; router?: boolean }[] = [];
      let cursor: string | undefined;
      let total = 0;
      do {
        const want = options.limit === 0 ? 10000 : Math.min(10000, options.limit - bindings.length);
        const q = new URLSearchParams({ limit: String(want) });
        if (options.vlan !== undefined) q.set('vlan', String(options.vlan));
        if (options.prefix) q.set('prefix', options.prefix);
        if (options.mac) q.set('mac', options.mac);
        if (cursor) q.set('cursor', cursor);
        const page = expectOk(await client.call('GET', `/v1/bindings?${q}`));
        bindings.push(...(page.bindings as typeof bindings));
        total = page.total as number;
        cursor = page.next_cursor as string | undefined;
      } while (cursor && (options.limit === 0 || bindings.length < options.limit));
      const more = cursor ? `\n(more: raise --limit, or --limit 0 for all)` : '';
      // The ROUTER column only when some binding shown is IPv6.
      const six = bindings.some((b) => b.router !== undefined);
      const rows = bindings.map((b) => (six ? [b.ip, b.vlan, b.mac, b.router ? 'yes' : b.router === false ? 'no' : ''] : [b.ip, b.vlan, b.mac]));
      out(options, bindings, `${table(six ? ['IP', 'VLAN', 'MAC', 'ROUTER'] : ['IP', 'VLAN', 'MAC'], rows)}\n${bindings.length} shown, ${total} in the table${more}`);
    });
}

function positiveInt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError('must be a whole number');
  return Number(v);
}

function progress(total: number): Transform {
  let sent = 0;
  let last = 0;
  const draw = (): void => {
    const ratio = total ? sent / total : 1;
    const width = 30;
    const bar = '#'.repeat(Math.round(ratio * width)).padEnd(width, '.');
    process.stderr.write(`\rimporting [${bar}] ${(ratio * 100).toFixed(0).padStart(3)}%`);
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      if (Date.now() - last > 100) {
        last = Date.now();
        draw();
      }
      done(null, chunk);
    },
    flush(done) {
      draw();
      process.stderr.write('\n');
      done();
    },
  });
}

function importCommand(): Command {
  return withTarget(new Command('import'))
    .description('import bindings from a CSV (ip,mac[,vlan[,router]]) or NDJSON ({"ip","mac","vlan","router"}) file, IPv4 or IPv6; all or nothing unless --skip-bad')
    .argument('<file>', "file to import ('-' for standard input)")
    .addOption(new Option('--format <format>', 'file format (default: from the extension, else ndjson)').choices(['csv', 'ndjson']))
    .option('--skip-bad', 'import the good lines even if some are bad (bad ones are reported)')
    .addHelpText('after', '\nExamples:\n  microarp bindings import hosts.csv\n  microarp bindings export > all.ndjson && microarp bindings import all.ndjson')
    .action(async (file: string, options: TargetOptions & { format?: 'csv' | 'ndjson'; skipBad?: boolean }) => {
      const format = options.format ?? (file.endsWith('.csv') ? 'csv' : 'ndjson');
      let size = 0;
      if (file !== '-') {
        try {
          size = statSync(file).size;
        } catch (error) {
          throw new CliError(`cannot read ${file}: ${(error as Error).message}`, EXIT_USAGE);
        }
      }
      const input = file === '-' ? process.stdin : createReadStream(file);
      const body = process.stderr.isTTY && !options.json && size > 0 ? input.pipe(progress(size)) : input;
      const q = new URLSearchParams({ format, ...(options.skipBad ? { skip_bad: 'true' } : {}) });
      const res = await clientFor(options).raw('POST', `/v1/bindings/import?${q}`, body, {
        'content-type': format === 'csv' ? 'text/csv' : 'application/x-ndjson',
      });
      const response = await readResponse(res);
      const r = (response.body ?? {}) as Record<string, unknown>;
      const errors = (r.errors ?? []) as { line: number; message: string }[];
      const errorLines = errors.map((e) => `  line ${e.line}: ${e.message}`);
      if (response.status === 400 && r.rejected !== undefined) {
        if (options.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else process.stderr.write(`${errorLines.join('\n')}\n`);
        throw new CliError(`${r.rejected as number} bad line(s) in ${file}; nothing was imported (use --skip-bad to import the good ones)`, EXIT_USAGE);
      }
      expectOk(response);
      if (errorLines.length && !options.json) process.stderr.write(`skipped bad lines:\n${errorLines.join('\n')}\n`);
      out(
        options,
        r,
        `imported ${r.imported as number} (added ${r.added as number}, replaced ${r.replaced as number}, unchanged ${r.unchanged as number}), ` +
          `rejected ${r.rejected as number}${(r.table_full as number) > 0 ? `, ${r.table_full as number} did not fit (table full)` : ''}` +
          `${(r.outranked as number) > 0 ? `, ${r.outranked as number} kept by a static binding` : ''}`,
      );
    });
}

function exportCommand(): Command {
  return withTarget(new Command('export'))
    .description('write every binding as NDJSON (or CSV: ip,mac,vlan, and a fourth cell "true" for an IPv6 router\'s) to stdout or a file')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .addOption(new Option('--format <format>', 'output format').choices(['ndjson', 'csv']).default('ndjson'))
    .addOption(new Option('--vlan <id>', 'only this VLAN').argParser((v) => checked(() => vlanField(v))))
    .addHelpText('after', '\nExample:\n  microarp bindings export --format csv -o bindings.csv')
    .action(async (options: TargetOptions & { output?: string; format: 'ndjson' | 'csv'; vlan?: number }) => {
      const q = options.vlan !== undefined ? `?vlan=${options.vlan}` : '';
      const res = await clientFor(options).raw('GET', `/v1/bindings/export${q}`);
      if (res.statusCode !== 200) expectOk(await readResponse(res));
      const sink = options.output ? createWriteStream(options.output) : process.stdout;
      let rest = '';
      const toCsv = new Transform({
        transform(chunk: Buffer, _e, done) {
          const lines = (rest + chunk.toString()).split('\n');
          rest = lines.pop()!;
          done(null, lines.filter(Boolean).map((l) => {
            const b = JSON.parse(l) as { ip: string; mac: string; vlan: number; router?: boolean };
            // A fourth cell only for an IPv6 router's binding: import reads ip,mac[,vlan[,router]].
            return `${b.ip},${b.mac},${b.vlan}${b.router ? ',true' : ''}\n`;
          }).join(''));
        },
      });
      if (options.format === 'csv') {
        sink.write('ip,mac,vlan\n');
        await pipeline(res, toCsv, sink);
      } else {
        await pipeline(res, sink);
      }
    });
}

export function bindingsCommand(): Command {
  return new Command('bindings')
    .description("change or read the running daemon's binding table")
    .addCommand(add())
    .addCommand(del())
    .addCommand(list())
    .addCommand(importCommand())
    .addCommand(exportCommand())
    .addHelpText('after', '\nExamples:\n  microarp bindings add 10.0.0.7 02:00:00:00:00:07\n  microarp bindings list --vlan 10');
}

export { ApiClientError };
