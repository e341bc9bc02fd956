/**
 * The laboratory of the end-to-end live test (test/e2e-live.test.ts): two network namespaces joined by one veth
 * pair, the processes started inside them, and the small readers the test needs (the metrics exposition, tcpdump's
 * capture file). Everything here is torn down by removeLab(), which the test calls from `after` and on process exit.
 *
 *   server namespace  veth0 02:91:00:00:00:01  10.91.0.1/24 (DNS), 10.91.0.10/24 (the "intel" address: HTTP, TLS)
 *                                              and 198.18.1.1/24 (the router address the client reaches them by)
 *   client namespace  veth0 02:91:00:00:00:66  198.18.1.66/24, route 10.91.0.0/24 via 198.18.1.1
 *
 * The client sits outside the home network (10.91.0.0/24), so everything it does is inbound for picket. No default
 * route in either namespace, no IPv6, and permanent neighbour entries on both ends: the link carries the client's
 * own packets and nothing else (no ARP, no router or multicast chatter), which is what lets the test compare
 * picket's packet count with tcpdump's exactly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { requireTool } from './helpers';

const PID = process.pid;
export const NS_SERVER = `pke2e-srv-${PID}`;
export const NS_CLIENT = `pke2e-cli-${PID}`;
export const IFACE = 'veth0';
export const SERVER = '10.91.0.1';
export const INTEL_ADDR = '10.91.0.10';
export const ROUTER = '198.18.1.1';
export const CLIENT = '198.18.1.66';
export const HOME_NET = '10.91.0.0/24';
const SERVER_MAC = '02:91:00:00:00:01';
const CLIENT_MAC = '02:91:00:00:00:66';

/** A command that must succeed (lab set-up): its stdout, or an error naming the command and what it said. */
export function must(argv: string[], what: string, timeoutMs = 30_000): string {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${what} failed (${argv.join(' ')}): ${r.stderr ?? ''}${r.error?.message ?? ''}`);
  return r.stdout;
}

export function inServer(argv: string[]): string[] {
  return ['ip', 'netns', 'exec', NS_SERVER, ...argv];
}

export function inClient(argv: string[]): string[] {
  return ['ip', 'netns', 'exec', NS_CLIENT, ...argv];
}

export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking the event loop (picket and tcpdump are being watched meanwhile);
 * killed after timeoutMs. `ip netns exec` execs the command, so the kill reaches the tool itself.
 */
export function run(argv: string[], timeoutMs: number): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** What a finished command said, for assertion messages. */
export function described(argv: string[], d: Done): string {
  const how = d.signal !== null ? `killed by ${d.signal} (its time limit)` : `exit ${String(d.code)}`;
  return `${argv.join(' ')}: ${how}\n--- stdout ---\n${d.stdout}\n--- stderr ---\n${d.stderr}`;
}

/** A long-running process with stdout and stderr in files, watched by polling them. */
export class Background {
  code: number | null = null;
  signal: NodeJS.Signals | null = null;
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(readonly name: string, argv: string[], readonly outFile: string, readonly errFile: string) {
    const out = fs.openSync(outFile, 'w');
    const err = fs.openSync(errFile, 'w');
    try {
      this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', out, err] });
    } finally {
      fs.closeSync(out);
      fs.closeSync(err);
    }
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.code = code;
        this.signal = signal;
        running.delete(this);
        resolve();
      });
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} did not start`);
    return this.child.pid;
  }

  get alive(): boolean {
    return this.code === null && this.signal === null;
  }

  stdout(): string {
    return fs.readFileSync(this.outFile, 'utf8');
  }

  stderr(): string {
    return fs.readFileSync(this.errFile, 'utf8');
  }

  /** The last lines of stderr, for failure messages; of picket's periodic counter lines, only the last. */
  stderrTail(lines = 30): string {
    const all = this.stderr().split('\n');
    const periodic = (l: string): boolean => /packets\/s now$/.test(l);
    const lastPeriodic = all.filter(periodic).pop();
    return all.filter((l) => !periodic(l) || l === lastPeriodic).slice(-lines).join('\n');
  }

  kill(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** Waits for the exit; SIGKILL (and an error) when it takes longer than timeoutMs. */
  async exit(timeoutMs: number): Promise<void> {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      this.kill('SIGKILL');
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
    if (late) throw new Error(`${this.name} did not exit within ${timeoutMs / 1000} s (killed); stderr:\n${this.stderrTail()}`);
  }
}

const running = new Set<Background>();

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Polls until pred() holds. `watch` is a process that must stay up meanwhile: its exit fails the wait at once
 * with its stderr, rather than after the time limit. `whatOf` names what is awaited in the failure message (a
 * function: worked out when it fails, e.g. what is still missing).
 */
