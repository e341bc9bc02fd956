/**
 * Peak RSS of `picket replay` under floods of new sources, with default settings: 2 M TCP SYNs and 2 M UDP
 * datagrams (default), each from a random external address to a random address of 10.0.0.0/16 (inside the default
 * home net, so every packet is a watched connection attempt of a new source), replayed inline and with
 * --workers 2 under GNU time. Extra node flags (e.g. --max-old-space-size=128) can be compared with --node-flags.
 *   node dist/bench/flood-rss.js [--packets 2000000] [--runs 1] [--node-flags "..."] [--workers 0,2] [--dir bench/data]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32 } from '../src/util/prng';
import { ipChecksum } from './checksum';
import { pcapFileHeader } from '../src/capture/pcap';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const ROOT = path.resolve(__dirname, '..', '..');

/** One flood capture: 54-byte SYNs or 60-byte UDP datagrams, 200 k a second of packet time, random sources. */
function writeFlood(file: string, n: number, kind: 'syn' | 'udp'): void {
  const r = mulberry32(kind === 'syn' ? 7 : 11);
  const fd = fs.openSync(`${file}.tmp`, 'w');
  fs.writeSync(fd, pcapFileHeader(1, false));
  const flen = kind === 'syn' ? 54 : 60;
  const rec = 16 + flen;
  const chunk = Buffer.alloc(rec * 8192);
  const ports = [22, 23, 53, 80, 123, 161, 443, 445, 1900, 3389, 5060, 8080];
  const t0 = 1_790_000_000;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = k * rec;
    const ts = t0 + i / 200_000;
    chunk.writeUInt32LE(Math.floor(ts), p);
    chunk.writeUInt32LE(Math.floor((ts % 1) * 1e6), p + 4);
    chunk.writeUInt32LE(flen, p + 8);
    chunk.writeUInt32LE(flen, p + 12);
    const e = p + 16;
    chunk.fill(0, e, e + flen);
    chunk.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    chunk[ip] = 0x45;
    chunk.writeUInt16BE(flen - 14, ip + 2);
    chunk.writeUInt16BE(Math.floor(r() * 65536), ip + 4);
    chunk[ip + 8] = 64;
    chunk[ip + 9] = kind === 'syn' ? 6 : 17;
    // Sources: random public-looking addresses (first octet 1-223, not 10, 100, 127, 172, 192).
    let a: number;
    do a = 1 + Math.floor(r() * 223); while (a === 10 || a === 100 || a === 127 || a === 172 || a === 192);
    chunk[ip + 12] = a;
    chunk[ip + 13] = Math.floor(r() * 256);
    chunk[ip + 14] = Math.floor(r() * 256);
    chunk[ip + 15] = 1 + Math.floor(r() * 254);
    chunk[ip + 16] = 10;
    chunk[ip + 17] = 0;
    chunk[ip + 18] = Math.floor(r() * 256);
    chunk[ip + 19] = 1 + Math.floor(r() * 254);
    chunk.writeUInt16BE(ipChecksum(chunk, ip), ip + 10);
    const t = ip + 20;
    chunk.writeUInt16BE(1024 + Math.floor(r() * 60000), t);
    chunk.writeUInt16BE(ports[Math.floor(r() * ports.length)], t + 2);
    if (kind === 'syn') {
      chunk.writeUInt32LE(Math.floor(r() * 2 ** 32), t + 4);
      chunk[t + 12] = 0x50;
      chunk[t + 13] = 0x02;
      chunk.writeUInt16BE(1024, t + 14);
    } else {
      chunk.writeUInt16BE(flen - 34, t + 4);
      for (let j = t + 8; j < e + flen; j++) chunk[j] = Math.floor(r() * 256);
    }
    if (++k === 8192) {
      fs.writeSync(fd, chunk, 0, k * rec);
      k = 0;
    }
  }
  if (k > 0) fs.writeSync(fd, chunk, 0, k * rec);
  fs.closeSync(fd);
  fs.renameSync(`${file}.tmp`, file);
}

interface Measure { wall: number; rssMb: number; code: number | null; summary: string }

function measure(file: string, workers: number, nodeFlags: string[]): Measure {
  const r = spawnSync('/usr/bin/time', ['-f', 'FLOOD_TIME %e %M', process.execPath, ...nodeFlags, path.join(ROOT, 'bin', 'picket.js'), 'replay', file, '--out', '/dev/null', '--workers', String(workers)], { encoding: 'utf8' });
  const m = /FLOOD_TIME ([\d.]+) (\d+)/.exec(r.stderr);
  const packets = /(\d+) packets,/.exec(r.stderr)?.[1] ?? '?';
  const evicted = /evicted[^\n]*/.exec(r.stderr)?.[0] ?? '';
  return { wall: m !== null ? Number(m[1]) : NaN, rssMb: m !== null ? Math.round(Number(m[2]) / 1024) : NaN, code: r.status, summary: `${packets} packets ${evicted}`.trim() };
}

function main(): void {
  const n = Number(arg('packets', '2000000'));
  const runs = Number(arg('runs', '1'));
  const dir = arg('dir', path.join(ROOT, 'bench', 'data'));
  const nodeFlags = arg('node-flags', '').split(' ').filter((s) => s !== '');
  const workers = arg('workers', '0,2').split(',').map(Number);
  fs.mkdirSync(dir, { recursive: true });
  process.stdout.write(`| flood | packets | workers | node flags | runs | peak RSS MB (each run) | wall s (each run) | exit |\n| --- | ---: | ---: | --- | ---: | --- | --- | --- |\n`);
  for (const kind of ['syn', 'udp'] as const) {
    const file = path.join(dir, `flood-${kind}-${n}.pcap`);
    if (!fs.existsSync(file)) writeFlood(file, n, kind);
    for (const w of workers) {
      const ms: Measure[] = [];
      for (let i = 0; i < runs; i++) ms.push(measure(file, w, nodeFlags));
      process.stdout.write(`| ${kind} | ${n.toLocaleString('en')} | ${w} | ${nodeFlags.join(' ') || '(none)'} | ${runs} | ${ms.map((m) => m.rssMb).join(', ')} | ${ms.map((m) => m.wall.toFixed(2)).join(', ')} | ${[...new Set(ms.map((m) => m.code))].join(',')} |\n`);
    }
  }
}

main();
