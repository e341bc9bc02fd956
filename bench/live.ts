/**
 * Capture loss under offered load: the addon, the cap fallback, the whole sensor (picket capture, inline and with
 * 2 workers, each with its own socket in a PACKET_FANOUT group: paths picket, picket-w2) and tcpdump, each in turn, capturing on one end of
 * a veth pair while tcpreplay (or trafgen) sends on the other end, each end in a network namespace of its own.
 *   node dist/bench/live.js [--rates 50000,100000,200000,max,tg:max] [--seconds 5] [--paths addon,cap,picket,picket-w2,tcpdump]
 *                           [--no-pin] [--batch-packets N] [--buffer-mb N] [--frames imix|SIZE]
 *                           [--consumer none|decode|spin:NS] [--pcap FILE]
 * Rates: N = tcpreplay --pps=N; max = tcpreplay --topspeed; tg:N = trafgen at N pps; tg:max = trafgen flat out.
 * The frames are a simple IMIX (7 x 64, 4 x 594, 1 x 1518 bytes) of UDP to port 47001, addressed to a MAC that is
 * not the capturing interface's: the kernel drops them after the capture taps them, as on a span port.
 * With pinning (the default on 2+ CPUs) the capture runs on CPU 0 and the sender on CPU 1; the veth's receive
 * work (including the copy into the capture's ring) runs in softirq on the sender's CPU. picket-w2 is not pinned:
 * its two workers are meant to use both CPUs (shared with the sender then).
 * CPU per packet: the capturing process's user + system CPU over the run, divided by the packets it delivered.
 * --consumer: what JavaScript does with each packet of the addon and cap paths: nothing, picket's decoder, or a busy
 * wait of NS ns (a stand-in for a heavier pipeline); tcpdump only writes to /dev/null.
 * Prints a markdown table. Needs root, tcpreplay, trafgen (netsniff-ng), tcpdump, ip, taskset.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ipChecksum } from './checksum';
import { pcapFileHeader } from '../src/capture/pcap';

const ROOT = path.resolve(__dirname, '..', '..');
const PICKET = path.join(ROOT, 'bin', 'picket.js');
const PROBE = path.join(ROOT, 'dist', 'test', 'live-probe.js');
const PID = process.pid;
const NS_CAP = `pklb-cap-${PID}`;
const NS_SND = `pklb-snd-${PID}`;
const IF_CAP = `lb${PID}a`;
const IF_SND = `lb${PID}b`;
const PORT = 47001;
/** Only the benchmark's own frames (none with --pcap: a real capture's traffic is all of it). */
let FILTER = `udp dst port ${PORT}`;
const IMIX = [64, 64, 64, 64, 64, 64, 64, 594, 594, 594, 594, 1518];
/** Frame sizes sent in turn: IMIX, or one size (--frames 64). */
let SIZES = IMIX;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}

function die(msg: string): never {
  process.stderr.write(`bench/live: ${msg}\n`);
  process.exit(2);
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) die(`${cmd} ${args.join(' ')}: ${r.stderr ?? ''}${r.error?.message ?? ''}`);
  return r.stdout;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------- frames ----------

/** One Ethernet frame of `size` bytes on the wire (without FCS: 64 means 60 here, as a capture sees it). */
function frame(size: number, seq: number): Buffer {
  const len = size - 4;
  const f = Buffer.alloc(len);
  Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01]).copy(f, 0);
  f.writeUInt16BE(0x0800, 12);
  const ip = 14;
  f[ip] = 0x45;
  f.writeUInt16BE(len - 14, ip + 2);
  f.writeUInt16BE(seq & 0xffff, ip + 4);
  f[ip + 8] = 64;
  f[ip + 9] = 17;
  Buffer.from([10, 78, 0, 2, 10, 78, 0, 1]).copy(f, ip + 12);
  f.writeUInt16BE(ipChecksum(f, ip), ip + 10);
  const udp = ip + 20;
  f.writeUInt16BE(40000 + (seq % 1000), udp);
  f.writeUInt16BE(PORT, udp + 2);
  f.writeUInt16BE(len - udp, udp + 4);
  f.writeUInt32BE(seq >>> 0, udp + 8);
  return f;
}

/** A pcap of `n` frames in IMIX order, 1 µs apart (tcpreplay's --pps/--topspeed ignore the gaps). */
function writePcap(file: string, n: number): void {
  const parts: Buffer[] = [];
  parts.push(pcapFileHeader(1, false));
  for (let i = 0; i < n; i++) {
    const f = frame(SIZES[i % SIZES.length], i);
    const rec = Buffer.alloc(16);
    rec.writeUInt32LE(1_790_000_000 + Math.floor(i / 1e6), 0);
    rec.writeUInt32LE(i % 1_000_000, 4);
    rec.writeUInt32LE(f.length, 8);
    rec.writeUInt32LE(f.length, 12);
    parts.push(rec, f);
  }
  fs.writeFileSync(file, Buffer.concat(parts));
}

