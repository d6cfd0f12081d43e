#!/usr/bin/env node
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const entry = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write(
    `microarp: not built yet (${entry} is missing): run 'bash scripts/setup.sh' in ${join(__dirname, '..')}\n`,
  );
  process.exit(1);
}
require(entry).main(process.argv);
