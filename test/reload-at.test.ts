import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCaptureFile } from '../src/capture/file';
import type { PacketBatch } from '../src/capture/batch';
import { ReloadsAt } from '../src/engine/reload-at';
import { PCAPS } from './helpers';

/** The packet times of a real capture, and the batches it is read in (small ones, so that reloads fall inside). */
async function batchesOf(file: string, batchPackets: number): Promise<{ times: number[]; runs: (consume: (b: PacketBatch) => void) => Promise<void> }> {
  const times: number[] = [];
  await readCaptureFile(file, (b) => {
    for (let i = 0; i < b.count; i++) times.push(b.tsSec[i] + b.tsNsec[i] * 1e-9);
  }, { firstOrdinal: 0 });
  return { times, runs: async (consume) => void (await readCaptureFile(file, consume, { firstOrdinal: 0, batchPackets })) };
}

test('a reload is put in force before the first packet of its time, inside a batch or between batches, once each and in order', async () => {
  const { times, runs } = await batchesOf(path.join(PCAPS, 'intel-dns.pcap'), 7);
  assert.ok(times.length > 40, `${times.length} packets`);
  // Three reloads: one at a packet's own time (it applies to that packet), one between two packets, one past the end.
  const at = [times[10], (times[25] + times[26]) / 2, times[times.length - 1] + 1];
  assert.ok(times[25] < times[26], 'distinct times around the second reload');
  const log: string[] = [];
  const reloads = new ReloadsAt<string>((next) => log.push(`apply ${next}`));
  reloads.add('A', at[0]);
  reloads.add('B', at[1]);
  reloads.add('C', at[2]);
  await runs((b) => reloads.process(b, (part) => {
    for (let i = 0; i < part.count; i++) log.push(`packet ${part.firstOrdinal + i}`);
  }));
  const packets = log.filter((l) => l.startsWith('packet')).map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(packets, times.map((_, i) => i), 'every packet once, in order');
  const before = (what: string): number => log.indexOf(what);
  assert.equal(before('apply A'), before('packet 10') - 1, 'A just before packet 10, whose time it is');
  assert.equal(before('apply B'), before('packet 26') - 1, 'B between packets 25 and 26');
  assert.ok(!log.includes('apply C'), 'C: no packet of its time yet');
  reloads.applyUpTo(at[2] - 0.5);
  assert.ok(!log.includes('apply C'), 'a quiet link before its time');
  reloads.applyUpTo(at[2]);
  assert.equal(log[log.length - 1], 'apply C', 'a quiet link past its time');
  assert.equal(log.filter((l) => l.startsWith('apply')).length, 3);
});
