/**
 * The mutation side of bench/fuzz.ts: picket's bundled captures as seeds, and the damage done to them. Every
 * mutated file is a function of (seed, index) alone, so a failure found by a long campaign is made again by
 * `--seed S --only I` without the files before it.
 *
 * Two ways of making a file:
 *   - synth: the seeds' packets re-encoded in a format chosen at random (classic pcap in either byte order with µs
 *     or ns stamps, or pcapng in either byte order with its own interfaces, resolutions, offsets and block kinds),
 *     with packets and records damaged on the way (bytes, lengths inside the headers, lengths of the records and
 *     blocks, timestamps, duplicates, splices, protocol heads planted in payloads);
 *   - raw: a seed file's own bytes (its format as committed: gzip, pcapng options and all), its records or blocks
 *     repeated and their length fields damaged, then bytes damaged anywhere.
 * Either may then be gzip-compressed, and the compressed bytes damaged too.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { readCaptureFile } from '../src/capture/file';
import { mulberry32 } from '../src/util/prng';

export interface SeedPacket {
  linktype: number;
  sec: number;
  nsec: number;
  origlen: number;
  data: Buffer;
}

export interface SeedCapture {
  file: string;
  /** The file's bytes as committed (gzip included). */
  raw: Buffer;
  /** Decompressed bytes, for record and block mutations. */
  plain: Buffer;
  packets: SeedPacket[];
}

export interface MutatedFile {
  name: string;
  bytes: Buffer;
  /** Packet records written (before byte damage, which may make the framer read fewer or more). */
  packets: number;
  /** What was done, for the failure report. */
  recipe: string[];
}

type Rand = () => number;

/** Every capture under dir (pcap, pcapng, gzip), read once: the seeds of the campaign. */
export async function loadSeeds(dir: string): Promise<SeedCapture[]> {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(pcap|pcapng)(\.gz)?$/.test(e.name)) files.push(full);
    }
  };
  walk(dir);
  files.sort();
  const out: SeedCapture[] = [];
  for (const file of files) {
    const raw = fs.readFileSync(file);
    const plain = raw[0] === 0x1f && raw[1] === 0x8b ? zlib.gunzipSync(raw) : raw;
    const packets: SeedPacket[] = [];
    await readCaptureFile(file, (b) => {
      for (let i = 0; i < b.count; i++) {
        packets.push({
          linktype: b.linktype[i], sec: b.tsSec[i], nsec: b.tsNsec[i], origlen: b.origlen[i],
          data: Buffer.from(b.data.subarray(b.offset[i], b.offset[i] + b.caplen[i])),
        });
      }
    }, { firstOrdinal: 0 });
    if (packets.length > 0) out.push({ file, raw, plain, packets });
  }
  return out;
}

// ---------- small helpers ----------

function int(r: Rand, n: number): number {
  return Math.floor(r() * n);
}
function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[int(r, xs.length)];
}
/** Log-uniform in [lo, hi]: small and large values alike (file sizes, damage rates). */
function logUniform(r: Rand, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo)));
}
function randomBytes(r: Rand, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = int(r, 256);
  return b;
}
/** Values a length or count field is most often wrong with: zero, one, off by a little, all ones, anything. */
function oddValue(r: Rand, v: number, max: number): number {
  switch (int(r, 7)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return Math.max(0, v - 1 - int(r, 8));
    case 3: return Math.min(max, v + 1 + int(r, 8));
    case 4: return max;
    case 5: return Math.min(max, v * 2 + int(r, 64));
    default: return int(r, max + 1);
  }
}

// ---------- packet damage ----------

const VLAN_TYPES = new Set([0x8100, 0x88a8, 0x9100]);