/** trafgen's configuration: the same frames, sent round robin. */
function writeTrafgen(file: string): void {
  const packets = SIZES.map((size, i) => `{ ${[...frame(size, i)].map((b) => `0x${b.toString(16).padStart(2, '0')}`).join(', ')} }`);
  fs.writeFileSync(file, `${packets.join('\n')}\n`);
}

// ---------- namespaces ----------

function cleanup(): void {
  for (const ns of [NS_CAP, NS_SND]) {
    if (!fs.existsSync(`/run/netns/${ns}`)) continue;
    for (const p of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((x) => x !== '')) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // gone
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

function setup(): void {
  run('ip', ['netns', 'add', NS_CAP]);
  run('ip', ['netns', 'add', NS_SND]);
  run('ip', ['-n', NS_CAP, 'link', 'add', IF_CAP, 'type', 'veth', 'peer', 'name', IF_SND, 'netns', NS_SND]);
  for (const [ns, ifc] of [[NS_CAP, IF_CAP], [NS_SND, IF_SND]]) {
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    run('ip', ['-n', ns, 'link', 'set', ifc, 'up']);
  }
}

function rxPackets(): number {
  const j = JSON.parse(run('ip', ['-n', NS_CAP, '-s', '-j', 'link', 'show', 'dev', IF_CAP])) as Array<{ stats64: { rx: { packets: number } } }>;
  return j[0].stats64.rx.packets;
}

/** CPU seconds (user + system) of a process so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in USER_HZ (100 on Linux)
  } catch {
    return NaN;
  }
}

// ---------- the paths ----------

interface Outcome {
  delivered: number;
  /** The longest wait between two batches, as the probe's JavaScript saw it (ms). */
  maxGapMs: number | null;
  kernelDropped: number | null;
  picketDropped: number | null;
  cpu: number;
  /** picket with workers: each socket's share of the packets received, e.g. "51/49". */
  split?: string;
}

class Child {
  out = '';
  err = '';
  readonly proc: ChildProcess;
  readonly done: Promise<number | null>;
  constructor(args: string[]) {
    this.proc = spawn('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout?.on('data', (d: Buffer) => { this.out += d.toString(); });
    this.proc.stderr?.on('data', (d: Buffer) => { this.err += d.toString(); });
    this.done = new Promise((resolve) => this.proc.on('close', resolve));
  }
  async until(pred: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!pred()) {
      if (Date.now() > deadline) die(`${what} did not happen: ${this.err}`);
      await sleep(20);
    }
  }
  async stop(): Promise<void> {
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 30_000);
    await this.done;
    clearTimeout(t);
  }
}

const pin = (cpu: number): string[] => (PIN ? ['taskset', '-c', String(cpu)] : []);
let PIN = true;

