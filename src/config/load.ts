// Reads a config file (YAML, so JSON too) and validates it.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { Config } from './config';
import { validateConfig, type ConfigIssue } from './validate';

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(`${file}: ${issues.length} problem${issues.length === 1 ? '' : 's'}\n` +
      issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function parseConfigText(text: string, file: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(file, doc.errors.map((e) => ({
      path: e.linePos ? `line ${e.linePos[0].line}` : '(syntax)',
      message: e.message.split('\n')[0] ?? e.message,
    })));
  }
  const { config, issues } = validateConfig(doc.toJS());
  if (!config) throw new ConfigError(file, issues);
  return config;
}

export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(file, [{ path: '(file)', message: (error as Error).message }]);
  }
  return parseConfigText(text, file);
}
