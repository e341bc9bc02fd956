import type * as Yaml from 'yaml';
import type { Document, Node, Scalar, YAMLMap, YAMLSeq } from 'yaml';
import { PicketError } from '../errors';
import { parseDuration } from './duration';

let yamlLib: typeof Yaml | null = null;

/**
 * The yaml library, loaded at the first parse rather than at start-up: a run whose rules come from the rules
 * cache (rules-cache.ts) and that has no config file never loads it (~40 ms, and the parse's JIT work). The rule
 * readers take its node tests and parser from here.
 */
function yaml(): typeof Yaml {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (yamlLib ??= require('yaml') as typeof Yaml);
}

export function isMap(node: unknown): node is YAMLMap {
  return yaml().isMap(node);
}

export function isScalar(node: unknown): node is Scalar {
  return yaml().isScalar(node);
}

export function isSeq(node: unknown): node is YAMLSeq {
  return yaml().isSeq(node);
}

/**
 * A YAML document with its nodes' ranges (for errors that name the line, through the RuleFile's line counter); text
 * that is not YAML stops with the file and line of its first error.
 */
export function parseDocument(text: string, rf: RuleFile): Document.Parsed {
  const doc = yaml().parseDocument(text, { lineCounter: rf.lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new PicketError(`${rf.file}:${rf.lines.linePos(err.pos[0]).line}: not valid YAML: ${err.message.split('\n')[0]}`);
  }
  return doc;
}

/** Reading typed values out of a YAML rules file; every error names the file and line. */
export class RuleFile {
  readonly lines = new (yaml().LineCounter)();
  constructor(readonly file: string) {}
  fail(node: Node | null | undefined, msg: string): never {
    const at = node?.range?.[0];
    const line = at === undefined ? 1 : this.lines.linePos(at).line;
    throw new PicketError(`${this.file}:${line}: ${msg}`);
  }
  line(node: Node | null | undefined): number {
    const at = node?.range?.[0];
    return at === undefined ? 1 : this.lines.linePos(at).line;
  }
}

export function scalarString(rf: RuleFile, map: YAMLMap, key: string, required: boolean): string {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined) {
    if (required) rf.fail(map, `missing "${key}"`);
    return '';
  }
  if (!isScalar(node) || (typeof node.value !== 'string' && typeof node.value !== 'number')) rf.fail(node, `"${key}" must be a string`);
  return String(node.value);
}

export function checkAllowedKeys(rf: RuleFile, map: YAMLMap, allowed: string[]): void {
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!allowed.includes(k)) rf.fail(pair.key as Node, `unknown key "${k}" (allowed: ${allowed.join(', ')})`);
  }
}

export function stringList(rf: RuleFile, map: YAMLMap, key: string): string[] {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined) return [];
  if (isScalar(node)) return [String(node.value)];
  if (!isSeq(node)) rf.fail(node, `"${key}" must be a string or a list of strings`);
  return (node.items as Node[]).map((n) => {
    if (!isScalar(n)) rf.fail(n, `"${key}" must be a list of strings`);
    return String(n.value);
  });
}

/** A positive whole number ('count') or a duration in seconds ('duration': 90s, 15m, 1h), or undefined when absent. */
export function numberAt(rf: RuleFile, map: YAMLMap, key: string, kind: 'count' | 'duration'): number | undefined {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined) return undefined;
  const raw = isScalar(node) ? node.value : undefined;
  const v = kind === 'duration' ? parseDuration(raw) : Number(raw);
  if (kind === 'count' ? !Number.isInteger(v) || v < 1 : Number.isNaN(v)) {
    rf.fail(node, kind === 'count' ? `"${key}" must be a positive whole number` : `"${key}" must be a duration such as 90s, 15m, 1h`);
  }
  return v;
}

/**
 * Sets each number the table names from the mapping, leaving absent keys at their defaults: table rows are
 * [yaml key, field, count | duration].
 */
export function assignNumbers<T>(rf: RuleFile, map: YAMLMap, into: T, table: ReadonlyArray<readonly [string, keyof T & string, 'count' | 'duration']>): void {
  for (const [key, field, kind] of table) {
    const v = numberAt(rf, map, key, kind);
    if (v !== undefined) (into as Record<string, unknown>)[field] = v;
  }
}
