import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { mulberry32 } from '../src/util/prng';

/** The repository root (tests run from dist/test). */
export const ROOT = path.resolve(__dirname, '..', '..');
export const PCAPS = path.join(ROOT, 'pcaps');
export const BIN = path.join(ROOT, 'bin', 'picket.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  docs: Array<Record<string, unknown>>;
}

/** Runs the real CLI in a child process, as a user would. */
export function picket(args: string[], input?: string): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input, maxBuffer: 256 << 20, timeout: 120_000 });
  const stdout = r.stdout ?? '';
  const docs: Array<Record<string, unknown>> = [];
  if (!args.includes('text')) {
    for (const line of stdout.split('\n')) if (line.startsWith('{')) docs.push(JSON.parse(line) as Record<string, unknown>);
  }
  return { code: r.status ?? -1, stdout, stderr: r.stderr ?? '', docs };
}

/**
 * The real CLI in a child process that runs alongside the test (picket() blocks the test's event loop, and with it
 * any server the test runs): its standard input is a pipe the test writes to, `done` resolves when it exits.
 */
export function picketChild(args: string[]): { child: ChildProcess; done: Promise<Run>; stderr(): string } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<Run>((resolve) => {
    child.once('close', (code) => {
      clearTimeout(killer);
      const docs = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code: code ?? -1, stdout, stderr, docs });
    });
  });
  return { child, done, stderr: () => stderr };
}

/**
 * A tool the suite needs. A missing tool fails the test loudly (CI installs them all; see .ci/run), never skips it.
 */
export function requireTool(name: string): string {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${name} is not installed: run .ci/run or apt-get install the packages it lists`);
  return r.stdout.trim();
}

/**
 * tshark -T fields over a file: one array of field values per matching frame. IP reassembly is off, because
 * picket decodes each packet on its own (first fragments included), and so should the reference it is held to.
 * occurrence: a field's first occurrence in a frame, or its last ('l': the innermost packet of a tunnelled frame).
 */
export function tshark(file: string, filter: string, fields: string[], extra: string[] = [], occurrence: 'f' | 'l' = 'f'): string[][] {
  requireTool('tshark');
  const args = [...extra, '-n', '-r', file, '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-T', 'fields', '-E', 'separator=\t', '-E', `occurrence=${occurrence}`];
  if (filter !== '') args.push('-Y', filter);
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 256 << 20, timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tshark failed on ${file}: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/**
 * The TCP targets each prober failed to reach, by tshark's reading of the capture: closed (the target's RST
 * answered the SYN) or half-open (the target's SYN-ACK answered it, then the prober reset the connection before
 * any payload went either way, as Zeek's scan policy counts). Keys are "prober target:port" (IPv4 or IPv6).
 * halfOpenAttempts counts the half-open connections themselves (tshark's TCP streams: a target probed twice from
 * two source ports is two attempts), as picket.scan.outcomes.half_open counts attempts.
 */
export function tsharkFailedTcpTargets(file: string): { closed: Set<string>; halfOpen: Set<string>; halfOpenAttempts: number } {
  const rows = tshark(file, 'tcp', ['tcp.stream', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.reset', 'tcp.len', 'ipv6.src', 'ipv6.dst'])
    .map(([stream, src4, dst4, sport, dport, syn, ack, rst, len, src6, dst6]) => [stream, src4 || src6, dst4 || dst6, sport, dport, syn, ack, rst, len]);
  interface Conn { prober: string; target: string; synAck: boolean; proberReset: boolean; data: boolean; closed: boolean }
  const conns = new Map<string, Conn>();
  for (const [stream, src, dst, sport, dport, syn, ack, rst, len] of rows) {
    let c = conns.get(stream);
    const on = (x: string): boolean => x === '1' || x === 'True';
    if (c === undefined) {
      if (!on(syn) || on(ack)) continue; // a stream seen from its middle
      c = { prober: src, target: `${dst}:${dport}`, synAck: false, proberReset: false, data: false, closed: false };
      conns.set(stream, c);
    }
    const fromProber = src === c.prober && `${dst}:${dport}` === c.target;
    if (Number(len) > 0) c.data = true;
    if (!fromProber && on(syn) && on(ack)) c.synAck = true;
    if (!fromProber && on(rst) && !c.synAck) c.closed = true;
    if (fromProber && on(rst) && c.synAck && !c.data) c.proberReset = true;
    void sport;
  }
  const closed = new Set<string>();
  const halfOpen = new Set<string>();
  let halfOpenAttempts = 0;
  for (const c of conns.values()) {
    if (c.closed) closed.add(`${c.prober} ${c.target}`);
    else if (c.proberReset && !c.data) {
      halfOpen.add(`${c.prober} ${c.target}`);
      halfOpenAttempts++;
    }
  }
  return { closed, halfOpen, halfOpenAttempts };
}

/** A loopback TCP port free a moment ago (the OS's choice), for a server the test starts. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `picket-${tag}-`));
}

export function get(doc: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = doc;
  for (const k of dotted.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

/** Every committed capture under pcaps/, found on disk so that a new capture is tested without editing tests. */
export function committedCaptures(): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(pcap|pcapng)(\.gz)?$/.test(e.name)) out.push(full);
    }
  };
  walk(PCAPS);
  return out.sort();
}

/** A deterministic PRNG for fuzzing: the same seed, the same damage, so failures reproduce. */
export const prng = mulberry32;

/**
 * A copy of a little-endian µs pcap with every packet's time mapped by `at(seconds since the first packet)`:
 * real packets of a real tool, paced as a patient scanner would pace them (hours cannot be captured in CI).
 */
export function restampPcap(src: Buffer, at: (offset: number) => number): Buffer {
  const b = Buffer.from(src);
  if (b.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('restampPcap expects a little-endian µs pcap');
  const t0 = b.readUInt32LE(24) + b.readUInt32LE(28) / 1e6;
  for (let p = 24; p + 16 <= b.length; p += 16 + b.readUInt32LE(p + 8)) {
    const t = t0 + at(b.readUInt32LE(p) + b.readUInt32LE(p + 4) / 1e6 - t0);
    const sec = Math.floor(t);
    b.writeUInt32LE(sec, p);
    b.writeUInt32LE(Math.min(999_999, Math.round((t - sec) * 1e6)), p + 4);
  }
  return b;
}

/** A document without its event.id, which is unique to each run by design: for comparing two runs' documents. */
export function withoutEventId(doc: Record<string, unknown>): Record<string, unknown> {
  const event = { ...(doc.event as Record<string, unknown>) };
  delete event.id;
  return { ...doc, event };
}

/** A DNS query for `name` (type A), as a resolver sends it: for live tests, where no server has to answer. */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const head = Buffer.alloc(12);
  head.writeUInt16BE(id, 0);
  head.writeUInt16BE(0x0100, 2); // recursion desired
  head.writeUInt16BE(1, 4);
  return Buffer.concat([head, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** A classic little-endian microsecond Ethernet pcap of the frames, one a second from firstSec (caplen = length). */
export function ethernetPcap(frames: Buffer[], firstSec = 1_700_000_000): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  return Buffer.concat([head, ...frames.flatMap((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(firstSec + i, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(f.length, 12);
    return [h, f];
  })]);
}
