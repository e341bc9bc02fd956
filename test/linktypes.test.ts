import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { createDecodedPacket } from '../src/core/packet';
import { decodePacket } from '../src/decode/decode';
import { DecodeEvent } from '../src/decode/events';
import { PCAPS, prng } from './helpers';

/** The records of a little-endian microsecond pcap (what tcpdump and reframe.py write), and its link type. */
function records(file: string): { linktype: number; frames: Buffer[] } {
  const d = fs.readFileSync(file);
  assert.equal(d.readUInt32LE(0), 0xa1b2c3d4);
  const frames: Buffer[] = [];
  for (let p = 24; p + 16 <= d.length; p += 16 + d.readUInt32LE(p + 8)) frames.push(d.subarray(p + 16, p + 16 + d.readUInt32LE(p + 8)));
  return { linktype: d.readUInt32LE(20), frames };
}

const FILES = ['ppp.pcap', 'ppp-hdlc.pcap', 'c-hdlc.pcap', 'radiotap.pcap', 'nflog.pcap'];

test('PPP, PPP_HDLC, C_HDLC, radiotap and NFLOG decoders: every cut and damaged frame gives an event or a packet, never a throw', () => {
  const pkt = createDecodedPacket();
  const rand = prng(127);
  for (const f of FILES) {
    const { linktype, frames } = records(path.join(PCAPS, 'linktypes', f));
    assert.ok(frames.length >= 30, f);
    for (const fr of frames.slice(0, 6)) {
      for (let cut = 0; cut <= fr.length; cut++) {
        const r = decodePacket(fr, 0, cut, fr.length, linktype, pkt);
        assert.ok(r >= 0 && r < 32, `${f} cut ${cut}`);
        if (cut === 0) assert.equal(r, DecodeEvent.LINK_TRUNCATED, `${f}: nothing is a truncated link header`);
      }
      for (let n = 0; n < 300; n++) {
        const b = Buffer.from(fr);
        for (let k = 0; k < 3; k++) b[Math.floor(rand() * Math.min(b.length, 48))] = Math.floor(rand() * 256);
        decodePacket(b, 0, b.length, b.length, linktype, pkt);
      }
    }
  }
});

test('NFLOG written on a big-endian machine (TLV lengths and types in its order) decodes the same', () => {
  const { linktype, frames } = records(path.join(PCAPS, 'linktypes', 'nflog.pcap'));
  assert.equal(linktype, 239);
  const a = createDecodedPacket();
  const b = createDecodedPacket();
  for (const fr of frames) {
    const be = Buffer.from(fr);
    for (let q = 4; q + 4 <= be.length;) {
      const len = be.readUInt16LE(q);
      be.writeUInt16BE(len, q);
      be.writeUInt16BE(be.readUInt16LE(q + 2), q + 2);
      q += (len + 3) & ~3;
    }
    assert.equal(decodePacket(fr, 0, fr.length, fr.length, linktype, a), 0);
    assert.equal(decodePacket(be, 0, be.length, be.length, linktype, b), 0);
    assert.deepEqual([b.ipVersion, b.proto, b.srcPort, b.dstPort, b.payloadLen], [a.ipVersion, a.proto, a.srcPort, a.dstPort, a.payloadLen]);
    assert.ok(a.ipVersion === 4 || a.ipVersion === 6);
  }
});