/** Offset of the IP header inside a frame of the given link type, or -1 (only for aiming damage at fields). */
function l3Offset(d: Buffer, lt: number): number {
  let type = -1;
  let p = 0;
  if (lt === 1) {
    if (d.length < 14) return -1;
    type = d.readUInt16BE(12);
    p = 14;
  } else if (lt === 113) {
    if (d.length < 16) return -1;
    type = d.readUInt16BE(14);
    p = 16;
  } else if (lt === 276) {
    if (d.length < 20) return -1;
    type = d.readUInt16BE(0);
    p = 20;
  } else if (lt === 0 || lt === 108) {
    return d.length > 4 ? 4 : -1;
  } else if (lt === 101 || lt === 12 || lt === 14 || lt === 228 || lt === 229) {
    return d.length > 0 ? 0 : -1;
  } else {
    return -1;
  }
  while (VLAN_TYPES.has(type) && p + 4 <= d.length) {
    type = d.readUInt16BE(p + 2);
    p += 4;
  }
  return type === 0x0800 || type === 0x86dd ? p : -1;
}

interface Field { off: number; size: 1 | 2 | 4; nibble?: 'hi' | 'lo' }

/** The length, count and type fields of the IP, transport and first application header of a frame. */
function lengthFields(d: Buffer, lt: number): { fields: Field[]; payload: number; l4: number; proto: number } {
  const fields: Field[] = [];
  const o = l3Offset(d, lt);
  let l4 = -1;
  let proto = -1;
  let payload = -1;
  if (o < 0 || o >= d.length) return { fields, payload, l4, proto };
  const v = d[o] >> 4;
  if (v === 4 && o + 20 <= d.length) {
    fields.push({ off: o, size: 1, nibble: 'lo' }, { off: o + 2, size: 2 }, { off: o + 6, size: 2 }, { off: o + 9, size: 1 });
    l4 = o + (d[o] & 15) * 4;
    proto = d[o + 9];
  } else if (v === 6 && o + 40 <= d.length) {
    fields.push({ off: o + 4, size: 2 }, { off: o + 6, size: 1 });
    l4 = o + 40;
    proto = d[o + 6];
    // One extension header: its next header and length.
    if ((proto === 0 || proto === 43 || proto === 60) && l4 + 8 <= d.length) {
      fields.push({ off: l4, size: 1 }, { off: l4 + 1, size: 1 });
      proto = d[l4];
      l4 += (d[l4 + 1] + 1) * 8;
    }
  }
  if (l4 > 0 && proto === 6 && l4 + 20 <= d.length) {
    fields.push({ off: l4 + 12, size: 1, nibble: 'hi' }, { off: l4 + 13, size: 1 });
    payload = l4 + (d[l4 + 12] >> 4) * 4;
  } else if (l4 > 0 && proto === 17 && l4 + 8 <= d.length) {
    fields.push({ off: l4 + 4, size: 2 });
    payload = l4 + 8;
  } else if (l4 > 0 && (proto === 1 || proto === 58) && l4 + 8 <= d.length) {
    fields.push({ off: l4, size: 1 }, { off: l4 + 1, size: 1 });
    payload = l4 + 8;
  }
  if (payload > 0 && payload + 12 <= d.length) {
    // DNS counts, TLS record and handshake lengths, QUIC long-header lengths: whatever the payload is, these are
    // where its first lengths sit.
    fields.push({ off: payload + 3, size: 2 }, { off: payload + 4, size: 2 }, { off: payload + 6, size: 2 }, { off: payload + 5, size: 1 }, { off: payload + 7, size: 2 });
  }
  return { fields: fields.filter((f) => f.off + f.size <= d.length), payload, l4, proto };
}

function damageField(r: Rand, d: Buffer, f: Field): void {
  if (f.nibble !== undefined) {
    const cur = f.nibble === 'hi' ? d[f.off] >> 4 : d[f.off] & 15;
    const nv = oddValue(r, cur, 15);
    d[f.off] = f.nibble === 'hi' ? (d[f.off] & 0x0f) | (nv << 4) : (d[f.off] & 0xf0) | nv;
  } else if (f.size === 1) {
    d[f.off] = oddValue(r, d[f.off], 255);
  } else if (f.size === 2) {
    d.writeUInt16BE(oddValue(r, d.readUInt16BE(f.off), 0xffff), f.off);
  } else {
    d.writeUInt32BE(oddValue(r, d.readUInt32BE(f.off), 0xffffffff) >>> 0, f.off);
  }
}

