/**
 * The merge of fanout workers' observations by packet time (src/engine/time-merge.ts): released in time order
 * only below every worker's watermark; an idle worker's watermark lets the others through; a late item is
 * released, not lost; done() releases everything.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTimeMerge } from '../src/engine/time-merge';

interface Item {
  tsSec: number;
  tsNsec: number;
  id: string;
}
const at = (t: number, id: string): Item => ({ tsSec: Math.floor(t), tsNsec: Math.round((t - Math.floor(t)) * 1e9), id });

test('items are released in packet-time order, and only once every worker has passed their time', () => {
  const out: string[] = [];
  const m = createTimeMerge<Item>(2, (i) => out.push(i.id));
  m.push(0, [at(10.1, 'a1'), at(10.5, 'a2')], 10.5);
  assert.deepEqual(out, [], 'worker 1 has said nothing yet');
  m.push(1, [at(10.2, 'b1')], 10.3);
  assert.deepEqual(out, ['a1', 'b1']);
  assert.equal(m.waiting(), 1);
  m.push(1, [at(10.4, 'b2'), at(10.6, 'b3')], 10.6);
  assert.deepEqual(out, ['a1', 'b1', 'b2', 'a2']);
  assert.equal(m.released(), 10.5);
  m.done(0);
  m.done(1);
  assert.deepEqual(out, ['a1', 'b1', 'b2', 'a2', 'b3']);
  assert.equal(m.waiting(), 0);
});

test('an idle worker (an empty batch with a wall-clock watermark) does not stall the others', () => {
  const out: string[] = [];
  const m = createTimeMerge<Item>(2, (i) => out.push(i.id));
  m.push(0, [at(100, 'a')], 100);
  m.push(1, [], 99);
  assert.deepEqual(out, []);
  m.push(1, [], 100.2);
  assert.deepEqual(out, ['a']);
});

test('ties go by worker then sending order; a late item goes out with the next release; watermarks never go back', () => {
  const out: string[] = [];
  const m = createTimeMerge<Item>(2, (i) => out.push(i.id));
  m.push(1, [at(5, 'b1'), at(5, 'b2')], 5);
  m.push(0, [at(5, 'a1')], 6);
  assert.deepEqual(out, ['a1', 'b1', 'b2']);
  m.push(1, [at(4, 'late')], 3);
  assert.deepEqual(out, ['a1', 'b1', 'b2', 'late'], 'older than what was released: out at once, not held');
  m.push(1, [at(5.5, 'b3')], 4);
  assert.deepEqual(out, ['a1', 'b1', 'b2', 'late'], 'watermark 5 stands (4 does not take it back): 5.5 waits');
  m.push(1, [], 5.5);
  assert.deepEqual(out, ['a1', 'b1', 'b2', 'late', 'b3']);
});