export async function waitFor(whatOf: string | (() => string), pred: () => boolean, timeoutMs: number, watch?: Background): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    const what = typeof whatOf === 'string' ? whatOf : whatOf();
    if (watch !== undefined && !watch.alive) {
      if (pred()) return;
      throw new Error(`${watch.name} exited (${watch.code ?? watch.signal}) before ${what}; stderr:\n${watch.stderrTail()}`);
    }
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs / 1000} s${watch !== undefined ? `; ${watch.name} stderr:\n${watch.stderrTail()}` : ''}`);
    await sleep(50);
  }
}

// ---------- the namespaces ----------

export function createLab(): void {
  must(['ip', 'netns', 'add', NS_SERVER], 'ip netns add');
  must(['ip', 'netns', 'add', NS_CLIENT], 'ip netns add');
  for (const ns of [NS_SERVER, NS_CLIENT]) {
    must(['ip', '-n', ns, 'link', 'set', 'lo', 'up'], 'ip link set lo up');
    // Before the veth exists, so that it is born without IPv6 (no link-local address, no ND or MLD packets).
    must(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], 'sysctl');
  }
  must(['ip', '-n', NS_CLIENT, 'link', 'add', IFACE, 'type', 'veth', 'peer', 'name', IFACE, 'netns', NS_SERVER], 'veth pair');
  must(['ip', '-n', NS_SERVER, 'link', 'set', IFACE, 'address', SERVER_MAC], 'server MAC');
  must(['ip', '-n', NS_CLIENT, 'link', 'set', IFACE, 'address', CLIENT_MAC], 'client MAC');
  for (const a of [`${SERVER}/24`, `${INTEL_ADDR}/24`, `${ROUTER}/24`]) must(['ip', '-n', NS_SERVER, 'addr', 'add', a, 'dev', IFACE], 'server address');
  must(['ip', '-n', NS_CLIENT, 'addr', 'add', `${CLIENT}/24`, 'dev', IFACE], 'client address');
  // No segmentation or receive offloads: frames on the veth are wire-sized, as a NIC delivers them to a span port.
  // It matters to tcpdump, the reference: with an offload on, libpcap sizes each ring slot for the whole snapshot
  // length (256 KiB) instead of the MTU, its buffer then holds a handful of frames, and nmap's bursts overflow it.
  for (const ns of [NS_SERVER, NS_CLIENT]) {
    spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', IFACE, 'tso', 'off', 'gso', 'off', 'gro', 'off'], { encoding: 'utf8', timeout: 30_000 });
    const on = must(['ip', 'netns', 'exec', ns, 'ethtool', '-k', IFACE], 'ethtool -k').split('\n')
      .filter((l) => /^(tcp-segmentation|generic-segmentation|generic-receive|large-receive|udp-fragmentation)-offload: on/.test(l));
    if (on.length > 0) throw new Error(`cannot turn the offloads of ${IFACE} off in ${ns}: ${on.join('; ')}`);
  }
  must(['ip', '-n', NS_SERVER, 'link', 'set', IFACE, 'up'], 'server link up');
  must(['ip', '-n', NS_CLIENT, 'link', 'set', IFACE, 'up'], 'client link up');
  must(['ip', '-n', NS_CLIENT, 'route', 'add', '10.91.0.0/24', 'via', ROUTER, 'dev', IFACE], 'client route');
  // Permanent neighbours: no ARP exchange now or later (a neighbour entry going stale would otherwise send
  // probes at moments of the kernel's choosing, possibly while tcpdump runs and picket does not).
  must(['ip', '-n', NS_CLIENT, 'neigh', 'replace', ROUTER, 'lladdr', SERVER_MAC, 'dev', IFACE, 'nud', 'permanent'], 'client neighbour');
  must(['ip', '-n', NS_SERVER, 'neigh', 'replace', CLIENT, 'lladdr', CLIENT_MAC, 'dev', IFACE, 'nud', 'permanent'], 'server neighbour');
}

/**
 * The network safety check, run before any packet is sent: only lo and the veth, only the addresses assigned
 * above, no default route (IPv4 or IPv6), no IPv6 at all, and exactly the routes the lab needs. Returns the
 * problems found (none: an empty list).
 */
export function labProblems(): string[] {
  const problems: string[] = [];
  const want: Record<string, { addrs: string[]; routes: string[] }> = {
    [NS_SERVER]: {
      addrs: ['10.91.0.1/24', '10.91.0.10/24', '127.0.0.1/8', '198.18.1.1/24'],
      routes: ['10.91.0.0/24 dev veth0 proto kernel scope link src 10.91.0.1', '198.18.1.0/24 dev veth0 proto kernel scope link src 198.18.1.1'],
    },
    [NS_CLIENT]: {
      addrs: ['127.0.0.1/8', '198.18.1.66/24'],
      routes: ['10.91.0.0/24 via 198.18.1.1 dev veth0', '198.18.1.0/24 dev veth0 proto kernel scope link src 198.18.1.66'],
    },
  };
  for (const [ns, w] of Object.entries(want)) {
    if (must(['ip', '-n', ns, 'route', 'show', 'default'], 'ip route').trim() !== '') problems.push(`${ns}: an IPv4 default route`);
    if (must(['ip', '-n', ns, '-6', 'route', 'show'], 'ip -6 route').trim() !== '') problems.push(`${ns}: IPv6 routes`);
    const links = (JSON.parse(must(['ip', '-n', ns, '-j', 'link', 'show'], 'ip link')) as Array<{ ifname: string }>).map((l) => l.ifname).sort();
    if (links.join(' ') !== 'lo veth0') problems.push(`${ns}: links ${links.join(' ')}, want lo veth0`);
    const addrs = (JSON.parse(must(['ip', '-n', ns, '-j', 'addr', 'show'], 'ip addr')) as Array<{ addr_info: Array<{ local: string; prefixlen: number }> }>)
      .flatMap((l) => l.addr_info.map((a) => `${a.local}/${a.prefixlen}`)).sort();
    if (addrs.join(' ') !== w.addrs.join(' ')) problems.push(`${ns}: addresses ${addrs.join(' ')}, want ${w.addrs.join(' ')}`);
    const routes = must(['ip', '-n', ns, 'route', 'show'], 'ip route').split('\n').map((l) => l.trim()).filter((l) => l !== '').sort();
    if (routes.join(';') !== w.routes.join(';')) problems.push(`${ns}: routes ${routes.join('; ')}, want ${w.routes.join('; ')}`);
  }
  return problems;
}

/** Listening sockets in the server namespace ("addr:port"), sorted: t for TCP, u for UDP. */
export function listening(proto: 't' | 'u'): string[] {
  return must(inServer(['ss', `-Hln${proto}`]), 'ss').split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/)[3]).sort();
}

/**
 * Stops what is still running (TERM, then KILL for whatever ignores it), kills anything left inside the two
 * namespaces (all of it started by this test) and deletes them. Synchronous, so that it also works from an
 * exit handler; safe to call twice.
 */
export function removeLab(): void {
  for (const b of running) b.kill('SIGKILL');
  for (const ns of [NS_SERVER, NS_CLIENT]) {
    if (!fs.existsSync(`/run/netns/${ns}`)) continue;
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => /^\d+$/.test(p));
    for (const p of pids) {
      try {
        process.kill(Number(p), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    spawnSync('ip', ['netns', 'del', ns]);
  }
}

export function labExists(): boolean {
  return fs.existsSync(`/run/netns/${NS_SERVER}`) || fs.existsSync(`/run/netns/${NS_CLIENT}`);
}

// ---------- readers ----------

/** Prometheus text exposition: sample lines as "name{labels}" -> value (comments skipped). */
export function parseExposition(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/**
 * Frames in a classic pcap file as tcpdump -w writes it here (little-endian, microseconds). `growing`: the file is
 * still being written, so a frame cut at the end is one not written yet (otherwise it is an error).
 */
export function pcapTotals(file: string, growing = false): { frames: number; caplen: number; origlen: number } {
  const b = fs.readFileSync(file);
  if (growing && b.length < 24) return { frames: 0, caplen: 0, origlen: 0 };
  if (b.length < 24 || b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian microsecond pcap`);
  let frames = 0;
  let caplen = 0;
  let origlen = 0;
  let p = 24;
  while (p + 16 <= b.length) {
    const cap = b.readUInt32LE(p + 8);
    if (p + 16 + cap > b.length) break;
    frames++;
    caplen += cap;
    origlen += b.readUInt32LE(p + 12);
    p += 16 + cap;
  }
  if (p !== b.length && !growing) throw new Error(`${file}: ${b.length - p} bytes of a cut frame after frame ${frames}`);
  return { frames, caplen, origlen };
}

/** Every command a live test runs, with the Debian package it comes from: a missing one fails naming the package. */
export function requireTools(tools: Record<string, string>): void {
  for (const [tool, pkg] of Object.entries(tools)) {
    try {
      requireTool(tool);
    } catch {
      throw new Error(`${tool} is not installed: apt-get install ${pkg} (scripts/ensure-tools.sh installs what the suite needs)`);
    }
  }
}