/** Sets the IP and UDP lengths from the frame's end, so that a planted payload reaches the parsers. */
function fixLengths(d: Buffer, lt: number): void {
  const o = l3Offset(d, lt);
  if (o < 0) return;
  const v = d[o] >> 4;
  let l4 = -1;
  let proto = -1;
  if (v === 4 && o + 20 <= d.length) {
    d.writeUInt16BE(Math.min(0xffff, d.length - o), o + 2);
    l4 = o + (d[o] & 15) * 4;
    proto = d[o + 9];
  } else if (v === 6 && o + 40 <= d.length) {
    d.writeUInt16BE(Math.min(0xffff, d.length - o - 40), o + 4);
    l4 = o + 40;
    proto = d[o + 6];
  }
  if (proto === 17 && l4 + 8 <= d.length) d.writeUInt16BE(Math.min(0xffff, d.length - l4), l4 + 4);
}

/** Heads of the protocols picket parses, some of them built to be expensive or misleading. */
function plantedHead(r: Rand): Buffer {
  switch (int(r, 9)) {
    case 0: {
      // HTTP with many header lines, with and without colons (a colon search not bounded by its line was slow).
      const lines: string[] = [`${pick(r, ['GET', 'POST', 'HEAD', 'OPTIONS'])} /${'a'.repeat(int(r, 64))} HTTP/1.1`];
      const n = int(r, 120);
      for (let i = 0; i < n; i++) lines.push(r() < 0.7 ? `X-Line-${i}-without-colon` : `X-H${i}: v`);
      if (r() < 0.5) lines.push(`Host: ${pick(r, ['api.shodan.io', 'example.com', '[::1]:8', 'a:b:c', ''])}`);
      return Buffer.from(`${lines.join('\r\n')}\r\n${r() < 0.5 ? '\r\n' : ''}`, 'latin1');
    }
    case 1:
      return Buffer.from(`SSH-${pick(r, ['2.0', '1.99', '1.5', ''])}-${'x'.repeat(int(r, 300))}${r() < 0.5 ? ' c' : ''}${pick(r, ['\r\n', '\n', '', '\r'])}`, 'latin1');
    case 2: {
      // A TLS record announcing a ClientHello with lengths that may or may not fit.
      const body = randomBytes(r, int(r, 600));
      const h = Buffer.from([0x16, 0x03, int(r, 5), 0, 0, 0x01, 0, 0, 0, 0x03, 0x03]);
      h.writeUInt16BE(oddValue(r, body.length + 6, 0xffff), 3);
      h.writeUIntBE(oddValue(r, body.length + 2, 0xffffff), 6, 3);
      return Buffer.concat([h, body]);
    }
    case 3: {
      // One-byte TLS records (a known trick against SNI filters), many of them.
      const parts: Buffer[] = [];
      const n = 1 + int(r, 400);
      for (let i = 0; i < n; i++) parts.push(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x01, i === 0 ? 0x01 : int(r, 256)]));
      return Buffer.concat(parts);
    }
    case 4: {
      // DNS with compression pointers that loop, point forward, or chain.
      const h = Buffer.from([int(r, 256), int(r, 256), r() < 0.5 ? 0x01 : 0x81, int(r, 4), 0, 1, 0, int(r, 80), 0, 0, 0, 0]);
      const parts: Buffer[] = [h];
      const n = int(r, 40);
      for (let i = 0; i < n; i++) parts.push(r() < 0.5 ? Buffer.from([0xc0, 12 + int(r, 40)]) : Buffer.from([3, 0x61, 0x62, 0x63]));
      parts.push(Buffer.from([0, 0, 1, 0, 1]));
      return Buffer.concat(parts);
    }
    case 5: {
      // A QUIC v1 long header with odd lengths (the Initial's keys come from any DCID).
      const h = Buffer.from([0xc0 | int(r, 4), 0, 0, 0, 1, int(r, 22)]);
      return Buffer.concat([h, randomBytes(r, 20 + int(r, 1300))]);
    }
    case 6:
      return Buffer.from('\r\n'.repeat(1 + int(r, 2000)), 'latin1');
    case 7:
      return Buffer.from(`GET ${'/'.repeat(int(r, 9000))} HTTP/1.0\r\n`, 'latin1');
    default:
      return randomBytes(r, int(r, 1500));
  }
}

const MAX_CAPLEN = 262144;

/**
 * One packet damaged in one of the ways captures and packets go wrong. Returns the packets that take its place
 * (none, itself, or several: duplicates and splices).
 */
