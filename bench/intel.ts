/**
 * The intel index at scale: a list of N domains (default one million) written as a plain list file, loaded
 * through the same path as users' lists, then matched against names that hit (subdomains of listed entries) and
 * names that miss. Prints load time, memory held by the index, and lookups per second.
 *   node dist/bench/intel.js [--domains 1000000] [--lookups 2000000]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRules } from '../src/config/rules';
import { matchDomain } from '../src/intel/domains';
import { mulberry32 } from '../src/util/prng';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const TLDS = ['com', 'net', 'org', 'io', 'info', 'co', 'de', 'ru', 'cn', 'xyz'];
const word = (r: () => number, n: number): string => {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(97 + Math.floor(r() * 26));
  return s;
};

function main(): void {
  const n = arg('domains', 1_000_000);
  const lookups = arg('lookups', 2_000_000);
  const r = mulberry32(42);
  const domains: string[] = [];
  for (let i = 0; i < n; i++) domains.push(`${word(r, 6 + Math.floor(r() * 8))}${i}.${TLDS[i % TLDS.length]}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-intel-bench-'));
  const file = path.join(dir, 'million.txt');
  fs.writeFileSync(file, domains.join('\n') + '\n');
  const size = fs.statSync(file).size;

  global.gc?.();
  const before = process.memoryUsage();
  const t0 = process.hrtime.bigint();
  const rules = loadRules([dir]);
  const loadS = Number(process.hrtime.bigint() - t0) / 1e9;
  global.gc?.();
  const after = process.memoryUsage();

  // Names as a resolver sees them: half under listed entries (one or two labels deeper), half not listed.
  const names: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const d = domains[Math.floor(r() * n)];
    const name = i % 2 === 0 ? `${word(r, 3)}.${d}` : `${word(r, 3)}.${word(r, 9)}.${TLDS[i % TLDS.length]}`;
    // Flat strings decoded from bytes, as the DNS, TLS and HTTP parsers produce (not concatenations).
    names.push(Buffer.from(name, 'latin1').toString('latin1'));
  }
  let hits = 0;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < lookups; i++) if (matchDomain(rules.intel, names[i % names.length]) >= 0) hits++;
  const lookS = Number(process.hrtime.bigint() - t1) / 1e9;
  if (hits !== lookups / 2) throw new Error(`expected ${lookups / 2} hits, got ${hits}`);

  const mb = (x: number): string => (x / 1048576).toFixed(0);
  process.stdout.write(`| domains | list file MB | load s | heap held MB | RSS growth MB | lookups/s (50% hits) |\n| ---: | ---: | ---: | ---: | ---: | ---: |\n`);
  process.stdout.write(`| ${n.toLocaleString('en')} | ${mb(size)} | ${loadS.toFixed(2)} | ${mb(after.heapUsed - before.heapUsed)} | ${mb(after.rss - before.rss)} | ${(lookups / lookS / 1e6).toFixed(2)} M |\n`);
  fs.rmSync(dir, { recursive: true });
}

main();
