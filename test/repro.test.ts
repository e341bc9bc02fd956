/**
 * Reproducers from the fuzz and fault campaign of 2026-12-06 (test/repro/), replayed with the real CLI: each once
 * ended the run, lost data or wrote a malformed document.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { isoTime } from '../src/alert/ecs';
import { parseHttpRequest, type HttpResult } from '../src/app/http/http';
import { crc32Js, IN_CHUNK } from '../src/capture/gzip';
import { get, PCAPS, picket, requireTool, ROOT, tmpDir, tshark, type Run, withoutEventId } from './helpers';

const REPRO = path.join(ROOT, 'test', 'repro');

/** RFC 3339 date-time (section 5.6), with its field ranges. */
const RFC3339 = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

/** Every time a document carries: @timestamp, and event.start/end where present. */
function times(docs: Array<Record<string, unknown>>): string[] {
  const out: string[] = [];
  for (const d of docs) {
    for (const k of ['@timestamp', 'event.start', 'event.end']) {
      const v = get(d, k);
      if (v !== undefined) out.push(String(v));
    }
  }
  return out;
}

/** A replay that must finish: exit 0, no internal error, the counters document last; returns its picket.stats. */
function finished(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.ok(r.docs.length > 0, 'no documents');
  const last = r.docs[r.docs.length - 1];
  assert.equal(get(last, 'event.kind'), 'metric', 'the last document is not the counters');
  assert.equal(r.docs.filter((d) => get(d, 'event.kind') === 'metric').length, 1);
  const ts = times(r.docs);
  assert.ok(ts.length >= r.docs.length, `${ts.length} times in ${r.docs.length} documents`);
  for (const t of ts) assert.match(t, RFC3339);
  return get(last, 'picket.stats') as Record<string, unknown>;
}

/** The documents of an inline replay (args, inline) and of the same with two workers are the same, in order. */
function sameWithWorkers(args: string[], inline: Run): void {
  const w = picket([...args, '--workers', '2']);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.docs.length, inline.docs.length);
  assert.deepEqual(w.docs.map(withoutEventId), inline.docs.map(withoutEventId));
}

const OUT_OF_RANGE_TIMES = ['pcapng-ts-hi-bit.pcapng', 'pcapng-if-tsoffset.pcapng', 'pcapng-tsresol-1s.pcapng', 'pcapng-year-21000.pcapng'];

for (const name of OUT_OF_RANGE_TIMES) {
  test(`a packet time out of range is counted and replaced, and the run goes on: ${name}`, () => {
    const file = path.join(REPRO, name);
    const args = ['replay', '--metadata', file];
    const r = picket(args);
    const stats = finished(r);
    assert.equal(stats.packets, 1);
    assert.equal(get(stats, 'decode.timestamp_out_of_range'), 1);
    assert.equal(stats.decode_errors, 1);
    assert.match(r.stderr, /decode errors: 1 \(timestamp_out_of_range=1\)/);
    // The only packet has no earlier one to take the time of: it gets the epoch, as a Simple Packet Block does.
    for (const t of times(r.docs)) assert.equal(t, '1970-01-01T00:00:00.000000Z');
    sameWithWorkers(args, r);
  });
}

test('the year-21000 DNS query is still analysed: its intel.dns alert and protocol event are written', () => {
  const r = picket(['replay', '--metadata', path.join(REPRO, 'pcapng-year-21000.pcapng')]);
  finished(r);
  assert.equal(r.docs.length, 3);
  assert.equal(r.docs.filter((d) => get(d, 'rule.id') === 'intel.dns').length, 1);
  assert.equal(r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns').length, 1);
});

/** The little-endian pcapng blocks of a file, as they are. */
function pcapngBlocks(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let p = 0; p + 8 <= b.length; p += b.readUInt32LE(p + 4)) out.push(b.subarray(p, p + b.readUInt32LE(p + 4)));
  return out;
}

