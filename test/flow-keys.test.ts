/**
 * The engine's flow tables key a flow by a 30-bit hash of its ends; two flows whose hashes collide must still be two
 * flows. Before the tables kept a second hash beside the key, the second flow's first datagram passed as already
 * seen: one UDP probe fewer, and with workers (the two flows on different threads) a count that differed from an
 * inline run's (2 of 91,553 attempts on the bench mix). This test finds two UDP flows whose hashes collide, by
 * search over real decoded frames, and replays them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDecodedPacket } from '../src/core/packet';
import { decodePacket } from '../src/decode/decode';
import { directedCheck, directedHash } from '../src/flow/first-bytes';
import { ethernetPcap, get, picket, prng, tmpDir } from './helpers';

/** An Ethernet/IPv4/UDP frame from 198.51.x.y (outside the default home net) to 10.x.y.z, 8 bytes of payload. */
function udpFrame(src: number, dst: number, srcPort: number, dstPort: number): Buffer {
  const f = Buffer.alloc(14 + 20 + 8 + 8);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(20 + 8 + 8, 16);
  f[22] = 64;
  f[23] = 17;
  f.writeUInt32BE(((198 << 24) | (51 << 16) | (src & 0xffff)) >>> 0, 26);
  f.writeUInt32BE(((10 << 24) | (dst & 0xffffff)) >>> 0, 30);
  f.writeUInt16BE(srcPort, 34);
  f.writeUInt16BE(dstPort, 36);
  f.writeUInt16BE(16, 38);
  return f;
}

/**
 * Two frames of different flows whose directed hashes collide, found by search over random ends (a birthday search:
 * about 2^15.5 flows on average for 30 bits; bounded).
 */
function collidingFlows(): [Buffer, Buffer] {
  const rand = prng(1017);
  const pkt = createDecodedPacket();
  const seen = new Map<number, Buffer>();
  for (let i = 0; i < 1 << 20; i++) {
    const f = udpFrame(Math.floor(rand() * 0x10000), Math.floor(rand() * 0x1000000), 1024 + Math.floor(rand() * 60000), 161);
    decodePacket(f, 0, f.length, f.length, 1, pkt);
    const h = directedHash(f, pkt, false);
    const other = seen.get(h);
    if (other !== undefined) return [other, f];
    seen.set(h, f);
  }
  throw new Error('no collision among 2^20 flows');
}

test('two UDP flows whose 30-bit hashes collide are two probes, inline and with workers', () => {
  const [a, b] = collidingFlows();
  assert.notDeepEqual(a, b);
  const pkt = createDecodedPacket();
  decodePacket(a, 0, a.length, a.length, 1, pkt);
  const ha = directedHash(a, pkt, false);
  const ca = directedCheck(a, pkt, false);
  decodePacket(b, 0, b.length, b.length, 1, pkt);
  assert.equal(directedHash(b, pkt, false), ha, 'the search found a collision of the key');
  assert.notEqual(directedCheck(b, pkt, false), ca, 'the checks tell the two flows apart');

  const file = path.join(tmpDir('flow-keys'), 'colliding.pcap');
  // Each flow's first datagram (a probe), then each again (already seen: not a probe).
  fs.writeFileSync(file, ethernetPcap([a, b, a, b]));
  for (const workers of ['0', '2']) {
    const r = picket(['replay', file, '--workers', workers, '--summary', 'none']);
    assert.equal(r.code, 0, r.stderr);
    const stats = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.stats');
    assert.equal(stats.length, 1);
    assert.equal(get(stats[0], 'picket.stats.packets'), 4);
    assert.equal(get(stats[0], 'picket.stats.connection_attempts'), 2, `--workers ${workers}: both flows' first datagrams are probes`);
  }
});
