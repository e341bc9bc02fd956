/**
 * Peak RSS of `picket replay` under floods of new sources, with default settings: 2 M TCP SYNs and 2 M UDP
 * datagrams (default), each from a random external address to a random address of 10.0.0.0/16 (inside the default
 * home net, so every packet is a watched connection attempt of a new source), replayed inline and with
 * --workers 2 under GNU time. Extra node flags (e.g. --max-old-space-size=128) can be compared with --node-flags.
 * --kinds adds hping3 (a spoofed SYN flood with hping3's traits), dns (an alert storm of intel lookups from
 * ~65 k clients), scanner (one fast scanner, masscan-like, 1 M SYNs a second to a /16) and syn6 (the SYN flood over
 * IPv6): flood-gen.ts.
 *   node dist/bench/flood-rss.js [--packets 2000000] [--runs 1] [--node-flags "..."] [--workers 0,2] [--kinds syn,udp] [--dir bench/data]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLOOD_KINDS, writeFlood, type FloodKind } from './flood-gen';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const ROOT = path.resolve(__dirname, '..', '..');

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
  const kinds = arg('kinds', 'syn,udp').split(',').filter((k): k is FloodKind => (FLOOD_KINDS as readonly string[]).includes(k));
  for (const kind of kinds) {
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
