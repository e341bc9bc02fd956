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
import { writeFlood } from './flood-gen';

/** The ports this benchmark's figures in RESULTS.md were measured with. */
const SYNFLOOD_PORTS = [22, 23, 80, 443, 445, 3389, 8080, 3306];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

function main(): void {
  const n = Number(arg('packets', '1000000'));
  const file = arg('out', path.join('bench', 'data', `synflood-${n}.pcap`));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  if (!fs.existsSync(file)) writeFlood(file, n, 'syn', SYNFLOOD_PORTS);
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', process.execPath, 'bin/picket.js', 'replay', file, '--out', '/dev/null'], { encoding: 'utf8' });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  const [wall, kb] = last.split(' ').map(Number);
  process.stdout.write(r.stderr.split('\n').filter((l) => !/^\d/.test(l)).join('\n') + '\n');
  process.stdout.write(`| SYN flood | packets | distinct sources | wall s | packets/s | peak RSS MB |\n| --- | ---: | ---: | ---: | ---: | ---: |\n`);
  process.stdout.write(`| ${file} | ${n.toLocaleString('en')} | ~${n.toLocaleString('en')} | ${wall.toFixed(2)} | ${(n / wall / 1e6).toFixed(2)} M | ${(kb / 1024).toFixed(0)} |\n`);
}

main();