function damagePacket(r: Rand, p: SeedPacket, all: readonly SeedPacket[], recipe: string[]): SeedPacket[] {
  const d = Buffer.from(p.data);
  const q: SeedPacket = { ...p, data: d };
  const op = int(r, 14);
  const head = (): number => (r() < 0.7 ? int(r, Math.min(d.length, 64)) : int(r, d.length));
  switch (op) {
    case 0: // bit flips, mostly in the headers
      for (let k = 1 + int(r, 4); k > 0 && d.length > 0; k--) d[head()] ^= 1 << int(r, 8);
      break;
    case 1: // bytes set to 0x00, 0xff or anything
      for (let k = 1 + int(r, 4); k > 0 && d.length > 0; k--) d[head()] = pick(r, [0, 0xff, int(r, 256)]);
      break;
    case 2: // cut by a snap length: fewer bytes captured than were on the wire
      q.data = d.subarray(0, int(r, d.length + 1));
      q.origlen = Math.max(p.origlen, d.length);
      break;
    case 3: // cut and lying about it
      q.data = d.subarray(0, int(r, d.length + 1));
      q.origlen = q.data.length;
      break;
    case 4: { // grown: trailing bytes, a few or up to the largest record
      const n = r() < 0.9 ? 1 + int(r, 64) : int(r, Math.max(1, MAX_CAPLEN - d.length));
      q.data = Buffer.concat([d, r() < 0.5 ? Buffer.alloc(n) : randomBytes(r, n)]);
      q.origlen = q.data.length;
      if (r() < 0.5) fixLengths(q.data, q.linktype);
      break;
    }
    case 5:
    case 6: { // a length, count or type field of a header set to a value it is often wrong with
      const { fields } = lengthFields(d, p.linktype);
      for (let k = 1 + int(r, 2); k > 0 && fields.length > 0; k--) damageField(r, d, pick(r, fields));
      break;
    }
    case 7: { // duplicated (retransmissions, floods of one packet)
      recipe.push('dup');
      const n = 2 + int(r, r() < 0.9 ? 3 : 200);
      return new Array<SeedPacket>(n).fill(q);
    }
    case 8: { // spliced: this packet's head, another's tail
      const o = pick(r, all);
      const cut = int(r, d.length + 1);
      q.data = Buffer.concat([d.subarray(0, cut), o.data.subarray(int(r, o.data.length + 1))]);
      q.origlen = Math.max(q.data.length, r() < 0.5 ? q.data.length : p.origlen);
      break;
    }
    case 9: // timestamps at the ends of what the fields hold
      q.sec = pick(r, [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, int(r, 2 ** 32)]);
      q.nsec = pick(r, [0, 999_999_999, int(r, 1e9)]);
      break;
    case 10: // original length at the ends
      q.origlen = pick(r, [0, 1, d.length - 1, 0xffffffff, 0x7fffffff]);
      break;
    case 11: // dropped
      return [];
    case 12: { // a protocol head planted in the payload
      const { payload } = lengthFields(d, p.linktype);
      if (payload < 0) break;
      const h = plantedHead(r);
      const cut = r() < 0.8 ? h.length : int(r, h.length + 1);
      q.data = Buffer.concat([d.subarray(0, payload), h.subarray(0, cut)]).subarray(0, MAX_CAPLEN);
      q.origlen = q.data.length;
      fixLengths(q.data, q.linktype);
      break;
    }
    default: // another link type than the one it was captured with
      q.linktype = pick(r, [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, int(r, 300)]);
      break;
  }
  recipe.push(`p${op}`);
  return [q];
}

// ---------- writing records ----------

/**
 * Which records of n get their framing damaged: none in half the files, a few in the rest. A framing error stops
 * the file (formats without sync markers cannot be re-synchronised), so damage at a rate would leave little of
 * a file to replay.
 */
function framingDamage(r: Rand, n: number): Set<number> {
  const out = new Set<number>();
  if (n === 0 || r() < 0.5) return out;
  for (let k = 1 + int(r, 3); k > 0; k--) out.add(int(r, n));
  return out;
}

