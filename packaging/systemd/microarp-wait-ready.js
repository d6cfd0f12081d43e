#!/usr/bin/env node
// Waits until the daemon answers GET /readyz with 200 (table loaded, workers running): the
// ExecStartPost of microarp.service, so that `systemctl start microarp` returns, and units
// ordered After=microarp.service start, only once microarp answers ARP.
//
// usage: microarp-wait-ready.js --config FILE [--pid PID] [--timeout SECONDS]
//
// The API address is read from the config as `microarp run` reads it: api.socket, else
// api.listen (readyz needs no token). With --pid (the unit passes $MAINPID) it gives up as soon
// as that process is gone, and leaves a config that does not load for the daemon to refuse.
// Exit codes: 0 ready; 1 not ready in time, or the daemon exited; 2 usage, a config that does
// not load (without --pid), or a config with no API to ask.
'use strict';
const { request } = require('node:http');
const { join } = require('node:path');

const ME = 'microarp-wait-ready';
const POLL_MS = 200;

function fail(message, code) {
  process.stderr.write(`${ME}: ${message}\n`);
  process.exit(code);
}

function parseArgs(argv) {
  const options = { config: undefined, pid: undefined, timeout: 90 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) fail(`${flag} needs a value (usage: ${ME} --config FILE [--pid PID] [--timeout SECONDS])`, 2);
    if (flag === '--config') options.config = value;
    else if (flag === '--pid') options.pid = Number(value);
    else if (flag === '--timeout') options.timeout = Number(value);
    else fail(`unknown argument '${flag}' (usage: ${ME} --config FILE [--pid PID] [--timeout SECONDS])`, 2);
  }
  if (!options.config) fail('--config FILE is required', 2);
  if (options.pid !== undefined && !(Number.isInteger(options.pid) && options.pid > 0)) fail(`--pid must be a process id, got '${argv[argv.indexOf('--pid') + 1]}'`, 2);
  if (!(options.timeout > 0)) fail('--timeout must be a number of seconds above 0', 2);
  return options;
}

/**
 * Where /readyz is: the socket, or the TCP address (a wildcard listen is asked on loopback).
 * A config that does not load is the daemon's to refuse: with --pid, this waits for its exit
 * (systemd then has the daemon's exit code, 2, which is not restarted) rather than fail first.
 */
function target(configFile, pid) {
  const { loadConfig } = require(join(__dirname, '..', '..', 'dist', 'src', 'config', 'load.js'));
  let config;
  try {
    config = loadConfig(configFile);
  } catch (error) {
    if (pid === undefined) fail(`invalid config ${error.message}`, 2);
    return { invalid: error.message.split('\n').slice(1).map((l) => l.trim()).join('; '), where: configFile };
  }
  if (config.api.socket) return { socketPath: config.api.socket, where: config.api.socket };
  if (config.api.listen) {
    const { host, port } = config.api.listen;
    const asked = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return { host: asked, port, where: `${asked}:${port}` };
  }
  return fail(`${configFile} turns the API off (api.socket: off, no api.listen): readiness cannot be asked; drop ExecStartPost from the unit`, 2);
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/** One GET /readyz: resolves with {status, body}, rejects when nobody answers. */
function readyz(to) {
  const { where: _where, ...address } = to;
  return new Promise((resolve, reject) => {
    const req = request({ ...address, method: 'GET', path: '/readyz', timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 2 s')));
    req.on('error', reject);
    req.end();
  });
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const to = target(options.config, options.pid);
  const started = Date.now();
  let last = 'no answer yet';
  const why = () => (to.invalid ? `${to.where}: ${to.invalid}` : `last answer from ${to.where}: ${last}`);
  for (;;) {
    if (!to.invalid) {
      try {
        const { status, body } = await readyz(to);
        if (status === 200) {
          process.stdout.write(`${ME}: ready after ${((Date.now() - started) / 1000).toFixed(1)} s: ${body}\n`);
          return;
        }
        last = `HTTP ${status} ${body}`;
      } catch (error) {
        last = error.code ?? error.message;
      }
    }
    if (options.pid !== undefined && !alive(options.pid)) fail(`microarp (pid ${options.pid}) exited before it was ready (${why()})`, 1);
    if (Date.now() - started > options.timeout * 1000) fail(`microarp not ready after ${options.timeout} s (${why()})`, 1);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

main().catch((error) => fail(error.stack ?? String(error), 1));
