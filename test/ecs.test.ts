import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { allDocuments, leafFits, leaves, loadEcsFields } from './ecs-check';
import { get, picket, PCAPS } from './helpers';
import * as path from 'node:path';

const ecs = loadEcsFields();

/** Where a leaf breaks ECS, or null: not an ECS field (and not picket.*), or an ECS field of another type. */
function offence(p: string, value: unknown): string | null {
  if (p === 'picket' || p.startsWith('picket.')) return null;
  const f = ecs.fields[p];
  if (f === undefined) return `${p}: not an ECS ${ecs.ecs_version} field`;
  if (f.type === 'nested' || f.type === 'object' || f.type === 'flattened') return `${p}: ECS ${f.type}, written as ${JSON.stringify(value)}`;
  if (!leafFits(f.type, value)) return `${p}: ECS ${f.type}, written as ${JSON.stringify(value)}`;
  return null;
}

// Arrays of objects: ECS nested fields, and object fields normalised to arrays (dns.answers).
const nested = (p: string): boolean => ecs.fields[p]?.type === 'nested' || (ecs.fields[p]?.type === 'object' && ecs.fields[p]?.array === true);

test('every document of every bundled capture is exact ECS: ECS fields of ECS types, or picket.*', () => {
  const docs = allDocuments();
  assert.ok(docs.length > 1000, `only ${docs.length} documents checked`);
  const bad = new Map<string, number>();
  let checked = 0;
  for (const d of docs) {
    for (const l of leaves(d, nested)) {
      checked++;
      const o = offence(l.path, l.value);
      if (o !== null) bad.set(o.split(', written')[0], (bad.get(o.split(', written')[0]) ?? 0) + 1);
    }
  }
  assert.ok(checked > docs.length * 10);
  assert.deepEqual([...bad.keys()].sort(), [], `offending field paths:\n${[...bad].map(([k, n]) => `  ${k} (${n} documents)`).join('\n')}`);
});

test("event.kind, event.category, event.type and event.outcome hold ECS's allowed values, each type expected by each category", () => {
  const docs = allDocuments();
  const bad = new Set<string>();
  const kinds = new Set<string>();
  for (const d of docs) {
    for (const f of ['event.kind', 'event.outcome']) {
      const v = get(d, f);
      if (v === undefined) continue;
      if (typeof v !== 'string' || !(v in ecs.allowed_values[f])) bad.add(`${f}: ${JSON.stringify(v)}`);
    }
    kinds.add(String(get(d, 'event.kind')));
    const cats = get(d, 'event.category');
    const types = get(d, 'event.type');
    assert.ok(Array.isArray(cats) && cats.length > 0, `event.category missing: ${JSON.stringify(d.event)}`);
    assert.ok(Array.isArray(types) && types.length > 0, `event.type missing: ${JSON.stringify(d.event)}`);
    for (const t of types as unknown[]) if (!(String(t) in ecs.allowed_values['event.type'])) bad.add(`event.type: ${JSON.stringify(t)}`);
    for (const c of cats as unknown[]) {
      const expected = ecs.allowed_values['event.category'][String(c)];
      if (expected === undefined) {
        bad.add(`event.category: ${JSON.stringify(c)}`);
        continue;
      }
      // ECS lists, for each category, the types that go with it: a pair outside that list is the kind of
      // document Kibana's views and rules built on ECS categorization do not expect.
      for (const t of types as unknown[]) if (expected !== null && !expected.includes(String(t))) bad.add(`event.category ${String(c)} with event.type ${String(t)}`);
    }
  }
  assert.deepEqual([...kinds].sort(), ['alert', 'event', 'metric']);
  assert.deepEqual([...bad].sort(), []);
});

test('ecs.version is on every document, and event.id is unique across every document and across runs', () => {
  const docs = allDocuments();
  const ids = new Set<string>();
  for (const d of docs) {
    assert.equal(get(d, 'ecs.version'), ecs.ecs_version);
    const id = get(d, 'event.id');
    assert.equal(typeof id, 'string');
    ids.add(id as string);
  }
  assert.equal(ids.size, docs.length, 'event.id repeated');
  const file = path.join(PCAPS, 'intel-dns.pcap');
  const a = picket(['replay', '--quiet', file]).docs.map((d) => get(d, 'event.id'));
  const b = picket(['replay', '--quiet', file]).docs.map((d) => get(d, 'event.id'));
  assert.ok(a.length > 1);
  assert.equal(a.length, b.length);
  assert.equal(new Set([...a, ...b]).size, a.length * 2, 'two runs of the same capture share an event.id');
});

test('event.duration is the nanoseconds from event.start to event.end wherever a document spans time', () => {
  const docs = allDocuments();
  let spans = 0;
  let nonzero = 0;
  for (const d of docs) {
    const start = get(d, 'event.start');
    const end = get(d, 'event.end');
    if (start === undefined) {
      assert.equal(get(d, 'event.duration'), undefined);
      continue;
    }
    spans++;
    const ns = get(d, 'event.duration');
    assert.ok(typeof ns === 'number' && Number.isSafeInteger(ns) && ns >= 0, `event.duration ${String(ns)}`);
    const us = (t: string): number => Date.parse(`${t.slice(0, 19)}Z`) * 1000 + Number(t.slice(20, 26));
    assert.equal(ns, (us(end as string) - us(start as string)) * 1000);
    if (ns > 0) nonzero++;
  }
  assert.ok(spans > 50, `${spans} documents with a span`);
  assert.ok(nonzero > 10, `${nonzero} documents with a nonzero span`);
});

test('dns.id is a string, JA4 and the offered ALPN protocols are picket.tls.*', () => {
  const docs = allDocuments();
  const dns = docs.filter((d) => get(d, 'dns.id') !== undefined);
  assert.ok(dns.length > 100);
  for (const d of dns) assert.match(get(d, 'dns.id') as string, /^\d{1,5}$/);
  const tls = docs.filter((d) => get(d, 'event.dataset') === 'picket.tls' || get(d, 'event.dataset') === 'picket.quic');
  assert.ok(tls.length > 10);
  for (const d of tls) {
    assert.match(get(d, 'picket.tls.ja4') as string, /^[tqd]\d\d[di]\d{4}/);
    assert.equal(get(d, 'tls.client.ja4'), undefined);
  }
  assert.ok(tls.some((d) => Array.isArray(get(d, 'picket.tls.supported_protocols'))));
});