class Out {
  parts: Buffer[] = [];
  size = 0;
  constructor(readonly le: boolean) {}
  u8(v: number): void {
    this.push(Buffer.from([v & 255]));
  }
  u16(v: number): void {
    const b = Buffer.allocUnsafe(2);
    if (this.le) b.writeUInt16LE(v & 0xffff); else b.writeUInt16BE(v & 0xffff);
    this.push(b);
  }
  u32(v: number): void {
    const b = Buffer.allocUnsafe(4);
    if (this.le) b.writeUInt32LE(v >>> 0); else b.writeUInt32BE(v >>> 0);
    this.push(b);
  }
  push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts, this.size);
  }
}

/** Classic pcap in the given byte order and resolution, a few record headers damaged. */
function writePcap(r: Rand, pkts: readonly SeedPacket[], le: boolean, ns: boolean, recipe: string[]): Buffer {
  const hit = framingDamage(r, pkts.length);
  const o = new Out(le);
  o.u32(ns ? 0xa1b23c4d : 0xa1b2c3d4);
  o.u16(2);
  o.u16(4);
  o.u32(0);
  o.u32(0);
  o.u32(r() < 0.9 ? 262144 : int(r, 2 ** 32));
  // The link type of the first packet; packets of other types are read as this one (fcs bits sometimes set).
  o.u32((pkts[0]?.linktype ?? 1) | (r() < 0.05 ? 0x1c000000 : 0));
  for (const [n, p] of pkts.entries()) {
    let incl = p.data.length;
    let orig = p.origlen;
    let sec = p.sec;
    let frac = ns ? p.nsec : Math.floor(p.nsec / 1000);
    if (hit.has(n)) {
      const k = int(r, 4);
      recipe.push(`r${k}`);
      if (k === 0) incl = oddValue(r, incl, r() < 0.5 ? 0xffffffff : MAX_CAPLEN); // the framing slips from here
      else if (k === 1) orig = oddValue(r, orig, 0xffffffff);
      else if (k === 2) frac = pick(r, [ns ? 1e9 : 1e6, 0xffffffff, int(r, 2 ** 32)]);
      else sec = pick(r, [0, 0xffffffff]);
    }
    o.u32(sec);
    o.u32(frac);
    o.u32(incl);
    o.u32(orig);
    o.push(p.data);
  }
  return o.bytes();
}

interface NgIface { linktype: number; resolByte: number; offset: bigint }

