import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRoom } from '../src/util/bounded';
import { RecentKeys } from '../src/util/recent-keys';
import { prng } from './helpers';

test('makeRoom keeps a Set or Map under its bound, dropping the oldest tenth in insertion order', () => {
  const s = new Set<number>();
  for (let i = 0; i < 1000; i++) {
    makeRoom(s, 100);
    s.add(i);
    assert.ok(s.size <= 100);
  }
  // The newest entries survive; the oldest were dropped first.
  assert.ok(s.has(999) && s.has(950));
  assert.ok(!s.has(0) && !s.has(800));
  const m = new Map<string, number>([['a', 1], ['b', 2], ['c', 3]]);
  assert.equal(makeRoom(m, 3), 1);
  assert.deepEqual([...m.keys()], ['b', 'c']);
  assert.equal(makeRoom(m, 10), 0);
});

test('RecentKeys behaves as a Map bounded by makeRoom under random churn (same keys, values, order of eviction)', () => {
  const rand = prng(2024);
  for (const max of [1, 7, 100, 1000]) {
    const ours = new RecentKeys(max);
    const ref = new Map<number, number>();
    // Few distinct keys for small bounds (many re-sets and deletes of present keys), and keys alike in their low bits.
    const keyRange = max * 3;
    let evictions = 0;
    for (let op = 0; op < 20_000; op++) {
      const key = rand() < 0.5 ? Math.floor(rand() * keyRange) : Math.floor(rand() * keyRange) * 1024;
      const what = rand();
      if (what < 0.55) {
        const value = Math.floor(rand() * 1000);
        if (!ref.has(key)) {
          const dropped = makeRoom(ref, max);
          assert.equal(ours.makeRoom(), dropped);
          evictions += dropped;
        }
        ref.set(key, value);
        ours.set(key, value);
      } else if (what < 0.8) {
        assert.equal(ours.delete(key), ref.delete(key));
      } else if (what < 0.95) {
        assert.equal(ours.get(key), ref.get(key) ?? -1);
        assert.equal(ours.has(key), ref.has(key));
      } else {
        // Oldest first, as a Map iterates: the oldest key, and now and then the oldest few taken off as sweeps do.
        const first = ref.keys().next();
        assert.equal(ours.oldest(), first.done === true ? -1 : first.value);
        if (what > 0.99) {
          for (let i = 0; i < 3 && ref.size > 0; i++) {
            const k = ref.keys().next().value as number;
            assert.equal(ours.oldest(), k);
            ours.delete(k);
            ref.delete(k);
          }
        }
      }
      assert.equal(ours.size, ref.size);
      // Now and then every key: the same ones survived eviction.
      if (op % 997 === 0) for (let k = 0; k < keyRange; k++) for (const kk of [k, k * 1024]) assert.equal(ours.get(kk), ref.get(kk) ?? -1, `max ${max}, op ${op}: key ${kk}`);
    }
    assert.ok(evictions > 100, `max ${max}: evictions happened (${evictions})`);
    // Drained oldest first, it gives the Map's order.
    const order: number[] = [];
    for (let k = ours.oldest(); k >= 0; k = ours.oldest()) {
      order.push(k);
      ours.delete(k);
    }
    assert.ok(order.length > 0 || ref.size === 0);
    assert.deepEqual(order, [...ref.keys()]);
    assert.equal(ours.oldest(), -1);
  }
});
