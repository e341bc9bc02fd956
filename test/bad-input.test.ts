import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCaptureFile } from '../src/capture/file';
import { decodePacket, LINKTYPE_NAMES } from '../src/decode/decode';
import { createDecodedPacket } from '../src/core/packet';
import { committedCaptures, PCAPS, picket, prng, tmpDir } from './helpers';

const intel = path.join(PCAPS, 'intel-dns.pcap');

/** Offsets of the record headers of a little-endian classic pcap. */
function recordOffsets(b: Buffer): number[] {
  const out: number[] = [];
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) out.push(p);
  return out;
}

test('a file cut inside a record: the whole records are read, the cut is reported, exit 0', () => {
  const dir = tmpDir('cut');
  const src = fs.readFileSync(intel);
  const recs = recordOffsets(src);
  const cutAt = recs[Math.floor(recs.length / 2)] + 16 + 5; // 5 bytes into a packet
  const f = path.join(dir, 'cut.pcap');
  fs.writeFileSync(f, src.subarray(0, cutAt));
  const r = picket(['replay', f]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /cut short inside a record/);
  assert.match(r.stderr, new RegExp(`${Math.floor(recs.length / 2)} packets`));
  fs.rmSync(dir, { recursive: true });
});

test('a garbage record length stops that file with a message naming the byte; the next file is still read', () => {
  const dir = tmpDir('garbage');
  const src = Buffer.from(fs.readFileSync(intel));
  const recs = recordOffsets(src);
  const at = recs[3];
  src.writeUInt32LE(0x7fffffff, at + 8);
  const f = path.join(dir, 'garbage.pcap');
  fs.writeFileSync(f, src);
  const r = picket(['replay', f, path.join(PCAPS, 'benign.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`stopped early at byte ${at}: a record claims 2147483647 captured bytes`));
  assert.match(r.stderr, /benign\.pcap: .* \d+ packets/);
  fs.rmSync(dir, { recursive: true });
});

test('damaged packets (seeded random damage to real ones) are counted as decode errors and never crash', () => {
  const dir = tmpDir('fuzz');
  const rand = prng(20261123);
  // Every detector's input among them: intel names, scans and fingerprints, probe signatures (HTTP, SMB, RDP),
  // DNS responses (NXDOMAIN, PTR, zone transfers over TCP).
  const sources = [intel, path.join(PCAPS, 'nmap-syn.pcap'), path.join(PCAPS, 'formats', 'qinq.pcap'), path.join(PCAPS, 'formats', 'ipv6.pcap'),
    ...['nmap-sv', 'nmap-smb', 'dns-brute', 'dig-axfr', 'ptr-sweep'].map((f) => path.join(PCAPS, 'recon', `${f}.pcap`)), path.join(PCAPS, 'scans', 'nmap-decoy.pcap')];
  for (const srcFile of sources) {
    const src = fs.readFileSync(srcFile);
    const parts: Buffer[] = [src.subarray(0, 24)];
    for (const p of recordOffsets(src)) {
      const incl = src.readUInt32LE(p + 8);
      const hdr = Buffer.from(src.subarray(p, p + 16));
      const data = Buffer.from(src.subarray(p + 16, p + 16 + incl));
      const kind = rand();
      if (kind < 0.4) {
        // Flip a few bytes in the headers (the first 60 bytes hold L2-L4).
        for (let k = 0; k < 3; k++) data[Math.floor(rand() * Math.min(incl, 60))] = Math.floor(rand() * 256);
        parts.push(hdr, data);
      } else if (kind < 0.6) {
        // Cut the packet short, as a small snap length would (original length kept).
        const keep = Math.floor(rand() * incl);
        hdr.writeUInt32LE(keep, 8);
        parts.push(hdr, data.subarray(0, keep));
      } else if (kind < 0.7) {
        // Cut it short and lie about it: the original length claims no more than was captured.
        const keep = Math.floor(rand() * incl);
        hdr.writeUInt32LE(keep, 8);
        hdr.writeUInt32LE(keep, 12);
        parts.push(hdr, data.subarray(0, keep));
      } else {
        parts.push(hdr, data);
      }
    }
    const out = Buffer.concat(parts);
    const f = path.join(dir, path.basename(srcFile));
    fs.writeFileSync(f, out);
    for (const w of ['0', '2']) {
      const r = picket(['replay', '--metadata', '--workers', w, f]);
      assert.equal(r.code, 0, `${srcFile} --workers ${w}: ${r.stderr}`);
      assert.match(r.stderr, /decode errors: [1-9]/, `${srcFile}: damage is counted`);
    }
  }
  fs.rmSync(dir, { recursive: true });
});

test('the decoder never throws on any bytes, for every link type', async () => {
  const rand = prng(7);
  const pkt = createDecodedPacket();
  const buf = Buffer.alloc(2048);
  const types = Object.keys(LINKTYPE_NAMES).map(Number).concat([9999]);
  // Real packets first, as seeds; then the same packets with random bytes and random lengths.
  const seeds: Buffer[] = [];
  for (const f of committedCaptures().filter((x) => !x.endsWith('.gz'))) {
    await readCaptureFile(f, (b) => {
      for (let i = 0; i < b.count && seeds.length < 4000; i++) seeds.push(Buffer.from(b.data.subarray(b.offset[i], b.offset[i] + b.caplen[i])));
    }, { firstOrdinal: 0 });
  }
  assert.ok(seeds.length > 100);
  let decoded = 0;
  for (let n = 0; n < 40000; n++) {
    const seed = seeds[n % seeds.length];
    const len = Math.min(buf.length, Math.floor(rand() * (seed.length + 8)));
    seed.copy(buf, 0, 0, Math.min(len, seed.length));
    for (let k = 0; k < 4; k++) buf[Math.floor(rand() * Math.max(1, len))] = Math.floor(rand() * 256);
    const lt = types[Math.floor(rand() * types.length)];
    // Packets at the very end of the buffer, so that any read past the capture would be past the buffer too.
    const off = buf.length - len;
    buf.copy(buf, off, 0, len);
    decodePacket(buf, off, len, len + Math.floor(rand() * 3), lt, pkt);
    if (pkt.payloadOff > buf.length || pkt.payloadOff + pkt.payloadLen > buf.length || pkt.payloadLen < 0) assert.fail(`payload outside the packet (linktype ${lt})`);
    decoded++;
  }
  assert.equal(decoded, 40000);
});

test('damaged pcapng blocks: reported and stopped, never an internal error', () => {
  const dir = tmpDir('ngfuzz');
  const src = fs.readFileSync(path.join(PCAPS, 'formats', 'multi-if.pcapng'));
  const rand = prng(99);
  for (let n = 0; n < 12; n++) {
    const b = Buffer.from(src);
    for (let k = 0; k < 6; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const f = path.join(dir, `d${n}.pcapng`);
    fs.writeFileSync(f, n % 3 === 0 ? b.subarray(0, Math.floor(rand() * b.length)) : b);
    const r = picket(['replay', f]);
    assert.ok(r.code === 0 || r.code === 2, `exit ${r.code}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
  }
  fs.rmSync(dir, { recursive: true });
});

test('not a capture, an empty file and a missing file: one clear line, exit 2', () => {
  const dir = tmpDir('notcap');
  const txt = path.join(dir, 'notes.txt');
  fs.writeFileSync(txt, 'hello, this is not a capture\n');
  const empty = path.join(dir, 'empty.pcap');
  fs.writeFileSync(empty, '');
  for (const [f, re] of [[txt, /notes\.txt: not a pcap or pcapng capture/], [empty, /empty\.pcap: not a pcap or pcapng capture/], [path.join(dir, 'nope.pcap'), /nope\.pcap: no such file/]] as const) {
    const r = picket(['replay', f]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  fs.rmSync(dir, { recursive: true });
});