/** pcapng in the given byte order: one interface per link type, EPBs mostly, SPBs, OPBs and foreign blocks. */
function writePcapng(r: Rand, pkts: readonly SeedPacket[], le: boolean, recipe: string[]): Buffer {
  const o = new Out(le);
  const hit = framingDamage(r, pkts.length);
  let bigBlock = r() < 0.05;
  const block = (type: number, body: Buffer, damage: boolean): void => {
    const len = 12 + body.length;
    let lead = len;
    let trail = len;
    if (damage) {
      const k = int(r, 4);
      recipe.push(`b${k}`);
      if (k === 0) lead = oddValue(r, len, 0xffffffff);
      else if (k === 1) trail = oddValue(r, len, 0xffffffff);
      else if (k === 2) lead = trail = oddValue(r, len, 0xffffffff);
      else lead = trail = len + 4 * (1 + int(r, 16)); // consistent but longer than the block: the next one is eaten
    }
    o.u32(type);
    o.u32(lead);
    o.push(body);
    o.u32(trail);
  };
  const body = (): Out => new Out(le);
  const pad = (b: Buffer): Buffer => (b.length % 4 === 0 ? b : Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]));
  const shb = (): void => {
    const b = body();
    b.u32(0x1a2b3c4d);
    b.u16(1);
    b.u16(0);
    b.u32(0xffffffff);
    b.u32(0xffffffff);
    block(0x0a0d0d0a, b.bytes(), r() < 0.02);
  };
  shb();
  const ifaces = new Map<number, number>();
  const list: NgIface[] = [];
  const idb = (linktype: number): number => {
    const b = body();
    b.u16(linktype);
    b.u16(0);
    b.u32(r() < 0.9 ? 0 : int(r, 2 ** 32));
    const iface: NgIface = { linktype, resolByte: 6, offset: 0n };
    const resolChoice = int(r, 10);
    if (resolChoice < 3) {
      // 10^-9 and 2^-n are what real tools write; anything else is damage (1 s, 10^-30, 2^-127 ...).
      iface.resolByte = resolChoice === 0 ? 9 : resolChoice === 1 ? 0x80 | (10 + int(r, 30)) : (r() < 0.5 ? int(r, 256) : 0);
    }
    if (resolChoice < 3) {
      b.u16(9);
      b.u16(1);
      b.push(Buffer.from([iface.resolByte, 0, 0, 0]));
    }
    if (r() < 0.15) {
      iface.offset = pick(r, [1n, -1n, 2n ** 62n, -(2n ** 62n), BigInt(int(r, 2 ** 31))]);
      b.u16(14);
      b.u16(8);
      const v = Buffer.alloc(8);
      if (le) v.writeBigInt64LE(iface.offset); else v.writeBigInt64BE(iface.offset);
      b.push(v);
    }
    b.u16(0);
    b.u16(0);
    block(1, b.bytes(), r() < 0.03);
    list.push(iface);
    return list.length - 1;
  };
  const units = (p: SeedPacket, iface: NgIface): bigint => {
    const rb = iface.resolByte;
    const ns = BigInt(p.sec) * 1_000_000_000n + BigInt(p.nsec);
    let u: bigint;
    if ((rb & 0x80) !== 0) u = (ns * (1n << BigInt(rb & 0x7f))) / 1_000_000_000n;
    else {
      const e = rb & 0x7f;
      u = e >= 9 ? ns * 10n ** BigInt(e - 9) : ns / 10n ** BigInt(9 - e);
    }
    // if_tsoffset is not taken off: the packet's time just moves, which is as good a test.
    return u & 0xffffffffffffffffn;
  };
  for (const [n, p] of pkts.entries()) {
    let id = ifaces.get(p.linktype);
    if (id === undefined) {
      id = idb(p.linktype);
      ifaces.set(p.linktype, id);
    }
    const iface = list[id];
    const damage = hit.has(n);
    const kind = r() < 0.97 ? 'epb' : pick(r, ['spb', 'opb', 'nrb', 'shb', 'idb']);
    let ts = units(p, iface);
    if (damage && r() < 0.3) {
      ts = pick(r, [0n, 0xffffffffffffffffn, 1n << 63n, BigInt(int(r, 2 ** 32)) << 32n]);
      recipe.push('ts');
    }
    const b = body();
    const data = pad(p.data);
    let incl = p.data.length;
    if (damage && r() < 0.3) {
      incl = oddValue(r, incl, 0xffffffff);
      recipe.push('incl');
    }
    const ifId = damage && r() < 0.1 ? int(r, 8) : id;
    if (kind === 'epb' || kind === 'opb') {
      if (kind === 'epb') b.u32(ifId); else {
        b.u16(ifId);
        b.u16(0);
      }
      b.u32(Number(ts >> 32n));
      b.u32(Number(ts & 0xffffffffn));
      b.u32(incl);
      b.u32(p.origlen);
      b.push(data);
      if (r() < 0.1) {
        // an epb_flags option and the end of options
        b.u16(2);
        b.u16(4);
        b.u32(1);
        b.u16(0);
        b.u16(0);
      }
      block(kind === 'epb' ? 6 : 2, b.bytes(), damage && r() < 0.5);
    } else if (kind === 'spb') {
      b.u32(p.origlen);
      b.push(data);
      block(3, b.bytes(), damage && r() < 0.5);
    } else if (kind === 'nrb') {
      // Name resolution or a custom block: skipped by length, sometimes large.
      const big = bigBlock;
      bigBlock = false;
      block(pick(r, [4, 0x00000bad, 0x40000bad, 5]), pad(randomBytes(r, big ? int(r, 2_000_000) : int(r, 200))), damage && r() < 0.5);
      continue;
    } else if (kind === 'shb') {
      // A new section: interfaces start again (the packet is lost; the next one makes its interface anew).
      shb();
      ifaces.clear();
      list.length = 0;
      continue;
    } else {
      idb(p.linktype); // a second interface of the same type; ids shift
    }
  }
  return o.bytes();
}

