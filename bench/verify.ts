/**
 * Checks a generated pcap against its truth file, independently of the generator's code paths:
 *
 *   node dist/bench/verify.js bench/data/mix-200k.pcap [--truth FILE] [--tshark]
 *
 * 1. Re-parses every record in plain Node: packet/byte totals, first/last timestamps, timestamps non-decreasing,
 *    and IPv4 header / TCP / UDP / ICMP checksums of every frame that is neither deliberately malformed nor cut by
 *    the snaplen (computed byte by byte here, not with the generator's prefix-sum shortcut).
 * 2. With --tshark: frames tshark flags as malformed (or with error-level expert info) must be exactly deliberate
 *    ones; DNS query names counted by tshark must match the truth file for every intel and decoy name, and the
 *    total number of queries must match counts.dnsQueries.
 * Exit status 0 when everything agrees, 1 otherwise.
 */
import * as fs from 'fs';
import { spawnSync } from 'child_process';
import { defaultTruthPath, type Truth } from './gen';

interface Problems {
  list: string[];
  add(msg: string): void;
}

function problems(): Problems {
  const list: string[] = [];
  return {
    list,
    add(msg: string): void {
      if (list.length < 200) list.push(msg);
    },
  };
}

function sum16(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

interface ScanResult {
  packets: number;
  bytes: number;
  firstTs: number;
  lastTs: number;
  checked: { ipv4: number; tcp: number; udp: number; icmp: number };
  bad: number;
  nonMonotonic: number;
}

/** Streams the file record by record. */
function scanPcap(file: string, skip: Set<number>, pr: Problems): ScanResult {
  const fd = fs.openSync(file, 'r');
  const CH = 16 << 20;
  let buf = Buffer.allocUnsafe(CH + 70000);
  let have = fs.readSync(fd, buf, 0, CH, null);
  if (have < 24 || buf.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  if (buf.readUInt32LE(20) !== 1) throw new Error(`${file}: linktype ${buf.readUInt32LE(20)} (expected 1)`);
  let pos = 24;
  const res: ScanResult = { packets: 0, bytes: 0, firstTs: 0, lastTs: 0, checked: { ipv4: 0, tcp: 0, udp: 0, icmp: 0 }, bad: 0, nonMonotonic: 0 };
  let prevUs = -1;
  let eof = false;
  for (;;) {
    if (!eof && have - pos < 70000) {
      buf.copy(buf, 0, pos, have);
      have -= pos;
      pos = 0;
      if (buf.length - have < CH) {
        const nb = Buffer.allocUnsafe(have + CH + 70000);
        buf.copy(nb, 0, 0, have);
        buf = nb;
      }
      const n = fs.readSync(fd, buf, have, CH, null);
      if (n === 0) eof = true;
      have += n;
    }
    if (have - pos < 16) {
      if (have - pos !== 0) pr.add(`trailing ${have - pos} bytes`);
      break;
    }
    const sec = buf.readUInt32LE(pos);
    const usec = buf.readUInt32LE(pos + 4);
    const caplen = buf.readUInt32LE(pos + 8);
    const origlen = buf.readUInt32LE(pos + 12);
    if (have - pos - 16 < caplen) {
      pr.add(`record ${res.packets + 1} truncated at end of file`);
      break;
    }
    const frame = ++res.packets;
    res.bytes += caplen;
    const us = sec * 1e6 + usec;
    if (usec >= 1e6) pr.add(`frame ${frame}: usec ${usec}`);
    if (prevUs >= 0 && us < prevUs) res.nonMonotonic++;
    if (prevUs < 0) res.firstTs = us / 1e6;
    prevUs = us;
    res.lastTs = us / 1e6;
    if (caplen > origlen) pr.add(`frame ${frame}: caplen ${caplen} > origlen ${origlen}`);
    const f0 = pos + 16;
    if (!skip.has(frame) && caplen === origlen) {
      const err = checkFrame(buf, f0, f0 + caplen, res);
      if (err !== null) {
        res.bad++;
        pr.add(`frame ${frame}: ${err}`);
      }
    }
    pos = f0 + caplen;
  }
  fs.closeSync(fd);
  return res;
}

function checkFrame(b: Buffer, s: number, end: number, res: ScanResult): string | null {
  let o = s + 12;
  let et = b.readUInt16BE(o);
  while (et === 0x8100 || et === 0x88a8) {
    o += 4;
    et = b.readUInt16BE(o);
  }
  o += 2;
  let proto: number;
  let l4: number;
  let pseudo: number;
  let l4len: number;
  if (et === 0x0800) {
    const ihl = (b[o] & 15) * 4;
    if (b[o] >> 4 !== 4 || ihl < 20) return 'bad IPv4 version/IHL';
    if (fold(sum16(b, o, o + ihl)) !== 0xffff) return 'IPv4 header checksum';
    res.checked.ipv4++;
    const tot = b.readUInt16BE(o + 2);
    if (o + tot !== end) return `IPv4 total length ${tot} vs frame (${end - o} bytes of IP)`;
    proto = b[o + 9];
    l4 = o + ihl;
    l4len = tot - ihl;
    pseudo = sum16(b, o + 12, o + 20) + proto + l4len;
  } else if (et === 0x86dd) {
    const plen = b.readUInt16BE(o + 4);
    if (o + 40 + plen !== end) return `IPv6 payload length ${plen} vs frame`;
    let nh = b[o + 6];
    l4 = o + 40;
    while (nh === 0 || nh === 60 || nh === 43) {
      nh = b[l4];
      l4 += (b[l4 + 1] + 1) * 8;
    }
    proto = nh;
    l4len = end - l4;
    pseudo = sum16(b, o + 8, o + 40) + proto + l4len;
  } else {
    return `ethertype 0x${et.toString(16)}`;
  }
  if (proto === 6) {
    res.checked.tcp++;
    if (fold(pseudo + sum16(b, l4, l4 + l4len)) !== 0xffff) return 'TCP checksum';
    const doff = (b[l4 + 12] >> 4) * 4;
    if (doff < 20 || doff > l4len) return `TCP data offset ${doff}`;
  } else if (proto === 17) {
    res.checked.udp++;
    if (b.readUInt16BE(l4 + 4) !== l4len) return 'UDP length';
    if (b.readUInt16BE(l4 + 6) === 0) return 'UDP checksum 0';
    if (fold(pseudo + sum16(b, l4, l4 + l4len)) !== 0xffff) return 'UDP checksum';
  } else if (proto === 1) {
    res.checked.icmp++;
    if (fold(sum16(b, l4, l4 + l4len)) !== 0xffff) return 'ICMP checksum';
  } else {
    return `IP protocol ${proto}`;
  }
  return null;
}

function tshark(args: string[]): string {
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`tshark ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function main(argv: string[]): number {
  let file = '';
  let truthFile = '';
  let useTshark = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--truth') truthFile = argv[++i] ?? '';
    else if (a === '--tshark') useTshark = true;
    else if (file === '') file = a;
    else throw new Error(`unexpected argument ${a}`);
  }
  if (file === '') throw new Error('usage: node dist/bench/verify.js FILE.pcap [--truth FILE.json] [--tshark]');
  if (truthFile === '') truthFile = defaultTruthPath(file);
  const truth = JSON.parse(fs.readFileSync(truthFile, 'utf8')) as Truth;
  const pr = problems();
  const malformed = new Map<number, string>();
  for (const m of truth.malformedFrames) malformed.set(m.frame, m.kind);

  const t0 = Date.now();
  const r = scanPcap(file, new Set(malformed.keys()), pr);
  const eq = (what: string, got: number, want: number): void => {
    if (got !== want) pr.add(`${what}: file has ${got}, truth says ${want}`);
  };
  eq('packets', r.packets, truth.packets);
  eq('bytes (sum of caplen)', r.bytes, truth.bytes);
  eq('file size', fs.statSync(file).size, 24 + 16 * truth.packets + truth.bytes);
  if (Math.abs(r.firstTs - truth.firstTs) > 1e-6) pr.add(`firstTs ${r.firstTs} vs ${truth.firstTs}`);
  if (Math.abs(r.lastTs - truth.lastTs) > 1e-6) pr.add(`lastTs ${r.lastTs} vs ${truth.lastTs}`);
  if (r.nonMonotonic > 0) pr.add(`${r.nonMonotonic} timestamps go backwards`);
  const c = r.checked;
  process.stdout.write(
    `scan: ${r.packets} packets, ${r.bytes} bytes, ${(r.lastTs - r.firstTs).toFixed(3)} s; checksums verified: ` +
      `${c.ipv4} IPv4 headers, ${c.tcp} TCP, ${c.udp} UDP, ${c.icmp} ICMP; ${r.bad} bad (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`,
  );

  if (useTshark) {
    // 1. malformed / error-level expert info must be exactly the deliberate frames
    const out = tshark(['-n', '-r', file, '-Y', '_ws.malformed || _ws.expert.severity >= "error"', '-T', 'fields', '-e', 'frame.number', '-e', '_ws.expert.message', '-E', 'occurrence=f']);
    const flagged = new Map<number, string>();
    for (const line of out.split('\n')) {
      if (line.trim() === '') continue;
      const [n, msg] = line.split('\t');
      flagged.set(Number(n), msg ?? '');
    }
    const byKind: Record<string, number> = {};
    let unexpected = 0;
    for (const [n, msg] of flagged) {
      const k = malformed.get(n);
      if (k === undefined) {
        unexpected++;
        pr.add(`tshark flags frame ${n} (not deliberate): ${msg}`);
      } else byKind[k] = (byKind[k] ?? 0) + 1;
    }
    process.stdout.write(`tshark: ${flagged.size} frames flagged malformed/error, ${unexpected} unexpected; deliberate ones flagged by kind: ${JSON.stringify(byKind)} (truth: ${JSON.stringify(truth.malformedByKind)})\n`);

    // 2. DNS queries per name
    const q = tshark(['-n', '-r', file, '-Y', 'dns.flags.response == 0', '-T', 'fields', '-e', 'dns.qry.name']);
    const names = new Map<string, number>();
    let total = 0;
    for (const line of q.split('\n')) {
      if (line === '') continue;
      total++;
      names.set(line, (names.get(line) ?? 0) + 1);
    }
    eq('DNS queries (tshark)', total, truth.counts.dnsQueries ?? 0);
    let checkedNames = 0;
    for (const [name, want] of [...Object.entries(truth.intelDnsQueries), ...Object.entries(truth.decoyDnsQueries)]) {
      eq(`DNS queries for ${name} (tshark)`, names.get(name) ?? 0, want);
      checkedNames++;
    }
    // no other name may contain an intel domain string without being in the truth file
    for (const [name, n] of names) {
      if (/shodan|censys|ipinfo|arin\.net|he\.net|greynoise/.test(name) && truth.intelDnsQueries[name] === undefined && truth.decoyDnsQueries[name] === undefined) {
        pr.add(`tshark sees ${n} queries for ${name}, absent from the truth file`);
      }
    }
    process.stdout.write(`tshark: ${total} DNS queries (truth ${truth.counts.dnsQueries}); ${checkedNames} intel/decoy names compared\n`);
  }

  if (pr.list.length > 0) {
    process.stdout.write(`FAIL (${pr.list.length} problem(s)):\n  ${pr.list.slice(0, 40).join('\n  ')}\n`);
    return 1;
  }
  process.stdout.write('OK\n');
  return 0;
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
