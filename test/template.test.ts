import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { allDocuments, fitsType, leaves, loadEcsFields } from './ecs-check';
import { ROOT } from './helpers';

interface Mapping {
  type?: string;
  properties?: Record<string, Mapping>;
}

interface Template {
  index_patterns: string[];
  data_stream: Record<string, never>;
  template: {
    mappings: {
      date_detection: boolean;
      dynamic: boolean | string;
      dynamic_templates: Array<Record<string, { path_match: string; match_mapping_type: string; mapping: Mapping }>>;
      properties: Record<string, Mapping>;
    };
  };
}

const tpl = JSON.parse(fs.readFileSync(path.join(ROOT, 'elastic', 'index-template.json'), 'utf8')) as Template;
const mappings = tpl.template.mappings;

/** The explicit mapping of a dotted path, walking object and nested properties. */
function explicit(p: string): Mapping | undefined {
  let props: Record<string, Mapping> | undefined = mappings.properties;
  let m: Mapping | undefined;
  for (const k of p.split('.')) {
    m = props?.[k];
    if (m === undefined) return undefined;
    props = m.properties;
  }
  return m;
}

/** What Elasticsearch's dynamic mapping calls a JSON value (match_mapping_type). */
function jsonKind(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? 'long' : 'double';
  return typeof v;
}

/** The dynamic template a new field at `p` holding `v` would be mapped by: path_match's * matches any characters. */
function dynamicFor(p: string, v: unknown): { name: string; type: string } | null {
  for (const entry of mappings.dynamic_templates) {
    const [name, t] = Object.entries(entry)[0];
    const re = new RegExp(`^${t.path_match.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    if (re.test(p) && (t.match_mapping_type === '*' || t.match_mapping_type === jsonKind(v)) && t.mapping.type !== undefined) return { name, type: t.mapping.type };
  }
  return null;
}

// Arrays of objects: nested mappings, and object mappings (Elasticsearch indexes an array of objects under them).
const nested = (p: string): boolean => explicit(p)?.type === 'nested' || explicit(p)?.properties !== undefined;

test('the index template is for the logs-picket-* data streams, with date detection off', () => {
  assert.deepEqual(tpl.index_patterns, ['logs-picket-*']);
  assert.deepEqual(tpl.data_stream, {});
  assert.equal(mappings.date_detection, false);
  assert.equal(explicit('@timestamp')?.type, 'date');
});

test('every field of every document is mapped by the template with a type its JSON value fits', () => {
  const docs = allDocuments();
  assert.ok(docs.length > 1000);
  const bad = new Set<string>();
  const byDynamic = new Set<string>();
  let checked = 0;
  for (const d of docs) {
    for (const l of leaves(d, nested)) {
      const values = Array.isArray(l.value) ? l.value : [l.value];
      for (const v of values) {
        if (v === null) continue; // indexed as absent
        checked++;
        const m = explicit(l.path);
        if (m !== undefined) {
          if (m.type === undefined || !fitsType(m.type, v)) bad.add(`${l.path}: mapped ${String(m.type)}, written as ${JSON.stringify(v)}`);
          continue;
        }
        const dyn = dynamicFor(l.path, v);
        if (dyn === null) bad.add(`${l.path}: not mapped (${JSON.stringify(v)})`);
        else if (!fitsType(dyn.type, v)) bad.add(`${l.path}: dynamic template ${dyn.name} maps ${dyn.type}, written as ${JSON.stringify(v)}`);
        else byDynamic.add(l.path.split('.').slice(0, 3).join('.'));
      }
    }
  }
  assert.ok(checked > docs.length * 10);
  assert.deepEqual([...bad].sort(), [], 'offending field paths');
  // Only the maps keyed by rule id, decode event, interface and the like go through dynamic templates.
  assert.deepEqual([...byDynamic].sort(), ['picket.dns_recon.outcomes', 'picket.scan.protocols', 'picket.stats.alerts', 'picket.stats.decode']);
});

test('the ECS fields of the template have their ECS types', () => {
  const ecs = loadEcsFields();
  const bad: string[] = [];
  let n = 0;
  const walk = (props: Record<string, Mapping>, prefix: string): void => {
    for (const [k, m] of Object.entries(props)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      if (p === 'picket') continue;
      if (m.properties !== undefined && m.type !== 'nested') {
        walk(m.properties, p);
        continue;
      }
      n++;
      if (ecs.fields[p]?.type !== m.type) bad.push(`${p}: ${String(m.type)}, ECS ${String(ecs.fields[p]?.type)}`);
      if (m.type === 'nested' && m.properties !== undefined) walk(m.properties, p);
    }
  };
  walk(mappings.properties, '');
  assert.ok(n > 50, `${n} ECS fields mapped`);
  assert.deepEqual(bad, []);
});

test('every float field is mapped double or float explicitly, and is written: dynamic mapping never gets to pick long for it', () => {
  const docs = allDocuments();
  const floats = new Set<string>();
  for (const d of docs) {
    for (const l of leaves(d, nested)) {
      for (const v of Array.isArray(l.value) ? l.value : [l.value]) if (typeof v === 'number' && !Number.isInteger(v)) floats.add(l.path);
    }
  }
  assert.ok(floats.size >= 2, `float fields seen: ${[...floats].join(', ')}`);
  for (const p of floats) assert.match(String(explicit(p)?.type), /^(double|float|scaled_float|half_float)$/, p);
  const mapped: string[] = [];
  const walk = (props: Record<string, Mapping>, prefix: string): void => {
    for (const [k, m] of Object.entries(props)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      if (m.properties !== undefined) walk(m.properties, p);
      else if (m.type === 'double' || m.type === 'float') mapped.push(p);
    }
  };
  walk(mappings.properties, '');
  assert.deepEqual(mapped.sort(), [...floats].sort(), 'float-typed fields in the template that no document writes as a float');
});
