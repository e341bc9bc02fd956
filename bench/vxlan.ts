/**
 * The cost of decapsulation: picket's replay of the bench mix (bench/data/mix-<N>.pcap, made by gen.ts) against the
 * same packets each wrapped in VXLAN as a cloud traffic mirror sends them (outer Ethernet + IPv4 + UDP 4789 + VXLAN,
 * 50 bytes more per packet; written once to bench/data/mix-<N>-vxlan.pcap, git-ignored), in the same run,
 * alternating the two files round by round. Reports CPU time (user + sys, GNU time) and wall time per round and the
 * alerts each file raised (they must be the same alerts).
 * With --baseline DIR (the root of another build of picket, e.g. main's), that build's replay of the plain mix runs
 * in the same rounds: the cost of the tunnel decoders to packets that are in no tunnel.
 *   node dist/bench/vxlan.js [--file bench/data/mix-2m.pcap] [--rounds 3] [--workers 0] [--baseline DIR]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

/** Outer headers around every frame: Ethernet, IPv4 (10.98.0.2 -> 10.98.0.1, checksum computed), UDP 4789, VXLAN VNI 42. */
const OUTER = 14 + 20 + 8 + 8;

function outerHeader(frameLen: number, ident: number, srcPort: number): Buffer {
  const h = Buffer.alloc(OUTER);
  Buffer.from('0298000000bb0298000000aa0800', 'hex').copy(h, 0);
  h[14] = 0x45;
  h.writeUInt16BE(20 + 8 + 8 + frameLen, 16);
  h.writeUInt16BE(ident & 0xffff, 18);
  h.writeUInt16BE(0x4000, 20);
  h[22] = 64;
  h[23] = 17;
  Buffer.from([10, 98, 0, 2, 10, 98, 0, 1]).copy(h, 26);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += h.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  h.writeUInt16BE(~sum & 0xffff, 24);
  h.writeUInt16BE(srcPort, 34);
  h.writeUInt16BE(4789, 36);
  h.writeUInt16BE(8 + 8 + frameLen, 38);
  h[42] = 0x08;
  h.writeUIntBE(42, 46, 3);
  return h;
}

/** Streams a classic little-endian Ethernet pcap into its VXLAN-wrapped copy (written to .tmp, renamed at the end). */
function wrap(src: string, dst: string): void {
  const fd = fs.openSync(src, 'r');
  const out = fs.openSync(`${dst}.tmp`, 'w');
  const head = Buffer.alloc(24);
  fs.readSync(fd, head, 0, 24, 0);
  if (head.readUInt32LE(0) !== 0xa1b2c3d4 || head.readUInt32LE(20) !== 1) throw new Error(`${src}: want a little-endian Ethernet pcap`);
  head.writeUInt32LE(head.readUInt32LE(16) + OUTER, 16);
  fs.writeSync(out, head);
  const chunk = Buffer.alloc(8 << 20);
  let pos = 24;
  let have = 0;
  let n = 0;
  const parts: Buffer[] = [];
  for (;;) {
    const got = fs.readSync(fd, chunk, have, chunk.length - have, pos);
    pos += got;
    have += got;
    let p = 0;
    while (p + 16 <= have) {
      const incl = chunk.readUInt32LE(p + 8);
      if (p + 16 + incl > have) break;
      const rec = Buffer.from(chunk.subarray(p, p + 16));
      rec.writeUInt32LE(incl + OUTER, 8);
      rec.writeUInt32LE(chunk.readUInt32LE(p + 12) + OUTER, 12);
      parts.push(rec, outerHeader(incl, n, 49152 + (n % 16384)), Buffer.from(chunk.subarray(p + 16, p + 16 + incl)));
      n++;
      p += 16 + incl;
    }
    if (parts.length > 0) fs.writeSync(out, Buffer.concat(parts.splice(0)));
    chunk.copy(chunk, 0, p, have);
    have -= p;
    if (got === 0) break;
  }
  fs.closeSync(fd);
  fs.closeSync(out);
  fs.renameSync(`${dst}.tmp`, dst);
  process.stderr.write(`wrote ${dst}: ${n} packets\n`);
}

