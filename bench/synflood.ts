/**
 * Memory under a flood of new sources: a capture of N TCP SYNs (default one million), each from a different
 * random external address to a random address of 10.0.0.0/16 on a common port, replayed by picket under GNU time.
 * Every SYN is a connection attempt of a new source for the scan aggregator, and a new pending attempt: the
 * worst case for its bounds (rules/scan.yaml max_sources, max_pending_attempts).
 *   node dist/bench/synflood.js [--packets 1000000] [--out bench/data/synflood-1m.pcap]
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


function writeFlood(file: string, n: number): void {
  const r = mulberry32(7);
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, pcapFileHeader(1, false));
  const rec = 16 + 54;
  const chunk = Buffer.alloc(rec * 8192);
  const ports = [22, 23, 80, 443, 445, 3389, 8080, 3306];
  const t0 = 1_790_000_000;
  let k = 0;
  for (let i = 0; i < n; i++) {
    const p = k * rec;
    const ts = t0 + i / 200_000; // 200 k SYNs per second of packet time
    chunk.writeUInt32LE(Math.floor(ts), p);
    chunk.writeUInt32LE(Math.floor((ts % 1) * 1e6), p + 4);
    chunk.writeUInt32LE(54, p + 8);
    chunk.writeUInt32LE(54, p + 12);
    const e = p + 16;
    chunk.fill(0, e, e + 54);
    chunk.writeUInt16BE(0x0800, e + 12);
    const ip = e + 14;
    chunk[ip] = 0x45;
    chunk.writeUInt16BE(40, ip + 2);
    chunk.writeUInt16BE(Math.floor(r() * 65536), ip + 4);
    chunk[ip + 8] = 64;
    chunk[ip + 9] = 6;
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
    chunk.writeUInt32LE(Math.floor(r() * 2 ** 32), t + 4);
    chunk[t + 12] = 0x50;
    chunk[t + 13] = 0x02;
    chunk.writeUInt16BE(1024, t + 14);
    if (++k === 8192) {
      fs.writeSync(fd, chunk, 0, k * rec);
      k = 0;
    }
  }
  if (k > 0) fs.writeSync(fd, chunk, 0, k * rec);
  fs.closeSync(fd);
}

function main(): void {
  const n = Number(arg('packets', '1000000'));
  const file = arg('out', path.join('bench', 'data', `synflood-${n}.pcap`));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) writeFlood(file, n);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, 'bin/picket.js', 'replay', file, '--out', '/dev/null'], { encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, kb] = last.split(' ').map(Number);
  process.stdout.write(r.stderr.split('\n').filter((l) => !/^\d/.test(l)).join('\n') + '\n');
  process.stdout.write(`| SYN flood | packets | distinct sources | wall s | packets/s | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: | ---: |\n`);
  process.stdout.write(`| ${file} | ${n.toLocaleString('en')} | ~${n.toLocaleString('en')} | ${wall.toFixed(2)} | ${(n / wall / 1e6).toFixed(2)} M | ${(kb / 1024).toFixed(0)} |\n`);
}

main();
