/**
 * Reproducers of what picket's own fuzz campaign (bench/fuzz.ts, test/property.test.ts) found, reduced to a few
 * packets each, so that the defect stays fixed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { createDecodedPacket } from '../src/core/packet';
import { decodePacket } from '../src/decode/decode';
import { shardOfPacket } from '../src/flow/shard';
import { get, picket, tmpDir } from './helpers';

const dir = tmpDir('findings');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function tcpFrame(src: string, dst: string, sport: number, dport: number, flags: number, payload: string): Buffer {
  const data = Buffer.from(payload, 'latin1');
  const f = Buffer.alloc(54 + data.length);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40 + data.length, 16);
  f[22] = 64;
  f[23] = 6;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f.writeUInt32BE(1000, 38);
  f[46] = 0x50;
  f[47] = flags;
  f.writeUInt16BE(1024, 48);
  data.copy(f, 54);
  return f;
}

function pcap(frames: Array<[number, Buffer]>): Buffer {
  const h = Buffer.alloc(24);
  h.writeUInt32LE(0xa1b2c3d4, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(65535, 16);
  h.writeUInt32LE(1, 20);
  const parts: Buffer[] = [h];
  for (const [sec, f] of frames) {
    const r = Buffer.alloc(16);
    r.writeUInt32LE(sec, 0);
    r.writeUInt32LE(f.length, 8);
    r.writeUInt32LE(f.length, 12);
    parts.push(r, f);
  }
  return Buffer.concat(parts);
}

function shard(frame: Buffer): number {
  const pkt = createDecodedPacket();
  decodePacket(frame, 0, frame.length, frame.length, 1, pkt);
  return shardOfPacket(frame, pkt, 2);
}

test('streams_evicted is the same inline and with 2 workers when the time that expires a stream comes from another shard', () => {
  // An HTTP head that is not complete opens a first-bytes stream; 100 s later (past its 30 s) a packet of a flow
  // that the other worker owns is the only later packet. Inline, that packet's time swept the stream (1 evicted);
  // the worker that held the stream never saw time pass (0). Found by the campaign (seed 2, file 80).
  const opener = tcpFrame('10.0.0.1', '198.51.100.1', 40000, 80, 0x18, 'GET / HTTP/1.1\r\nHost: exa');
  let later: Buffer | null = null;
  for (let k = 2; k < 250 && later === null; k++) {
    const f = tcpFrame(`10.0.0.${k}`, '198.51.100.2', 40001, 443, 0x18, 'x');
    if (shard(f) !== shard(opener)) later = f;
  }
  assert.ok(later !== null);
  const f = path.join(dir, 'evicted.pcap');
  fs.writeFileSync(f, pcap([[1_750_000_000, opener], [1_750_000_100, later]]));
  const evicted = (workers: string): unknown => {
    const r = picket(['replay', '--metadata', '--workers', workers, f]);
    assert.equal(r.code, 0, r.stderr);
    const metric = r.docs.filter((d) => get(d, 'event.kind') === 'metric');
    assert.equal(metric.length, 1);
    return get(metric[0], 'picket.stats.streams_evicted');
  };
  assert.equal(evicted('0'), 1);
  assert.equal(evicted('2'), 1);
  assert.equal(evicted('3'), 1);
});

test('an original length of 2^32 - 1 is not read as a negative one (wire_bytes, the snap-length cut), in pcap and pcapng', () => {
  // A record whose original length field was damaged to 0xffffffff: the batch's Int32Array made it -1, so
  // wire_bytes went negative and the packet did not count as cut by a snap length. Found by the campaign.
  const frame = tcpFrame('203.0.113.5', '10.0.0.1', 40000, 22, 0x02, '');
  const p = pcap([[1_750_000_000, frame]]);
  p.writeUInt32LE(0xffffffff, 24 + 12);
  const ng = Buffer.alloc(28 + 20 + 32 + 56);
  let o = 0;
  for (const v of [0x0a0d0d0a, 28, 0x1a2b3c4d, 1, 0xffffffff, 0xffffffff, 28, 1, 20, 1, 0, 20, 6, 32 + 56, 0, 0, 0, frame.length, 0xffffffff]) {
    ng.writeUInt32LE(v >>> 0, o);
    o += 4;
  }
  frame.copy(ng, o);
  ng.writeUInt32LE(32 + 56, ng.length - 4);
  for (const [name, bytes] of [['big-origlen.pcap', p], ['big-origlen.pcapng', ng]] as const) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    const r = picket(['replay', '--metadata', f]);
    assert.equal(r.code, 0, r.stderr);
    const metric = r.docs.filter((d) => get(d, 'event.kind') === 'metric');
    assert.equal(metric.length, 1);
    assert.equal(get(metric[0], 'picket.stats.packets'), 1, name);
    assert.equal(get(metric[0], 'picket.stats.wire_bytes'), 0x7fffffff, name);
    assert.equal(get(metric[0], 'picket.stats.decode.snaplen_cut'), 1, name);
  }
});