test('a packet with an out-of-range time between good ones takes the time of the packet before it', () => {
  const [shb, idb, epb] = pcapngBlocks(fs.readFileSync(path.join(REPRO, 'pcapng-year-21000.pcapng')));
  assert.equal(epb.readUInt32LE(0), 6, 'the reproducer holds one Enhanced Packet Block');
  // The interface has no if_tsresol: microseconds.
  const at = (micros: number): Buffer => {
    const e = Buffer.from(epb);
    e.writeUInt32LE(Math.floor(micros / 2 ** 32), 12);
    e.writeUInt32LE(micros % 2 ** 32, 16);
    return e;
  };
  const t1 = 1_700_000_000_123_456;
  const t3 = t1 + 5_000_000;
  const dir = tmpDir('ts-between');
  const file = path.join(dir, 'between.pcapng');
  fs.writeFileSync(file, Buffer.concat([shb, idb, at(t1), epb, at(t3)]));
  const args = ['replay', '--metadata', file];
  const r = picket(args);
  const stats = finished(r);
  assert.equal(stats.packets, 3);
  assert.equal(get(stats, 'decode.timestamp_out_of_range'), 1);
  const dns = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.dns').map((d) => get(d, '@timestamp'));
  assert.deepEqual(dns, ['2023-11-14T22:13:20.123456Z', '2023-11-14T22:13:20.123456Z', '2023-11-14T22:13:25.123456Z']);
  const metric = r.docs[r.docs.length - 1];
  assert.equal(get(metric, 'event.start'), '2023-11-14T22:13:20.123456Z');
  assert.equal(get(metric, 'event.end'), '2023-11-14T22:13:25.123456Z');
  sameWithWorkers(args, r);
  fs.rmSync(dir, { recursive: true });
});

test('isoTime writes RFC 3339 for any input, clamped to 1970-01-01..9999-12-31, and never throws', () => {
  const cases: Array<[number, number, string]> = [
    [1_700_000_000, 123_456_789, '2023-11-14T22:13:20.123456Z'],
    [0, 0, '1970-01-01T00:00:00.000000Z'],
    [253402300799, 999_999_999, '9999-12-31T23:59:59.999999Z'],
    [253402300800, 0, '9999-12-31T23:59:59.000000Z'],
    [600_000_000_000, 0, '9999-12-31T23:59:59.000000Z'], // year 21000
    [2 ** 64, 0, '9999-12-31T23:59:59.000000Z'], // past Date's range: RangeError before
    [Infinity, 0, '9999-12-31T23:59:59.000000Z'],
    [-1, 0, '1970-01-01T00:00:00.000000Z'],
    [-Infinity, 0, '1970-01-01T00:00:00.000000Z'],
    [NaN, NaN, '1970-01-01T00:00:00.000000Z'],
    [5, 1e9, '1970-01-01T00:00:05.999999Z'], // a rounded-up fraction stays within its second
    [5, -3, '1970-01-01T00:00:05.000000Z'],
  ];
  for (const [sec, nsec, want] of cases) {
    const got = isoTime(sec, nsec);
    assert.equal(got, want, `isoTime(${sec}, ${nsec})`);
    assert.match(got, RFC3339);
  }
  // Seconds are cached in slots (second mod 64): seconds that share a slot, asked in turn, each get their own text.
  for (let i = 0; i < 200; i++) {
    const sec = 1_700_000_000 + (i % 3) * 64 + (i % 2) * 4096;
    assert.equal(isoTime(sec, 1000), `${new Date(sec * 1000).toISOString().slice(0, 19)}.000001Z`);
  }
});

test('the CRC-32 kept for Node before 20.15 equals zlib.crc32, also when computed piece by piece', () => {
  const data = fs.readFileSync(path.join(PCAPS, 'intel-dns.pcap'));
  assert.equal(crc32Js(data, 0), zlib.crc32(data));
  let c = 0;
  for (let p = 0; p < data.length; p += 1000) c = crc32Js(data.subarray(p, p + 1000), c);
  assert.equal(c, zlib.crc32(data));
  assert.equal(crc32Js(Buffer.from('123456789'), 0), 0xcbf43926); // the check value of CRC-32/ISO-HDLC
});

/** What zcat recovers of a gzip file (it writes every byte it inflates, trailer or not), and the packets tcpdump reads in it. */
function zcatTcpdump(file: string): { bytes: number; packets: number } {
  requireTool('zcat');
  requireTool('tcpdump');
  const raw = spawnSync('zcat', [file], { maxBuffer: 256 << 20 }).stdout;
  const td = spawnSync('tcpdump', ['-n', '-r', '-'], { input: raw, encoding: 'utf8', maxBuffer: 256 << 20 });
  const packets = td.stdout.split('\n').filter((l) => l !== '').length;
  return { bytes: raw.length, packets };
}