async function startCapture(kind: string, seconds: number): Promise<{ c: Child; finish: () => Promise<Outcome> }> {
  if (kind === 'tcpdump') {
    // -B 65536 KiB: the same 64 MiB ring as picket's default; -w /dev/null: tcpdump's cheapest way to keep up.
    const c = new Child(['netns', 'exec', NS_CAP, ...pin(0), 'tcpdump', '-Z', 'root', '-n', '-s', '0', '-B', '65536', '-i', IF_CAP, '-w', '/dev/null', ...(FILTER !== '' ? [FILTER] : [])]);
    await c.until(() => c.err.includes('listening on'), 'tcpdump listening');
    return {
      c,
      finish: async () => {
        const cpu = cpuSeconds(c.proc.pid ?? -1);
        await c.stop();
        const num = (re: RegExp): number => Number(re.exec(c.err)?.[1] ?? NaN);
        return { delivered: num(/(\d+) packets? captured/), maxGapMs: null, kernelDropped: num(/(\d+) packets? dropped by kernel/), picketDropped: null, cpu };
      },
    };
  }
  if (kind === 'picket' || kind === 'picket-w2') {
    // The whole sensor, as a user runs it: decode, flows, app layers, every detector; documents to stdout, whose
    // last line is the final counters.
    const workers = kind === 'picket-w2' ? ['--workers', '2'] : [];
    const c = new Child(['netns', 'exec', NS_CAP, ...(kind === 'picket' ? pin(0) : []), process.execPath, PICKET, 'capture', '-i', IF_CAP, ...(FILTER !== '' ? ['--bpf', FILTER] : []), '--buffer-mb', BUFFER,
      '--stats-interval', '0', ...workers]);
    await c.until(() => c.err.includes('capturing on'), `${kind} capturing`);
    return {
      c,
      finish: async () => {
        const cpu = cpuSeconds(c.proc.pid ?? -1);
        await c.stop();
        const last = c.out.trim().split('\n').at(-1) ?? '';
        type CaptureStats = { received: number; kernel_dropped: number; picket_dropped: number; sockets?: Array<{ received: number }> };
        const doc = JSON.parse(last) as { picket: { stats: { packets: number; capture: Record<string, CaptureStats>; workers: { dropped: number } } } };
        const st = doc.picket.stats;
        const cap = st.capture[IF_CAP];
        const split = cap.sockets?.map((s) => Math.round((100 * s.received) / Math.max(1, cap.received))).join('/');
        return { delivered: st.packets, maxGapMs: null, kernelDropped: cap.kernel_dropped, picketDropped: cap.picket_dropped + st.workers.dropped, cpu, split };
      },
    };
  }
  const args = ['--iface', IF_CAP, '--backend', kind, '--bpf', FILTER, '--quiet', '--max-seconds', String(seconds + 60), '--batch-packets', BATCH, '--buffer-mb', BUFFER, ...CONSUMER];
  const c = new Child(['netns', 'exec', NS_CAP, ...pin(0), process.execPath, PROBE, ...args]);
  await c.until(() => c.out.includes('"ready"') || c.out.includes('open-error'), `${kind} capture ready`);
  if (c.out.includes('open-error')) die(`${kind}: ${c.out}`);
  return {
    c,
    finish: async () => {
      const cpu = cpuSeconds(c.proc.pid ?? -1);
      await c.stop();
      const end = c.out.split('\n').filter((l) => l.includes('"end"')).map((l) => JSON.parse(l) as { maxGapMs: number; stats: { received: number; kernelDropped: number; picketDropped: number } })[0];
      if (end === undefined) die(`${kind}: no end line (exit ${String(c.proc.exitCode)} ${String(c.proc.signalCode)}): ${c.out.slice(-500)} ${c.err}`);
      const s = end.stats;
      return {
        delivered: s.received - s.picketDropped,
        maxGapMs: end.maxGapMs,
        // cap has no counters: its kernel drops are not known (the wrapper reports 0).
        kernelDropped: kind === 'cap' ? null : s.kernelDropped,
        picketDropped: kind === 'cap' ? null : s.picketDropped,
        cpu,
      };
    },
  };
}

interface Sent {
  packets: number;
  seconds: number;
}

