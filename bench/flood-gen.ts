import * as fs from 'node:fs';
import { mulberry32 } from '../src/util/prng';
import { ipChecksum } from './checksum';
import { pcapFileHeader } from '../src/capture/pcap';

/** Destination ports of the floods: services scanners knock on, TCP and UDP. */
const FLOOD_PORTS = [22, 23, 53, 80, 123, 161, 443, 445, 1900, 3389, 5060, 8080];

/**
 * syn, udp: the floods below; hping3: the SYN flood with hping3's header traits (window 512, an acknowledgement
 * number: rules/fingerprints.yaml), as `hping3 -S --flood --rand-source` sends it; dns: an alert storm
 * (writeLookupStorm); scanner: one fast scanner (writeFastScan); syn6: the SYN flood over IPv6 (writeSyn6Flood).
 */
export type FloodKind = 'syn' | 'udp' | 'hping3' | 'dns' | 'scanner' | 'syn6';
export const FLOOD_KINDS: readonly FloodKind[] = ['syn', 'udp', 'hping3', 'dns', 'scanner', 'syn6'];

/**
 * Flood captures for the memory and keep-up benchmarks (bench/flood-rss.ts, bench/synflood.ts): 54-byte TCP SYNs
 * or 60-byte UDP datagrams, each from a new random external source to a random address of 10.0.0.0/16 (the home
 * net), 200 k a second of packet time. Deterministic for a kind and port list (fixed seeds).
 */
export function writeFlood(file: string, n: number, kind: FloodKind, ports: readonly number[] = FLOOD_PORTS): void {
  if (kind === 'dns') {
    writeLookupStorm(file, n);
    return;
  }
  if (kind === 'scanner') {
    writeFastScan(file, n);
    return;
  }
  if (kind === 'syn6') {
    writeSyn6Flood(file, n);
    return;
  }
  const r = mulberry32(kind === 'syn' ? 7 : kind === 'hping3' ? 13 : 11);
  const tcp = kind !== 'udp';
  const flen = tcp ? 54 : 60;
  writeRecords(file, n, flen, (chunk, p, i) => {
    const e = p + 16;
    const ip = recordHead(chunk, p, T0 + i / 200_000, flen, tcp ? 6 : 17);
    chunk.writeUInt16BE(Math.floor(r() * 65536), ip + 4);
    // Sources: random public-looking addresses (first octet 1-223, not 10, 100, 127, 172, 192).
    let a: number;
    do a = 1 + Math.floor(r() * 223); while (a === 10 || a === 100 || a === 127 || a === 172 || a === 192);
    chunk[ip + 12] = a;
    chunk[ip + 13] = Math.floor(r() * 256);
    chunk[ip + 14] = Math.floor(r() * 256);
    chunk[ip + 15] = 1 + Math.floor(r() * 254);
    randomHomeTarget(chunk, ip, r);
    chunk.writeUInt16BE(ipChecksum(chunk, ip), ip + 10);
    const t = ip + 20;
    chunk.writeUInt16BE(1024 + Math.floor(r() * 60000), t);
    chunk.writeUInt16BE(ports[Math.floor(r() * ports.length)], t + 2);
    if (tcp) {
      chunk.writeUInt32LE(Math.floor(r() * 2 ** 32), t + 4);
      if (kind === 'hping3') chunk.writeUInt32LE(1 + Math.floor(r() * (2 ** 32 - 1)), t + 8);
      chunk[t + 12] = 0x50;
      chunk[t + 13] = 0x02;
      chunk.writeUInt16BE(kind === 'hping3' ? 512 : 1024, t + 14);
    } else {
      chunk.writeUInt16BE(flen - 34, t + 4);
      for (let j = t + 8; j < e + flen; j++) chunk[j] = Math.floor(r() * 256);
    }
  });
}

/** The IPv4 destination at ip: a random address of 10.0.0.0/16 (the home net). */
function randomHomeTarget(chunk: Buffer, ip: number, r: () => number): void {
  chunk[ip + 16] = 10;
  chunk[ip + 17] = 0;
  chunk[ip + 18] = Math.floor(r() * 256);
  chunk[ip + 19] = 1 + Math.floor(r() * 254);
}