interface Round { cpu: number; wall: number; alerts: string }

function replay(file: string, workers: string, root = ROOT): Round {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'picket-vxlan-')), 'alerts.ndjson');
  const r = spawnSync('/usr/bin/time', ['-f', 'VX_TIME %e %U %S', process.execPath, path.join(root, 'bin', 'picket.js'), 'replay', file, '--out', out, '--workers', workers],
    { encoding: 'utf8' });
  const m = /VX_TIME ([\d.]+) ([\d.]+) ([\d.]+)/.exec(r.stderr);
  if (r.status !== 0 || m === null) throw new Error(`picket failed on ${file}: ${r.stderr}`);
  const text = fs.readFileSync(out, 'utf8');
  fs.rmSync(path.dirname(out), { recursive: true });
  // The alerts, without what differs by design (picket.tunnel, event ids): rule and ends, sorted.
  const alerts = text.split('\n').filter((l) => l.includes('"kind":"alert"')).map((l) => {
    const d = JSON.parse(l) as { rule: { id: string }; source?: { ip?: string }; destination?: { ip?: string } };
    return `${d.rule.id} ${d.source?.ip ?? ''} ${d.destination?.ip ?? ''}`;
  }).sort();
  return { cpu: Number(m[2]) + Number(m[3]), wall: Number(m[1]), alerts: `${alerts.length} alerts, ${new Set(alerts).size} distinct#${alerts.join('|')}` };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function main(): void {
  const file = arg('file', path.join(ROOT, 'bench', 'data', 'mix-2m.pcap'));
  const rounds = Number(arg('rounds', '3'));
  const workers = arg('workers', '0');
  const wrapped = file.replace(/\.pcap$/, '-vxlan.pcap');
  if (!fs.existsSync(wrapped) || fs.statSync(wrapped).mtimeMs < fs.statSync(file).mtimeMs) wrap(file, wrapped);
  const baseline = arg('baseline', '');
  const runs: Record<'plain' | 'vxlan' | 'baseline', Round[]> = { plain: [], vxlan: [], baseline: [] };
  for (let i = 0; i < rounds; i++) {
    if (baseline !== '') runs.baseline.push(replay(file, workers, path.resolve(baseline)));
    runs.plain.push(replay(file, workers));
    runs.vxlan.push(replay(wrapped, workers));
  }
  const same = runs.plain.every((r) => r.alerts === runs.vxlan[0].alerts) && runs.vxlan.every((r) => r.alerts === runs.vxlan[0].alerts);
  process.stdout.write(`| capture | workers | rounds | CPU s user+sys (each round) | CPU s median | wall s (each round) | wall s median |\n| --- | ---: | ---: | --- | ---: | --- | ---: |\n`);
  for (const k of ['baseline', 'plain', 'vxlan'] as const) {
    const rs = runs[k];
    if (rs.length === 0) continue;
    process.stdout.write(`| ${path.basename(k === 'vxlan' ? wrapped : file)}${k === 'baseline' ? ` (${baseline})` : ''} | ${workers} | ${rounds} | ${rs.map((r) => r.cpu.toFixed(2)).join(', ')} | ${median(rs.map((r) => r.cpu)).toFixed(2)} | ${rs.map((r) => r.wall.toFixed(2)).join(', ')} | ${median(rs.map((r) => r.wall)).toFixed(2)} |\n`);
  }
  const ratio = median(runs.vxlan.map((r) => r.cpu)) / median(runs.plain.map((r) => r.cpu));
  process.stdout.write(`\nVXLAN / plain, median CPU: ${ratio.toFixed(3)}; alerts ${same ? 'the same' : 'DIFFER'} (${runs.plain[0].alerts.split('#')[0]})\n`);
  if (runs.baseline.length > 0) {
    const b = median(runs.baseline.map((r) => r.cpu));
    process.stdout.write(`plain, this build / baseline, median CPU: ${(median(runs.plain.map((r) => r.cpu)) / b).toFixed(3)}; baseline alerts ${runs.baseline.every((r) => r.alerts === runs.plain[0].alerts) ? 'the same' : 'DIFFER'}\n`);
  }
  if (!same) process.exitCode = 1;
}

main();
