// test/fixtures/ecs-<version>-fields.json was made from the ECS repository's generated/ecs/ecs_flat.yml with:
//   node -e 'const d=require("yaml").parse(require("fs").readFileSync("ecs_flat.yml","utf8")); const fields={}, allowed={};
//     for (const [k,v] of Object.entries(d)) { fields[k]={type:v.type, ...((v.normalize||[]).includes("array")?{array:true}:{})};
//       if (v.allowed_values) allowed[k]=Object.fromEntries(v.allowed_values.map((a)=>[a.name,a.expected_event_types??null])); }
//     console.log(JSON.stringify({ecs_version:VERSION, source:URL, fields, allowed_values:allowed}))'
import * as fs from 'node:fs';
import { isIP } from 'node:net';
import * as path from 'node:path';
import { committedCaptures, picket, ROOT } from './helpers';

/** The reduced ECS field list (test/fixtures/README.md says where it comes from). */
export interface EcsFieldList {
  ecs_version: string;
  fields: Record<string, { type: string; array?: true }>;
  allowed_values: Record<string, Record<string, string[] | null>>;
}

export function loadEcsFields(): EcsFieldList {
  const dir = path.join(ROOT, 'test', 'fixtures');
  const name = fs.readdirSync(dir).find((f) => /^ecs-[\d.]+-fields\.json$/.test(f));
  if (name === undefined) throw new Error('no test/fixtures/ecs-*-fields.json');
  return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as EcsFieldList;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Whether one JSON scalar fits an Elasticsearch/ECS field type: what would index without a mapping error or a
 * silently different meaning (a float into a long is truncated; a number into a date is epoch millis).
 */
export function fitsType(type: string, v: unknown): boolean {
  switch (type) {
    case 'keyword': case 'constant_keyword': case 'wildcard': case 'match_only_text': case 'text':
      return typeof v === 'string';
    case 'long': case 'integer': case 'short': case 'byte':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'unsigned_long':
      return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    case 'float': case 'double': case 'scaled_float': case 'half_float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'date':
      return typeof v === 'string' && RFC3339.test(v) && Number.isFinite(Date.parse(v));
    case 'ip':
      return typeof v === 'string' && isIP(v) !== 0;
    case 'boolean':
      return typeof v === 'boolean';
    default:
      return false;
  }
}

/** One leaf of a document: its dotted path (array indexes dropped) and its value (an array of scalars stays whole). */
export interface Leaf {
  path: string;
  value: unknown;
}

/**
 * Every leaf of a document. `nestedAt(path)` says which paths hold arrays of objects (ECS nested / template
 * nested): their elements are walked under the same path.
 */
export function leaves(doc: Record<string, unknown>, nestedAt: (p: string) => boolean): Leaf[] {
  const out: Leaf[] = [];
  const walk = (v: unknown, p: string): void => {
    if (Array.isArray(v) && v.length > 0 && v.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x)) && nestedAt(p)) {
      for (const x of v) walk(x, p);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, p === '' ? k : `${p}.${k}`);
    } else {
      out.push({ path: p, value: v });
    }
  };
  walk(doc, '');
  return out;
}

/** A leaf's value fits `type`: each element of an array, or the scalar. Empty arrays fit anything (nothing is indexed). */
export function leafFits(type: string, value: unknown): boolean {
  return Array.isArray(value) ? value.every((x) => fitsType(type, x)) : fitsType(type, value);
}

let cached: Array<Record<string, unknown>> | null = null;

/**
 * Every document picket writes over the bundled captures: each capture replayed on its own with --metadata, as a
 * user would replay it, so alerts, protocol events and the final stats document of every run are all here.
 */
export function allDocuments(): Array<Record<string, unknown>> {
  if (cached !== null) return cached;
  const docs: Array<Record<string, unknown>> = [];
  for (const file of committedCaptures()) {
    const r = picket(['replay', '--metadata', '--quiet', file]);
    if (r.code !== 0) throw new Error(`replay of ${file} exited ${r.code}: ${r.stderr}`);
    docs.push(...r.docs);
  }
  cached = docs;
  return docs;
}