/** Packet time of the floods' first packet. */
const T0 = 1_790_000_000;

/** A pcap of n records of flen bytes each; fill(chunk, p, i) writes record i (its 16-byte header too) at chunk[p]. */
/** A pcap record's header at p and its frame's Ethernet header (the frame zeroed first): the network header's offset. */
function frameHead(chunk: Buffer, p: number, ts: number, flen: number, ethertype: number): number {
  chunk.writeUInt32LE(Math.floor(ts), p);
  chunk.writeUInt32LE(Math.floor((ts % 1) * 1e6), p + 4);
  chunk.writeUInt32LE(flen, p + 8);
  chunk.writeUInt32LE(flen, p + 12);
  const e = p + 16;
  chunk.fill(0, e, e + flen);
  chunk.writeUInt16BE(ethertype, e + 12);
  return e + 14;
}

function writeRecords(file: string, n: number, flen: number, fill: (chunk: Buffer, p: number, i: number) => void): void {
  const fd = fs.openSync(`${file}.tmp`, 'w');
  fs.writeSync(fd, pcapFileHeader(1, false));
  const rec = 16 + flen;
  const chunk = Buffer.alloc(rec * 8192);
  let k = 0;
  for (let i = 0; i < n; i++) {
    fill(chunk, k * rec, i);
    if (++k === 8192) {
      fs.writeSync(fd, chunk, 0, k * rec);
      k = 0;
    }
  }
  if (k > 0) fs.writeSync(fd, chunk, 0, k * rec);
  fs.closeSync(fd);
  fs.renameSync(`${file}.tmp`, file);
}

/** A pcap record's header at p and its frame's Ethernet and IPv4 headers (the frame zeroed first): the IPv4 offset. */
function recordHead(chunk: Buffer, p: number, ts: number, flen: number, ipProto: number): number {
  const ip = frameHead(chunk, p, ts, flen, 0x0800);
  chunk[ip] = 0x45;
  chunk.writeUInt16BE(flen - 14, ip + 2);
  chunk[ip + 8] = 64;
  chunk[ip + 9] = ipProto;
  return ip;
}

/** Names the lookup storm asks under: two IP-intelligence services of rules/intel and two ordinary domains. */
const STORM_DOMAINS = ['shodan.io', 'example.com', 'censys.io', 'wikipedia.org'];

/**
 * An alert storm (bench/flood-rss.ts --kinds dns): DNS queries, 100 k a second of packet time, from random clients
 * of 10.1.0.0/16 to 8.8.8.8, each for a new random name under STORM_DOMAINS in turn, so that half are intel lookups
 * and about 65 k clients each look two services up several times: every client's first lookup is an alert, and its
 * window's close an update.
 */
function writeLookupStorm(file: string, n: number): void {
  const r = mulberry32(5);
  const fd = fs.openSync(`${file}.tmp`, 'w');
  fs.writeSync(fd, pcapFileHeader(1, false));
  const chunk = Buffer.alloc(1 << 20);
  let at = 0;
  for (let i = 0; i < n; i++) {
    let label = '';
    const len = 8 + Math.floor(r() * 10);
    for (let j = 0; j < len; j++) label += String.fromCharCode(97 + Math.floor(r() * 26));
    const labels = [label, ...STORM_DOMAINS[i % STORM_DOMAINS.length].split('.')];
    const qlen = 12 + labels.reduce((a, l) => a + 1 + l.length, 0) + 5;
    const flen = 14 + 20 + 8 + qlen;
    if (at + 16 + flen > chunk.length) {
      fs.writeSync(fd, chunk, 0, at);
      at = 0;
    }
    const ip = recordHead(chunk, at, T0 + i / 100_000, flen, 17);
    chunk[ip + 12] = 10;
    chunk[ip + 13] = 1;
    chunk[ip + 14] = Math.floor(r() * 256);
    chunk[ip + 15] = 1 + Math.floor(r() * 254);
    chunk.fill(8, ip + 16, ip + 20);
    chunk.writeUInt16BE(ipChecksum(chunk, ip), ip + 10);
    const u = ip + 20;
    chunk.writeUInt16BE(1024 + Math.floor(r() * 60000), u);
    chunk.writeUInt16BE(53, u + 2);
    chunk.writeUInt16BE(8 + qlen, u + 4);
    let q = u + 8;
    chunk.writeUInt16BE(Math.floor(r() * 65536), q);
    chunk[q + 2] = 1; // RD
    chunk[q + 5] = 1; // one question
    q += 12;
    for (const l of labels) {
      chunk[q++] = l.length;
      q += chunk.write(l, q, 'latin1');
    }
    chunk[q] = 0;
    chunk.writeUInt16BE(1, q + 1); // A
    chunk.writeUInt16BE(1, q + 3); // IN
    at += 16 + flen;
  }
  if (at > 0) fs.writeSync(fd, chunk, 0, at);
  fs.closeSync(fd);
  fs.renameSync(`${file}.tmp`, file);
}

