import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SlotLru } from '../src/util/lru';
import { prng } from './helpers';

/** The reference: entries newest first in a plain array, every operation by linear search. */
class ArrayLru {
  entries: Array<[string, number]> = [];
  constructor(readonly max: number, readonly evicted: Array<[string, number]>) {}
  private at(key: string): number {
    return this.entries.findIndex(([k]) => k === key);
  }
  get(key: string): number | undefined {
    const i = this.at(key);
    if (i < 0) return undefined;
    const [e] = this.entries.splice(i, 1);
    this.entries.unshift(e);
    return e[1];
  }
  peek(key: string): number | undefined {
    const i = this.at(key);
    return i < 0 ? undefined : this.entries[i][1];
  }
  set(key: string, value: number): void {
    const i = this.at(key);
    if (i >= 0) this.entries.splice(i, 1);
    else if (this.entries.length >= this.max) this.evicted.push(this.entries.pop()!);
    this.entries.unshift([key, value]);
  }
  delete(key: string): number | undefined {
    const i = this.at(key);
    return i < 0 ? undefined : this.entries.splice(i, 1)[0][1];
  }
}

test('SlotLru keeps the entries, recency order and evictions of a reference LRU under random churn', () => {
  const rand = prng(20261208);
  for (const max of [1, 2, 5, 64, 65, 300]) {
    const ourEvictions: Array<[string, number]> = [];
    const refEvictions: Array<[string, number]> = [];
    const ours = new SlotLru<number>(max, (v, k) => ourEvictions.push([k, v]));
    const ref = new ArrayLru(max, refEvictions);
    const keyRange = max * 3;
    let hits = 0;
    for (let op = 0; op < 20_000; op++) {
      const key = `k${Math.floor(rand() * keyRange)}`;
      const r = rand();
      if (r < 0.35) {
        const v = ours.get(key);
        assert.equal(v, ref.get(key), `get ${key} at op ${op}, max ${max}`);
        if (v !== undefined) hits++;
      } else if (r < 0.45) {
        assert.equal(ours.peek(key), ref.peek(key));
      } else if (r < 0.85) {
        ours.set(key, op);
        ref.set(key, op);
      } else {
        assert.equal(ours.delete(key), ref.delete(key));
      }
      assert.equal(ours.size, ref.entries.length);
      if (op % 97 === 0) {
        const order: Array<[string, number]> = [];
        ours.forEachNewestFirst((v, k) => order.push([k, v]));
        assert.deepEqual(order, ref.entries, `order at op ${op}, max ${max}`);
      }
    }
    // The churn reached every path: hits, evictions, a full map.
    assert.ok(hits > 100, `hits ${hits}`);
    assert.ok(refEvictions.length > 100, `evictions ${refEvictions.length}`);
    assert.deepEqual(ourEvictions, refEvictions);
  }
});

test('SlotLru reports an eviction before set returns, and rejects a bound that is not a positive integer', () => {
  const log: string[] = [];
  const lru = new SlotLru<string>(2, (v) => log.push(`evicted ${v}`));
  lru.set('a', 'A');
  lru.set('b', 'B');
  lru.get('a');
  lru.set('c', 'C');
  log.push('after set');
  assert.deepEqual(log, ['evicted B', 'after set']);
  assert.equal(lru.peek('b'), undefined);
  assert.throws(() => new SlotLru<string>(0, () => {}), /positive integer/);
  assert.throws(() => new SlotLru<string>(1.5, () => {}), /positive integer/);
});
