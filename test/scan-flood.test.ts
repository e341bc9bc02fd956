/**
 * The default scan caps (rules/scan.yaml max_sources, max_pending_attempts) were lowered to keep peak RSS under
 * 256 MB under floods (bench/RESULTS.md). What they must still do: a flood of one-shot sources larger than the
 * source table is evicted before a slow scan that has been building up, which keeps every target it counted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '../src/util/prng';
import { get, PCAPS, picket, restampPcap, tmpDir } from './helpers';

/** A SYN from a random external source to a random home address, as a pcap record at time t. */
function floodRecord(r: () => number, t: number): Buffer {
  const rec = Buffer.alloc(16 + 54);
  rec.writeUInt32LE(Math.floor(t), 0);
  rec.writeUInt32LE(Math.floor((t % 1) * 1e6), 4);
  rec.writeUInt32LE(54, 8);
  rec.writeUInt32LE(54, 12);
  const f = rec.subarray(16);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40, 16);
  f[22] = 64;
  f[23] = 6;
  f[26] = 1 + Math.floor(r() * 9); // 1.x-9.x: public, never the scanner
  f[27] = Math.floor(r() * 256);
  f[28] = Math.floor(r() * 256);
  f[29] = 1 + Math.floor(r() * 254);
  f[30] = 10;
  f[31] = 9;
  f[32] = Math.floor(r() * 256);
  f[33] = 1 + Math.floor(r() * 254);
  f.writeUInt16BE(1024 + Math.floor(r() * 60000), 34);
  f.writeUInt16BE(443, 36);
  f[46] = 0x50;
  f[47] = 0x02;
  return rec;
}

test('with the default caps, a flood of 30 000 one-shot sources in the middle of a slow scan does not cost the scan any target', () => {
  const dir = tmpDir('scanflood');
  const slow = restampPcap(fs.readFileSync(path.join(PCAPS, 'scans', 'nmap-slow.pcap')), (t) => t * 600);
  const recs: Array<[number, number]> = [];
  for (let p = 24; p + 16 <= slow.length; p += 16 + slow.readUInt32LE(p + 8)) recs.push([p, 16 + slow.readUInt32LE(p + 8)]);
  // Two thirds in: the scanner has failed targets by then, the flood's sources have one attempt each.
  const at = recs[Math.floor((recs.length * 2) / 3)][0];
  const t0 = slow.readUInt32LE(at) - 60;
  const r = mulberry32(5);
  const flood = Array.from({ length: 30000 }, (_, i) => floodRecord(r, t0 + i / 1000));
  const plain = path.join(dir, 'slow.pcap');
  const flooded = path.join(dir, 'slow-flood.pcap');
  fs.writeFileSync(plain, slow);
  fs.writeFileSync(flooded, Buffer.concat([slow.subarray(0, at), ...flood, slow.subarray(at)]));
  const final = (file: string): { alert: Record<string, unknown>; evicted: number } => {
    const run = picket(['replay', file]);
    assert.equal(run.code, 0, run.stderr);
    const finals = run.docs.filter((d) => get(d, 'rule.id') === 'scan.slow' && get(d, 'picket.final') === true);
    assert.equal(finals.length, 1, 'one slow scan, one summary');
    const metric = run.docs.filter((d) => get(d, 'event.kind') === 'metric');
    return { alert: finals[0], evicted: Number(get(metric[0], 'picket.stats.scan_sources_evicted')) };
  };
  const a = final(plain);
  const b = final(flooded);
  assert.equal(a.evicted, 0);
  assert.ok(b.evicted >= 10000, `the flood went through the source table (${b.evicted} evicted)`);
  assert.equal(get(b.alert, 'source.ip'), get(a.alert, 'source.ip'));
  assert.equal(get(b.alert, 'picket.scan.targets'), get(a.alert, 'picket.scan.targets'));
  assert.equal(get(b.alert, 'picket.scan.exact'), true);
  fs.rmSync(dir, { recursive: true });
});