// ---------- raw mode: a seed file's own bytes ----------

/** The records of a classic pcap, or null when the bytes are not one (pcapng, damaged). */
function pcapRecords(b: Buffer): { le: boolean; recs: Array<[number, number]> } | null {
  if (b.length < 24) return null;
  const m = b.readUInt32LE(0);
  const le = m === 0xa1b2c3d4 || m === 0xa1b23c4d;
  const be = b.readUInt32BE(0) === 0xa1b2c3d4 || b.readUInt32BE(0) === 0xa1b23c4d;
  if (!le && !be) return null;
  const recs: Array<[number, number]> = [];
  for (let p = 24; p + 16 <= b.length;) {
    const incl = le ? b.readUInt32LE(p + 8) : b.readUInt32BE(p + 8);
    if (p + 16 + incl > b.length) break;
    recs.push([p, 16 + incl]);
    p += 16 + incl;
  }
  return { le, recs };
}

/** The blocks of a pcapng file (first section's byte order), or null. */
function pcapngBlocks(b: Buffer): { le: boolean; blocks: Array<[number, number]> } | null {
  if (b.length < 12 || b.readUInt32LE(0) !== 0x0a0d0d0a) return null;
  const le = b.readUInt32LE(8) === 0x1a2b3c4d;
  const blocks: Array<[number, number]> = [];
  for (let p = 0; p + 12 <= b.length;) {
    const len = le ? b.readUInt32LE(p + 4) : b.readUInt32BE(p + 4);
    if (len < 12 || p + len > b.length) break;
    blocks.push([p, len]);
    p += len;
  }
  return { le, blocks };
}

function rawFile(r: Rand, seed: SeedCapture, target: number, recipe: string[]): { bytes: Buffer; packets: number } {
  const src = seed.plain;
  const hit = framingDamage(r, target);
  const pc = pcapRecords(src);
  if (pc !== null) {
    const parts: Buffer[] = [src.subarray(0, 24)];
    let n = 0;
    while (n < target && pc.recs.length > 0) {
      for (const [p, len] of pc.recs) {
        const rec = Buffer.from(src.subarray(p, p + len));
        if (hit.has(n)) {
          // the record header's lengths: the framing of everything after depends on them
          const at = pick(r, [8, 12]);
          const v = pc.le ? rec.readUInt32LE(at) : rec.readUInt32BE(at);
          const nv = oddValue(r, v, r() < 0.5 ? 0xffffffff : MAX_CAPLEN) >>> 0;
          if (pc.le) rec.writeUInt32LE(nv, at); else rec.writeUInt32BE(nv, at);
          recipe.push('rl');
        }
        parts.push(rec);
        if (++n >= target) break;
      }
    }
    return { bytes: Buffer.concat(parts), packets: n };
  }
  const ng = pcapngBlocks(src);
  if (ng !== null) {
    const parts: Buffer[] = [];
    let n = 0;
    const isPacket = (t: number): boolean => t === 6 || t === 3 || t === 2;
    const type = (p: number): number => (ng.le ? src.readUInt32LE(p) : src.readUInt32BE(p));
    // The section header and interfaces once, then the packet blocks over and over (the same interfaces).
    const head = ng.blocks.filter(([p]) => !isPacket(type(p)));
    const body = ng.blocks.filter(([p]) => isPacket(type(p)));
    for (const [p, len] of head) parts.push(src.subarray(p, p + len));
    while (n < target && body.length > 0) {
      for (const [p, len] of body) {
        const blk = Buffer.from(src.subarray(p, p + len));
        if (hit.has(n)) {
          const at = pick(r, [4, len - 4, 20, 24, 8, 12, 16]);
          if (at + 4 <= blk.length) {
            const v = ng.le ? blk.readUInt32LE(at) : blk.readUInt32BE(at);
            const nv = oddValue(r, v, 0xffffffff) >>> 0;
            if (ng.le) blk.writeUInt32LE(nv, at); else blk.writeUInt32BE(nv, at);
            recipe.push(`bl${at}`);
          }
        }
        parts.push(blk);
        if (++n >= target) break;
      }
    }
    return { bytes: Buffer.concat(parts), packets: n };
  }
  return { bytes: Buffer.from(src), packets: 0 };
}