for (const name of ['gzip-bad-crc-small.pcap.gz', 'gzip-bad-crc-big.pcap.gz']) {
  test(`a damaged gzip trailer loses no packet and is reported as such: ${name}`, () => {
    const file = path.join(REPRO, name);
    const want = zcatTcpdump(file);
    assert.ok(want.packets > 0 && want.bytes > 0, 'zcat and tcpdump recovered nothing');
    const args = ['replay', '--metadata', file];
    const r = picket(args);
    const stats = finished(r);
    assert.equal(stats.packets, want.packets);
    assert.equal(stats.files_damaged, 1);
    assert.equal(stats.files_truncated, 0);
    assert.equal(stats.files_corrupt, 0);
    assert.ok(r.stderr.includes(`damaged: gzip trailer damaged (CRC mismatch): ${want.bytes} bytes recovered`), r.stderr);
    assert.doesNotMatch(r.stderr, /cut short inside a record|stopped early/);
    sameWithWorkers(args, r);
  });
}

/**
 * A one-member gzip file whose deflate data ends exactly where the reader's input chunk does (the header padded
 * with an extra field and a name), so the end of the data is seen only on the next chunk, the trailer.
 */
function endingOnChunk(data: Buffer): Buffer {
  const deflated = zlib.deflateRawSync(data);
  const pad = IN_CHUNK - 10 - 2 - deflated.length;
  const xlen = Math.min(65535, pad - 1);
  const header = Buffer.alloc(10 + 2 + pad);
  header.set([0x1f, 0x8b, 8, 0x04 | 0x08, 0, 0, 0, 0, 0, 255]);
  header.writeUInt16LE(xlen, 10);
  header.fill('n', 12 + xlen, header.length - 1); // the name, then its terminating zero
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(zlib.crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  assert.equal(header.length + deflated.length, IN_CHUNK);
  return Buffer.concat([header, deflated, trailer]);
}

test('gzip framing: several members, trailing zeros, a cut trailer, trailing garbage, data cut short, data ending on a read boundary', () => {
  const dir = tmpDir('gzip');
  const pcap = fs.readFileSync(path.join(PCAPS, 'intel-dns.pcap'));
  const whole = zlib.gzipSync(pcap);
  const half = Math.floor(pcap.length / 2);
  const cases: Array<{ name: string; bytes: Buffer; damaged: number; corrupt: number; message: RegExp | null }> = [
    { name: 'members', bytes: Buffer.concat([zlib.gzipSync(pcap.subarray(0, half)), zlib.gzipSync(pcap.subarray(half)), Buffer.alloc(64)]), damaged: 0, corrupt: 0, message: null },
    { name: 'trailer-cut', bytes: whole.subarray(0, whole.length - 3), damaged: 1, corrupt: 0, message: /damaged: gzip trailer cut short/ },
    { name: 'garbage', bytes: Buffer.concat([whole, Buffer.from('garbage')]), damaged: 1, corrupt: 0, message: /damaged: bytes after the last gzip member/ },
    { name: 'cut', bytes: whole.subarray(0, Math.floor(whole.length / 2)), damaged: 0, corrupt: 1, message: /stopped early at compressed data cut short/ },
    { name: 'aligned', bytes: endingOnChunk(pcap), damaged: 0, corrupt: 0, message: null },
  ];
  for (const c of cases) {
    const file = path.join(dir, `${c.name}.pcap.gz`);
    fs.writeFileSync(file, c.bytes);
    const want = zcatTcpdump(file);
    assert.ok(want.packets > 0, `${c.name}: tcpdump read nothing`);
    const r = picket(['replay', file]);
    const stats = finished(r);
    assert.equal(stats.packets, want.packets, c.name);
    assert.equal(stats.files_damaged, c.damaged, c.name);
    assert.equal(stats.files_corrupt, c.corrupt, c.name);
    if (c.message !== null) assert.match(r.stderr, c.message);
    else assert.doesNotMatch(r.stderr, /damaged|stopped early|cut short/);
  }
  fs.rmSync(dir, { recursive: true });
});

/**
 * Parses b[off, end) through a view that counts every byte read and fails on a read outside [off, end). Native
 * searches (indexOf and the like) fail on the view: they run to the end of the buffer, the unbounded search this
 * guards against, so the parser must do its own bounded ones.
 */
function parseCounted(b: Buffer, off: number, end: number): { result: HttpResult; reads: number } {
  let reads = 0;
  const view = new Proxy(b, {
    get(target, prop) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) {
        const i = Number(prop);
        assert.ok(i >= off && i < end, `read of byte ${i}, outside [${off}, ${end})`);
        reads++;
        return target[i];
      }
      if (prop === 'indexOf' || prop === 'lastIndexOf' || prop === 'includes') {
        return () => assert.fail(`b.${prop}: a native search runs on to the end of the buffer, past the head`);
      }
      return Reflect.get(target, prop) as unknown;
    },
  });
  return { result: parseHttpRequest(view, off, end), reads };
}

