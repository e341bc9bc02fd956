import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createIngressMap } from '../src/capture/ingress';

test('ingress map: each ordinal finds its batch\'s interface, across the wrap of the ring; evicted batches find none', () => {
  const keep = 4;
  const m = createIngressMap(keep);
  assert.equal(m.lookup(0), null, 'nothing recorded');
  // Batches of varying size from two interfaces, ordinals handed out in order, as capture.ts does.
  const batches: Array<[number, number, string]> = [];
  let ordinal = 0;
  for (let i = 0; i < 11; i++) {
    const count = 1 + ((i * 7) % 5);
    const iface = i % 3 === 0 ? 'eth1' : 'eth2';
    m.record(ordinal, count, iface);
    batches.push([ordinal, count, iface]);
    ordinal += count;
    // Every ordinal of the kept batches is found, with its interface; older ones are not.
    batches.forEach(([first, n, name], b) => {
      for (let o = first; o < first + n; o++) assert.equal(m.lookup(o), b >= batches.length - keep ? name : null, `batch ${b}, ordinal ${o}, after ${i + 1}`);
    });
    assert.equal(m.lookup(ordinal), null, 'not yet recorded');
  }
});
