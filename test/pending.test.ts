import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createScanRecord, PROTO_TCP, PROTO_UDP } from '../src/core/scan-record';
import { PendingAttempts } from '../src/scan/pending';
import { addrKey } from '../src/scan/addr-key';
import { prng } from './helpers';

test('PendingAttempts keeps attempts as a Map of them would (same ends, same oldest-first order) under churn and resizing', () => {
  const rand = prng(77);
  const r = createScanRecord();
  let table = new PendingAttempts(50);
  // Reference: attemptKey -> the attempt's source address and ports, in a Map's order.
  const ref = new Map<number, { src: number; srcPort: number; port: number; proto: number }>();
  let requeued = 0;
  let moved = 0;
  for (let op = 0; op < 30_000; op++) {
    const key = Math.floor(rand() * 120) * 4096; // alike in their low bits: long probe runs
    const what = rand();
    if (what < 0.5) {
      if (ref.has(key)) continue;
      // Room as the aggregator makes it: the oldest go first.
      while (ref.size >= table.max) {
        const oldest = table.oldestKey();
        assert.equal(oldest, ref.keys().next().value);
        table.release(table.slotOf(oldest));
        table.remove(oldest);
        ref.delete(oldest);
      }
      const src = 0x0a000000 + Math.floor(rand() * 1000);
      r.ipVersion = 4;
      r.addr.fill(0);
      new DataView(r.addr.buffer, r.addr.byteOffset).setUint32(0, src);
      new DataView(r.addr.buffer, r.addr.byteOffset).setUint32(16, 0xc0a80001);
      r.srcPort = 1024 + Math.floor(rand() * 60000);
      r.dstPort = Math.floor(rand() * 1024);
      r.proto = rand() < 0.5 ? PROTO_TCP : PROTO_UDP;
      const slot = table.add(key, r, op);
      assert.ok(table.same(slot, r));
      ref.set(key, { src, srcPort: r.srcPort, port: r.dstPort, proto: r.proto });
    } else if (what < 0.8) {
      const slot = table.slotOf(key);
      assert.equal(slot >= 0, ref.has(key));
      if (slot < 0) continue;
      table.remove(key);
      if (rand() < 0.5) {
        // Answered: back in, last.
        table.requeue(key, slot);
        const a = ref.get(key)!;
        ref.delete(key);
        ref.set(key, a);
        requeued++;
      } else {
        table.release(slot);
        ref.delete(key);
      }
    } else if (what < 0.999) {
      const slot = table.slotOf(key);
      const a = ref.get(key);
      assert.equal(slot >= 0, a !== undefined);
      if (a === undefined) continue;
      assert.equal(addrKey(table.ipVersion[slot], table.addr, slot * 32), a.src, 'the prober\'s address, the first 16 bytes of the slot');
      assert.equal(table.targetOf(slot), 0xc0a80001);
      assert.deepEqual([table.srcPort[slot], table.port[slot], table.proto[slot]], [a.srcPort, a.port, a.proto]);
    } else {
      // A reload with another max_pending_attempts: same attempts, same order.
      table = table.movedTo(10 + Math.floor(rand() * 80));
      moved++;
    }
    assert.equal(table.size, ref.size);
  }
  assert.ok(requeued > 1000 && moved > 10, `requeued ${requeued}, moved ${moved}`);
  const order: number[] = [];
  for (let k = table.oldestKey(); k >= 0; k = table.oldestKey()) {
    order.push(k);
    table.release(table.slotOf(k));
    table.remove(k);
  }
  assert.ok(order.length > 10);
  assert.deepEqual(order, [...ref.keys()]);
});
