import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSketch, sketchAdd, sketchCount } from '../src/util/sketch';

test('the distinct-count sketch is within its error from tens to a million keys, and repeats do not count', () => {
  for (const n of [10, 50, 300, 5000, 100_000, 1_000_000]) {
    const k = createSketch();
    for (let i = 0; i < n; i++) sketchAdd(k, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}|tcp/${i % 7}`);
    const before = sketchCount(k);
    for (let i = 0; i < Math.min(n, 1000); i++) assert.equal(sketchAdd(k, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}|tcp/${i % 7}`), false);
    assert.equal(sketchCount(k), before, 'adding known keys changes nothing');
    // 256 registers: standard error 6.5 %; allow four of them (linear counting is near exact for small n).
    const err = Math.abs(before - n) / n;
    assert.ok(err < (n <= 300 ? 0.1 : 0.26), `n=${n}: estimate ${before}`);
  }
  assert.equal(sketchCount(createSketch()), 0);
});
