import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRoom } from '../src/util/bounded';
import { RecentKeys } from '../src/util/recent-keys';
import { SourceIndex } from '../src/scan/source-index';
import type { AddrKey } from '../src/scan/addr-key';
import { parseIpv6 } from '../src/config/homenet';
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

test('RecentKeys behaves as a Map bounded by makeRoom under random churn (same entries, values, order of eviction)', () => {
  const rand = prng(2024);
  // An entry is (key, check): keys collide on purpose (few of them, alike in their low bits) and checks tell them
  // apart, as two flows whose 30-bit hashes collide are told apart by their second hash. The reference Map is keyed
  // by both.
  const CHECKS = 3;
  const both = (key: number, check: number): number => key * 4 + check;
  for (const max of [1, 7, 100, 1000]) {
    const ours = new RecentKeys(max);
    const ref = new Map<number, number>();
    const keyRange = max * 3;
    let evictions = 0;
    let sharedKeys = 0;
    for (let op = 0; op < 20_000; op++) {
      const key = rand() < 0.5 ? Math.floor(rand() * keyRange) : Math.floor(rand() * keyRange) * 1024;
      const check = Math.floor(rand() * CHECKS);
      const k = both(key, check);
      const what = rand();
      if (what < 0.55) {
        const value = Math.floor(rand() * 1000);
        if (!ref.has(k)) {
          const dropped = makeRoom(ref, max);
          assert.equal(ours.makeRoom(), dropped);
          evictions += dropped;
          for (let c = 0; c < CHECKS; c++) if (c !== check && ref.has(both(key, c))) sharedKeys++;
        }
        ref.set(k, value);
        ours.set(key, value, check);
      } else if (what < 0.8) {
        assert.equal(ours.delete(key, check), ref.delete(k));
      } else if (what < 0.95) {
        assert.equal(ours.get(key, check), ref.get(k) ?? -1);
        assert.equal(ours.has(key, check), ref.has(k));
      } else {
        // Oldest first, as a Map iterates: the oldest entry, and now and then the oldest few taken off as sweeps do.
        const first = ref.keys().next();
        assert.equal(ours.oldest() < 0 ? -1 : both(ours.oldest(), ours.oldestCheck()), first.done === true ? -1 : first.value);
        if (what > 0.99) {
          for (let i = 0; i < 3 && ref.size > 0; i++) {
            const r = ref.keys().next().value as number;
            assert.equal(both(ours.oldest(), ours.oldestCheck()), r);
            ours.delete(ours.oldest(), ours.oldestCheck());
            ref.delete(r);
          }
        }
      }
      assert.equal(ours.size, ref.size);
      // Now and then every entry: the same ones survived eviction.
      if (op % 997 === 0) {
        for (let k2 = 0; k2 < keyRange; k2++) {
          for (const kk of [k2, k2 * 1024]) for (let c = 0; c < CHECKS; c++) assert.equal(ours.get(kk, c), ref.get(both(kk, c)) ?? -1, `max ${max}, op ${op}: key ${kk} check ${c}`);
        }
      }
    }
    assert.ok(evictions > 100, `max ${max}: evictions happened (${evictions})`);
    if (max > 1) assert.ok(sharedKeys > 100, `max ${max}: entries sharing a key with another check were added (${sharedKeys})`);
    // Drained oldest first, it gives the Map's order.
    const order: number[] = [];
    for (let k = ours.oldest(); k >= 0; k = ours.oldest()) {
      order.push(both(k, ours.oldestCheck()));
      ours.delete(k, ours.oldestCheck());
    }
    assert.ok(order.length > 0 || ref.size === 0);
    assert.deepEqual(order, [...ref.keys()]);
    assert.equal(ours.oldest(), -1);
  }
});

test('SourceIndex finds, adds and deletes as an insertion-ordered Map does, IPv4 keys past 2^31 and IPv6 text alike', () => {
  // The index names slots; values live in columns by slot, as the source table keeps them (here one array).
  let capacity = 16;
  const index = new SourceIndex((n) => {
    assert.equal(n, capacity * 2, 'grows by doubling');
    capacity = n;
  });
  const values: number[] = [];
  const get = (key: AddrKey): number | undefined => {
    const slot = index.slotOf(key);
    // Found from the address's bytes as from its key (the aggregator looks sources up by a packet's bytes).
    const bytes = new Uint8Array(16);
    if (typeof key === 'number') new DataView(bytes.buffer).setUint32(0, key);
    else bytes.set(parseIpv6(key));
    assert.equal(index.slotOfBytes(typeof key === 'number' ? 4 : 6, bytes, 0), slot);
    if (slot < 0) return undefined;
    assert.equal(index.keyOf(slot), key);
    return values[slot];
  };
  const reference = new Map<AddrKey, number>();
  const rand = prng(17);
  // Few distinct keys, so that the same ones come back after deletion, in one probing run and across growth.
  // IPv6 keys in their canonical text (keyOf makes it from the bytes), a third of them, many enough for probe runs.
  const keyOf = (r: number): AddrKey => (r < 0.3 ? `2001:db8::${(Math.floor(r * 10_000) + 1).toString(16)}` : Math.floor(r * 3000) * 1_431_655 % 2 ** 32);
  let deleted = 0;
  for (let i = 0; i < 60_000; i++) {
    const key = keyOf(rand());
    if (reference.has(key) && rand() < 0.6) {
      index.delete(index.slotOf(key));
      reference.delete(key);
      deleted++;
    } else if (!reference.has(key)) {
      const slot = index.add(key);
      assert.ok(slot < capacity && index.capacity === capacity, `slot ${slot} within the columns (${capacity})`);
      values[slot] = i;
      reference.set(key, i);
    }
    assert.equal(get(key), reference.get(key));
    assert.equal(index.size, reference.size);
  }
  assert.ok(deleted > 10_000 && reference.size > 1000, `${deleted} deletions, ${reference.size} left`);
  assert.ok(capacity >= reference.size && capacity <= 4 * reference.size, `capacity ${capacity} for ${reference.size}: slots are reused`);
  assert.ok([...reference.keys()].some((k) => typeof k === 'number' && k >= 2 ** 31));
  assert.ok([...reference.keys()].filter((k) => typeof k === 'string').length > 300, 'IPv6 sources in the table');
  for (const [k, v] of reference) assert.equal(get(k), v);
  assert.equal(get(12345), reference.get(12345));
  const inOrder = (): number[] => {
    const out: number[] = [];
    index.forEachInOrder((slot) => {
      out.push(values[slot]);
    });
    return out;
  };
  assert.deepEqual(inOrder(), [...reference.values()], 'oldest first');
  // Deleting the entry at hand while iterating, as the aggregator's sweep does.
  let seen = 0;
  index.forEachInOrder((slot) => {
    const key = index.keyOf(slot);
    assert.equal(reference.get(key), values[slot]);
    if (seen++ % 2 === 0) {
      index.delete(slot);
      reference.delete(key);
    }
  });
  assert.equal(seen, Math.ceil(seen / 2) + reference.size);
  assert.deepEqual(inOrder(), [...reference.values()]);
  // Stopped early when f returns false.
  let calls = 0;
  index.forEachInOrder(() => ++calls < 3);
  assert.equal(calls, 3);
});
