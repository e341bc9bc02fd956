import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRoom } from '../src/util/bounded';

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