async function offer(rate: string, seconds: number, pcap: string, cfg: string): Promise<Sent> {
  const t0 = process.hrtime.bigint();
  let out: string;
  if (rate.startsWith('tg:')) {
    const r = rate.slice(3);
    // --no-sock-mem / --notouch-irq: leave the machine's socket memory and IRQ affinity alone.
    const base = ['netns', 'exec', NS_SND, ...pin(1), 'trafgen', '--no-sock-mem', '--notouch-irq', '-P', '1', '-o', IF_SND, '-i', cfg];
    const args = r === 'max' ? ['netns', 'exec', NS_SND, 'timeout', '-s', 'INT', String(seconds), ...base.slice(3)] : [...base, '-b', `${r}pps`, '-n', String(Number(r) * seconds)];
    const p = spawnSync('ip', args, { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
    out = `${p.stdout}${p.stderr}`;
    const m = /(\d+) packets outgoing/.exec(out);
    if (m === null) die(`trafgen: ${out}`);
    return { packets: Number(m[1]), seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
  }
  const speed = rate === 'max' ? ['--topspeed'] : [`--pps=${rate}`];
  const p = spawnSync('ip', ['netns', 'exec', NS_SND, ...pin(1), 'tcpreplay', '-q', `--intf1=${IF_SND}`, ...speed, '--loop=0', `--duration=${seconds}`, pcap], { encoding: 'utf8', timeout: (seconds + 60) * 1000 });
  out = `${p.stdout}${p.stderr}`;
  const m = /Actual: (\d+) packets .* in ([\d.]+) seconds/.exec(out);
  if (m === null) die(`tcpreplay: ${out}`);
  return { packets: Number(m[1]), seconds: Number(m[2]) };
}

let BATCH = '8192';
/** What the probe does with each packet: nothing (the capture path alone), picket's decoder, or a busy wait. */
let CONSUMER: string[] = [];
let BUFFER = '64';

function fmt(n: number | null): string {
  if (n === null) return 'n/a';
  if (Number.isNaN(n)) return '?';
  return n.toLocaleString('en-US');
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) die('needs root (network namespaces)');
  for (const t of ['ip', 'tcpreplay', 'trafgen', 'tcpdump', 'taskset']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) die(`${t} is not installed (scripts/ensure-tools.sh installs it)`);
  }
  if (!fs.existsSync(PROBE)) die(`${PROBE} missing: npx tsc -p tsconfig.json`);
  const rates = arg('rates', '50000,100000,200000,max,tg:max').split(',');
  const seconds = Number(arg('seconds', '5'));
  const paths = arg('paths', 'addon,cap,tcpdump').split(',');
  BATCH = arg('batch-packets', BATCH);
  BUFFER = arg('buffer-mb', BUFFER);
  const consumer = arg('consumer', 'none');
  if (consumer === 'decode') CONSUMER = ['--decode'];
  else if (/^spin:\d+$/.test(consumer)) CONSUMER = ['--spin-ns', consumer.slice(5)];
  else if (consumer !== 'none') die('--consumer none, decode or spin:NS');
  const frames = arg('frames', 'imix');
  if (frames !== 'imix') {
    const size = Number(frames);
    if (!Number.isInteger(size) || size < 64 || size > 1518) die('--frames imix or a frame size from 64 to 1518');
    SIZES = [size];
  }
  PIN = !process.argv.includes('--no-pin') && os.cpus().length >= 2;
  if (!(seconds > 0 && seconds <= 120)) die('--seconds from 1 to 120');
  for (const r of rates) if (!/^(tg:)?(max|\d+)$/.test(r)) die(`bad rate ${r}`);

  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => process.exit(130));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'picket-benchlive-'));
  process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
  // --pcap FILE: tcpreplay sends a real capture (e.g. bench/data/mix-2m.pcap) instead of the IMIX frames; trafgen
  // rates still send IMIX.
  const custom = arg('pcap', '');
  const pcap = custom !== '' ? path.resolve(custom) : path.join(tmp, 'imix.pcap');
  const cfg = path.join(tmp, 'imix.trafgen');
  if (custom === '') writePcap(pcap, 120_000);
  else FILTER = '';
  writeTrafgen(cfg);
  setup();

  const rows: string[] = [];
  rows.push(`| offered | sender pps | path | arrived | delivered | kernel drops | picket drops | lost | delivered % | capture CPU % | CPU µs/packet | longest gap ms |`);
  rows.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const rate of rates) {
    for (const kind of paths) {
      const cap = await startCapture(kind, seconds);
      await sleep(300);
      const rx0 = rxPackets();
      const cpu0 = cpuSeconds(cap.c.proc.pid ?? -1);
      const t0 = process.hrtime.bigint();
      const sent = await offer(rate, seconds, pcap, cfg);
      // Let the captures catch up with what the kernel holds: tcpdump hands over a partly filled kernel block only
      // after its 1 s timeout, and does not read what is left when it is stopped.
      await sleep(1500);
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const arrived = rxPackets() - rx0;
      const o = await cap.finish();
      const label = rate === 'max' ? 'tcpreplay --topspeed' : rate === 'tg:max' ? 'trafgen, flat out' : rate.startsWith('tg:') ? `trafgen ${rate.slice(3)} pps` : `tcpreplay ${rate} pps`;
      const lost = arrived - o.delivered;
      rows.push(`| ${label} | ${fmt(Math.round(sent.packets / sent.seconds))} | ${kind}${o.split !== undefined ? ` (${o.split} %)` : ''} | ${fmt(arrived)} | ${fmt(o.delivered)} | ${fmt(o.kernelDropped)} | ${fmt(o.picketDropped)} | ${fmt(lost)} | ${(100 * o.delivered / arrived).toFixed(1)} | ${Math.round(100 * (o.cpu - cpu0) / wall)} | ${o.delivered > 0 ? (1e6 * (o.cpu - cpu0) / o.delivered).toFixed(2) : 'n/a'} | ${fmt(o.maxGapMs)} |`);
      process.stderr.write(`${rows[rows.length - 1]}\n`);
    }
  }
  process.stdout.write(`\n${os.cpus().length} CPUs, ${seconds} s a run, ${custom !== '' ? `tcpreplay sends ${path.basename(custom)} (trafgen: IMIX)` : frames === 'imix' ? 'IMIX frames' : `${frames}-byte frames`}, batch ${BATCH} packets, ${BUFFER} MiB ring, consumer ${consumer}${PIN ? ', capture on CPU 0 and sender on CPU 1' : ''}\n\n`);
  process.stdout.write(`${rows.join('\n')}\n`);
}

main().catch((e: unknown) => die(e instanceof Error ? e.stack ?? e.message : String(e)));
