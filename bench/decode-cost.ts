/**
 * The decoder alone, this build against another one (e.g. the branch point's), on the same packets in the same
 * process: the first --packets packets of a capture are copied into memory, then one build's decodePacket runs over
 * every packet (one warm-up pass, then --passes measured), each measurement in a child process of its own,
 * alternating builds round by round; CPU time (process.cpuUsage, user + sys) of the measured passes. Measures what
 * decoding costs packets that are in no tunnel (bench/data/mix-<N>.pcap) or in one (mix-<N>-vxlan.pcap, this
 * build only: the other one does not decapsulate).
 *   node dist/bench/decode-cost.js --baseline DIR [--file bench/data/mix-2m.pcap] [--rounds 7] [--passes 3] [--packets 500000]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readCaptureFile } from '../src/capture/file';
import type { DecodedPacket } from '../src/core/packet';

const ROOT = path.resolve(__dirname, '..', '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

type Decode = (b: Buffer, off: number, caplen: number, origlen: number, linktype: number, pkt: DecodedPacket) => number;

interface Packets { data: Buffer[]; offset: Int32Array[]; caplen: Int32Array[]; count: number[]; linktype: number }

async function load(file: string, limit: number): Promise<Packets> {
  const p: Packets = { data: [], offset: [], caplen: [], count: [], linktype: 1 };
  let n = 0;
  await readCaptureFile(file, (b) => {
    if (n >= limit) return;
    n += b.count;
    // The batch's buffer is reused by the reader: keep copies.
    p.data.push(Buffer.from(b.data));
    p.offset.push(b.offset.slice(0, b.count));
    p.caplen.push(b.caplen.slice(0, b.count));
    p.count.push(b.count);
    p.linktype = b.linktype[0];
  }, { firstOrdinal: 0 });
  return p;
}

/** CPU seconds of `passes` decodes of every packet; the checksum keeps the work from being optimised away. */
function pass(decode: Decode, pkt: DecodedPacket, p: Packets, passes: number): { cpu: number; sum: number } {
  const t0 = process.cpuUsage();
  let sum = 0;
  for (let k = 0; k < passes; k++) {
    for (let j = 0; j < p.data.length; j++) {
      const d = p.data[j];
      const off = p.offset[j];
      const cap = p.caplen[j];
      for (let i = 0; i < p.count[j]; i++) sum += decode(d, off[i], cap[i], cap[i], p.linktype, pkt) + pkt.srcPort + pkt.proto;
    }
  }
  const t = process.cpuUsage(t0);
  return { cpu: (t.user + t.system) / 1e6, sum };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One measurement in a process of its own (a call site shared by two builds' decoders would favour one). */
async function child(): Promise<void> {
  const root = path.resolve(arg('child', ''));
  /* eslint-disable @typescript-eslint/no-require-imports */
  const decode = (require(path.join(root, 'dist', 'src', 'decode', 'decode.js')) as { decodePacket: Decode }).decodePacket;
  const pkt = (require(path.join(root, 'dist', 'src', 'core', 'packet.js')) as { createDecodedPacket: () => DecodedPacket }).createDecodedPacket();
  /* eslint-enable @typescript-eslint/no-require-imports */
  const p = await load(arg('file', ''), Number(arg('packets', '500000')));
  pass(decode, pkt, p, 1); // warm-up
  const x = pass(decode, pkt, p, Number(arg('passes', '3')));
  process.stdout.write(JSON.stringify({ cpu: x.cpu, sum: x.sum, packets: p.count.reduce((a, b) => a + b, 0) }));
}

function measure(root: string, file: string): { cpu: number; sum: number; packets: number } {
  const r = spawnSync(process.execPath, [__filename, '--child', root, '--file', file, '--packets', arg('packets', '500000'), '--passes', arg('passes', '3')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { cpu: number; sum: number; packets: number };
}

async function main(): Promise<void> {
  if (arg('child', '') !== '') return child();
  const baseline = path.resolve(arg('baseline', ''));
  const file = arg('file', path.join(ROOT, 'bench', 'data', 'mix-2m.pcap'));
  const rounds = Number(arg('rounds', '7'));
  const passes = Number(arg('passes', '3'));
  const wrappedFile = file.replace(/\.pcap$/, '-vxlan.pcap');
  const rows: Record<string, number[]> = { baseline: [], plain: [], vxlan: [] };
  const sums = new Set<number>();
  let packets = 0;
  for (let r = 0; r < rounds; r++) {
    // Alternate which build goes first.
    for (const k of r % 2 === 0 ? ['baseline', 'plain'] : ['plain', 'baseline']) {
      const x = measure(k === 'baseline' ? baseline : ROOT, file);
      rows[k].push(x.cpu);
      sums.add(x.sum);
      packets = x.packets;
    }
    if (fs.existsSync(wrappedFile)) rows.vxlan.push(measure(ROOT, wrappedFile).cpu);
  }
  const ns = (s: number): string => ((s * 1e9) / (packets * passes)).toFixed(1);
  process.stdout.write(`${packets.toLocaleString('en')} packets of ${path.basename(file)}, ${passes} passes a round, ${rounds} rounds\n\n`);
  process.stdout.write('| decoder | input | CPU s a round (each) | median | ns/packet (median) |\n| --- | --- | --- | ---: | ---: |\n');
  for (const [k, label, input] of [['baseline', baseline, path.basename(file)], ['plain', 'this build', path.basename(file)], ['vxlan', 'this build', path.basename(wrappedFile)]] as const) {
    if (rows[k].length === 0) continue;
    process.stdout.write(`| ${label} | ${input} | ${rows[k].map((x) => x.toFixed(3)).join(', ')} | ${median(rows[k]).toFixed(3)} | ${ns(median(rows[k]))} |\n`);
  }
  process.stdout.write(`\nthis build / baseline on the plain packets, median: ${(median(rows.plain) / median(rows.baseline)).toFixed(3)}; checksums ${sums.size === 1 ? 'equal' : 'DIFFER'}\n`);
}

void main();
