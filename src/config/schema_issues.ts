// Checks a parsed config file against the schema with ajv and words each problem as a
// ConfigIssue: the path as the file spells it (`ports[1].vlan`) and what the value must be,
// with what it was (`must be an integer from 1 to 4094, got 5000`).
import type { default as Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { CONFIG_SCHEMA, type Schema } from './schema';
import type { ConfigIssue } from './validate';

let compiled: ValidateFunction | undefined;

/** The schema's validator, loaded and compiled on first use: most commands never read a config. */
function validator(): ValidateFunction {
  if (!compiled) {
    const ajv = new (require('ajv') as { default: typeof Ajv }).default({ allErrors: true, verbose: true, strict: true });
    ajv.addVocabulary(['errorMessage', 'patternErrorMessage']);
    compiled = ajv.compile(CONFIG_SCHEMA);
  }
  return compiled;
}

/** Every way `raw` breaks the schema, one issue each; [] if it fits. */
export function schemaIssues(raw: unknown): ConfigIssue[] {
  const check = validator();
  if (check(raw)) return [];
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const error of unionsResolved(check.errors ?? [])) {
    const issue = describe(error, raw);
    const key = `${issue.path}\n${issue.message}`;
    if (!seen.has(key)) issues.push(issue);
    seen.add(key);
  }
  return issues;
}

/**
 * ajv reports every branch of a failed anyOf. When the value's type fits one branch only (a
 * list given for `workers`), that branch's errors say what is wrong; otherwise the union's own
 * message does (`must be off, or a mapping ...`).
 */
function unionsResolved(errors: ErrorObject[]): ErrorObject[] {
  let kept = errors;
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const union of unions) {
    if (!kept.includes(union)) continue; // inside a branch already dropped
    const within = (e: ErrorObject, prefix: string): boolean => e.schemaPath.startsWith(prefix) &&
      (e.instancePath === union.instancePath || e.instancePath.startsWith(`${union.instancePath}/`));
    const fitting = (union.schema as Schema[]).flatMap((branch, i) => (fits(branch, union.data) ? [i] : []));
    kept = kept.filter((e) => {
      if (e === union) return fitting.length !== 1;
      if (!within(e, `${union.schemaPath}/`)) return true;
      return fitting.length === 1 && within(e, `${union.schemaPath}/${fitting[0]}/`);
    });
  }
  // A property name's own error repeats the propertyNames error ajv gives with it.
  return kept.filter((e) => e.propertyName === undefined);
}

/** Whether a branch is for values of this JSON type (const and enum branches are named by the union's message). */
function fits(branch: Schema, value: unknown): boolean {
  const type = resolve(branch).type as string | string[] | undefined;
  const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return [type ?? []].flat().some((t) => t === actual || (t === 'integer' && actual === 'number'));
}

function resolve(schema: Schema): Schema {
  const target = typeof schema.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(schema.$ref)?.[1] : undefined;
  return target ? (CONFIG_SCHEMA.definitions as Record<string, Schema>)[target]! : schema;
}

function describe(error: ErrorObject, raw: unknown): ConfigIssue {
  const node = error.parentSchema as Schema;
  const path = pathOf(error.instancePath, raw);
  const params = error.params as { additionalProperty: string; missingProperty: string; propertyName: string; j: number; property: string; deps: string };
  const under = (key: string): string => (path ? `${path}.${key}` : key);
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: under(params.additionalProperty), message: `unknown key (expected one of: ${Object.keys(node.properties as Schema).join(', ')})` };
    case 'required': {
      const key = params.missingProperty;
      return { path: under(key), message: `missing (${expectation((node.properties as Record<string, Schema>)[key]!)})` };
    }
    case 'propertyNames':
      return { path: under(params.propertyName), message: expectation(node.propertyNames as Schema) };
    case 'uniqueItems':
      return { path, message: `lists ${shown((error.data as unknown[])[params.j])} twice` };
    case 'dependencies':
      return { path, message: `${params.property} and ${params.deps} go together` };
    default:
      return { path: path || '(top)', message: `${expectation(node)}${node.writeOnly ? '' : `, got ${shown(error.data)}`}` };
  }
}

/** What a value of this schema must be, in words. */
function expectation(schema: Schema): string {
  const s = resolve(schema);
  if (typeof s.errorMessage === 'string') return s.errorMessage;
  if (s.type === 'integer') return `must be an integer from ${s.minimum as number} to ${s.maximum as number}`;
  if (Array.isArray(s.enum)) return `must be one of ${s.enum.join(' | ')}`;
  if (s.type === 'boolean') return 'must be true or false';
  if (s.type === 'string') return s.minLength ? `must be a string of at least ${s.minLength as number} characters` : 'must be a string';
  if (s.type === 'object' && s.properties) {
    const required = (s.required ?? []) as string[];
    return `must be a mapping {${Object.keys(s.properties).map((k) => (required.includes(k) ? k : `${k}?`)).join(', ')}}`;
  }
  return s.type === 'array' ? 'must be a list' : `must be ${String(s.type ?? 'something else')}`;
}

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.length ? `a list of ${value.length}` : 'an empty list';
  if (value === null || value === undefined) return 'nothing';
  return typeof value === 'object' ? 'a mapping' : JSON.stringify(value);
}

/** `/ports/1/vlan` as the file spells it: `ports[1].vlan`. */
function pathOf(pointer: string, raw: unknown): string {
  let path = '';
  let value = raw;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    path += Array.isArray(value) ? `[${key}]` : path ? `.${key}` : key;
    value = (value as Record<string, unknown> | undefined)?.[key];
  }
  return path;
}