// ---------- the whole file ----------

export interface MutateOptions {
  /** Largest number of packets in one file. */
  maxPackets: number;
}

/** File `index` of campaign `seed`: deterministic, whatever was made before it. */
export function mutatedFile(seeds: readonly SeedCapture[], allPackets: readonly SeedPacket[], seed: number, index: number, opts: MutateOptions): MutatedFile {
  const r = mulberry32((Math.imul(seed, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0);
  const recipe: string[] = [];
  // Mostly whole-ish files (deep state: flows, streams, scans), some tiny ones (framing edge cases).
  const target = Math.max(1, Math.round(r() < 0.3 ? logUniform(r, 1, 500) : logUniform(r, 500, opts.maxPackets)));
  const rate = logUniform(r, 0.0005, 0.5);
  let bytes: Buffer;
  let packets: number;
  let ext: string;
  if (r() < 0.25) {
    const s = pick(r, seeds);
    recipe.push(`raw:${path.basename(s.file)}`);
    ({ bytes, packets } = rawFile(r, s, target, recipe));
    ext = bytes.readUInt32LE(0) === 0x0a0d0d0a ? 'pcapng' : 'pcap';
  } else {
    // Packets of one to three seeds, in runs, repeated with time moving on, damaged at `rate`.
    const chosen = Array.from({ length: 1 + int(r, 3) }, () => pick(r, seeds));
    recipe.push(`synth:${chosen.map((c) => path.basename(c.file)).join('+')}`, `rate=${rate.toFixed(4)}`);
    const pkts: SeedPacket[] = [];
    let round = 0;
    while (pkts.length < target) {
      const s = chosen[round % chosen.length];
      const shift = Math.floor(round / chosen.length) * 3600;
      for (const p0 of s.packets) {
        const p = shift === 0 ? p0 : { ...p0, sec: p0.sec + shift };
        if (r() < rate) pkts.push(...damagePacket(r, p, allPackets, recipe));
        else pkts.push(p);
        if (pkts.length >= target) break;
      }
      round++;
    }
    const le = r() < 0.6;
    if (r() < 0.6) {
      const ns = r() < 0.4;
      bytes = writePcap(r, pkts, le, ns, recipe);
      ext = 'pcap';
      recipe.push(`pcap-${le ? 'le' : 'be'}-${ns ? 'ns' : 'us'}`);
    } else {
      bytes = writePcapng(r, pkts, le, recipe);
      ext = 'pcapng';
      recipe.push(`pcapng-${le ? 'le' : 'be'}`);
    }
    packets = pkts.length;
  }
  if (r() < 0.3) {
    // Bytes damaged anywhere, file headers included.
    const n = 1 + int(r, 8);
    for (let k = 0; k < n && bytes.length > 0; k++) {
      const at = r() < 0.3 ? int(r, Math.min(bytes.length, 64)) : int(r, bytes.length);
      bytes[at] = pick(r, [0, 0xff, int(r, 256), bytes[at] ^ (1 << int(r, 8))]);
    }
    recipe.push(`bytes${n}`);
  }
  if (r() < 0.1) {
    bytes = bytes.subarray(0, int(r, bytes.length + 1));
    recipe.push('cut');
  }
  if (r() < 0.2) {
    bytes = zlib.gzipSync(bytes, { level: 1 });
    ext += '.gz';
    recipe.push('gzip');
    const k = int(r, 6);
    if (k === 0) {
      bytes[10 + int(r, Math.max(1, bytes.length - 18))] ^= 1 << int(r, 8); // the deflate data
      recipe.push('gz-data');
    } else if (k === 1) {
      bytes = bytes.subarray(0, int(r, bytes.length + 1));
      recipe.push('gz-cut');
    } else if (k === 2) {
      bytes[bytes.length - 1 - int(r, 8)] ^= 0xff; // CRC or size in the trailer
      recipe.push('gz-trailer');
    } else if (k === 3) {
      bytes = Buffer.concat([bytes, r() < 0.5 ? Buffer.alloc(int(r, 64)) : randomBytes(r, int(r, 64))]);
      recipe.push('gz-trailing');
    }
  }
  return { name: `f${index}.${ext}`, bytes, packets, recipe };
}