/** The fast scanner's ports: 20 common services and the same 20 shifted by 1000 to 4000 (100 in all). */
const SCANNER_PORTS = [21, 22, 23, 25, 53, 80, 110, 111, 135, 139, 143, 443, 445, 993, 995, 1723, 3306, 3389, 5900, 8080]
  .flatMap((p) => [0, 1000, 2000, 3000, 4000].map((d) => p + d));

/**
 * One fast scanner, as masscan runs against a /16: 1 M SYNs a second of packet time from 203.0.113.7 to random
 * addresses of 10.0.0.0/16 on random ports of SCANNER_PORTS, none answered. Its targets pass the exact cap within
 * milliseconds, so the rest of the run measures the sketched path (scan/spread.ts).
 */
function writeFastScan(file: string, n: number): void {
  const r = mulberry32(9);
  const flen = 54;
  writeRecords(file, n, flen, (chunk, p, i) => {
    const ip = recordHead(chunk, p, T0 + i / 1_000_000, flen, 6);
    chunk.writeUInt32BE(0xcb007107, ip + 12); // 203.0.113.7 (TEST-NET-3)
    randomHomeTarget(chunk, ip, r);
    chunk.writeUInt16BE(ipChecksum(chunk, ip), ip + 10);
    const t = ip + 20;
    chunk.writeUInt16BE(40000 + (i % 20000), t);
    chunk.writeUInt16BE(SCANNER_PORTS[Math.floor(r() * SCANNER_PORTS.length)], t + 2);
    chunk.writeUInt32LE(Math.floor(r() * 2 ** 32), t + 4);
    chunk[t + 12] = 0x50;
    chunk[t + 13] = 0x02;
    chunk.writeUInt16BE(1024, t + 14);
  });
}

/**
 * The SYN flood over IPv6: 74-byte SYNs, each from a new random address of 2001:db8::/32 to a random address of
 * fd00::/64 (inside the default home net, fc00::/7), to port 443, 200 k a second of packet time. IPv6 sources are
 * keyed by their text, so this is the flood that makes an address's text for every packet.
 */
function writeSyn6Flood(file: string, n: number): void {
  const r = mulberry32(21);
  const flen = 14 + 40 + 20;
  writeRecords(file, n, flen, (chunk, p, i) => {
    const ip = frameHead(chunk, p, T0 + i / 200_000, flen, 0x86dd);
    chunk[ip] = 0x60;
    chunk.writeUInt16BE(20, ip + 4);
    chunk[ip + 6] = 6;
    chunk[ip + 7] = 64;
    chunk.writeUInt32BE(0x20010db8, ip + 8);
    for (let j = 12; j < 24; j++) chunk[ip + j] = Math.floor(r() * 256);
    chunk.writeUInt32BE(0xfd000000, ip + 24);
    for (let j = 32; j < 40; j++) chunk[ip + j] = Math.floor(r() * 256);
    const t = ip + 40;
    chunk.writeUInt16BE(1024 + Math.floor(r() * 60000), t);
    chunk.writeUInt16BE(443, t + 2);
    chunk.writeUInt32LE(Math.floor(r() * 2 ** 32), t + 4);
    chunk[t + 12] = 0x50;
    chunk[t + 13] = 0x02;
    chunk.writeUInt16BE(1024, t + 14);
  });
}