/** A head at offset 100 of a buffer whose other bytes are colons, CRs and LFs, as the packets around it could be. */
function placed(head: string): { b: Buffer; off: number; end: number } {
  const b = Buffer.alloc(100 + head.length + 65536, ':\r\n');
  b.write(head, 100, 'latin1');
  return { b, off: 100, end: 100 + head.length };
}

test('the HTTP head parser reads only its head, each byte a bounded number of times (http-nocolon heads)', () => {
  for (const lines of [1, 10, 50, 99]) {
    const head = `GET / HTTP/1.1\r\n${'abcdefgh\r\n'.repeat(lines)}\r\n`;
    const { b, off, end } = placed(head);
    const { result, reads } = parseCounted(b, off, end);
    assert.equal(result.kind, 'request', `${lines} lines`);
    assert.ok(reads > 0 && reads <= 3 * head.length, `${lines} lines: ${reads} reads for a ${head.length}-byte head`);
  }
  // A head cut short of its blank line, and one longer than the parser waits for.
  for (const head of ['GET / HTTP/1.1\r\nabcdefgh\r\nHost', `GET / HTTP/1.1\r\n${'a'.repeat(9000)}`]) {
    const { b, off, end } = placed(head);
    const { reads } = parseCounted(b, off, end);
    assert.ok(reads > 0 && reads <= 3 * head.length, `${reads} reads for a ${head.length}-byte head`);
  }
});

test('header lines without a colon do not hide the Host and User-Agent after them', () => {
  const head = 'GET /x HTTP/1.1\r\nabcdefgh\r\nHosts: decoy\r\nHOST: Example.COM:8080\r\nno colon here\r\nuser-AGENT: a:b c\r\n\r\n';
  const { b, off, end } = placed(head);
  const { result } = parseCounted(b, off, end);
  assert.equal(result.kind, 'request');
  if (result.kind !== 'request') return;
  assert.equal(result.request.host, 'example.com');
  assert.equal(result.request.hostPort, 8080);
  assert.equal(result.request.userAgent, 'a:b c');
  assert.equal(result.consumed, head.length);
});

test('http-nocolon: every request is still counted and reported as tshark sees it, inline and with 2 workers', () => {
  const file = path.join(REPRO, 'http-nocolon-1000.pcap');
  const theirs = tsharkHttp(file);
  assert.equal(theirs.length, 1000);
  const args = ['replay', '--metadata', file];
  const r = picket(args);
  const stats = finished(r);
  assert.equal(get(stats, 'http.requests'), theirs.length);
  const ours = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.http')
    .map((d) => [get(d, 'http.request.method'), get(d, 'destination.domain') ?? '', get(d, 'url.path')].join(' '));
  assert.deepEqual(ours, theirs.map((t) => t.join(' ')));
  sameWithWorkers(args, r);
});

/** method, Host (as picket writes it: lower-cased, no port) and path of every request tshark reads, in order. */
function tsharkHttp(file: string): string[][] {
  return tshark(file, 'http.request', ['http.request.method', 'http.host', 'http.request.uri'])
    .map(([method, host, uri]) => [method, (host ?? '').replace(/:\d+$/, '').toLowerCase(), uri]);
}

test('the sharder and the decoder agree on a packet\'s flow: the shard-* reproducers count each flow once, inline and with 2 workers', () => {
  for (const name of ['shard-udp-iplen.pcap', 'shard-ipv6-ext.pcap']) {
    const args = ['replay', '--metadata', path.join(REPRO, name)];
    const r = picket(args);
    const stats = finished(r);
    sameWithWorkers(args, r);
    if (name === 'shard-ipv6-ext.pcap') {
      // The same 20 UDP flows, some packets with a Destination Options header: 20 attempts, as tshark sees 20 flows.
      const flows = new Set(tshark(path.join(REPRO, name), 'udp', ['ipv6.src', 'udp.srcport', 'ipv6.dst', 'udp.dstport']).map((f) => f.join(' ')));
      assert.equal(flows.size, 20);
      assert.equal(stats.connection_attempts, flows.size);
      const scans = r.docs.filter((d) => get(d, 'rule.id') === 'scan.port');
      assert.ok(scans.length >= 1);
      for (const a of scans) assert.equal(get(a, 'picket.scan.attempts'), flows.size);
    } else {
      // An IPv4 length that cuts the UDP header: the decoder reads no ports, so every packet is one flow, wherever it is counted.
      assert.equal(stats.connection_attempts, 1);
    }
  }
});
