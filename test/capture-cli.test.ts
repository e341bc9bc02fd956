/**
 * picket capture as a user runs it, on a veth pair in namespaces of the test's own: --workers (a fanout socket per
 * worker) gives the same alerts as inline on the same traffic, and --write-pcap keeps a bounded ring that replays like what tcpdump saw.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { get, requireTool, ROOT, tmpDir, tshark } from './helpers';
import { createVethLab, type VethLab } from './netns';

const BIN = path.join(ROOT, 'bin', 'picket.js');
let lab: VethLab;
let work = '';

before(() => {
  assert.equal(process.getuid?.(), 0, 'live capture needs root (network namespaces); run the suite as root as CI does');
  for (const t of ['ip', 'nmap', 'tcpdump', 'tshark']) requireTool(t);
  lab = createVethLab('pkcc', '10.78.0.1/24', '10.78.0.2/24');
  work = tmpDir('capcli');
});

after(() => {
  lab?.remove();
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

interface Running { proc: ChildProcess; out: string[]; err: string[]; exited: Promise<number> }

function start(args: string[]): Running {
  const proc = spawn('ip', ['netns', 'exec', lab.nsA, process.execPath, BIN, 'capture', '-i', lab.ifA, '--stats-interval', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => out.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => err.push(d.toString()));
  const exited = new Promise<number>((resolve) => proc.on('exit', (c) => resolve(c ?? -1)));
  return { proc, out, err, exited };
}

async function started(r: Running): Promise<void> {
  for (let i = 0; i < 200 && !r.err.join('').includes('capturing on'); i++) await new Promise((res) => setTimeout(res, 50));
  assert.match(r.err.join(''), /capturing on/, r.err.join(''));
}

async function stop(r: Running): Promise<Array<Record<string, unknown>>> {
  r.proc.kill('SIGTERM');
  const timer = setTimeout(() => r.proc.kill('SIGKILL'), 20_000);
  const code = await r.exited;
  clearTimeout(timer);
  assert.equal(code, 0, r.err.join(''));
  return r.out.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function nmap(ports: string): void {
  const r = spawnSync('ip', ['netns', 'exec', lab.nsB, 'timeout', '60', 'nmap', '-n', '-sS', '-Pn', '-p', ports, '10.78.0.1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('--workers 2 raises the same alerts as inline, from the same packets', { timeout: 120_000 }, async () => {
  const inline = start([]);
  const workers = start(['--workers', '2']);
  await started(inline);
  await started(workers);
  nmap('1-400');
  await new Promise((res) => setTimeout(res, 1500));
  const a = await stop(inline);
  const b = await stop(workers);
  const kinds = (docs: Array<Record<string, unknown>>): string[] => docs.filter((d) => get(d, 'event.kind') === 'alert')
    .map((d) => `${String(get(d, 'rule.id'))} ${String(get(d, 'source.ip'))} ${String(get(d, 'threat.software.name'))} ${String(get(d, 'picket.update'))}`).sort();
  assert.ok(kinds(a).some((k) => k.startsWith('scan.port 10.78.0.2 nmap')), kinds(a).join('\n'));
  assert.deepEqual(kinds(b), kinds(a));
  const stats = (docs: Array<Record<string, unknown>>): Record<string, unknown> => docs.filter((d) => get(d, 'event.kind') === 'metric').at(-1) ?? {};
  assert.equal(get(stats(b), 'picket.stats.workers.count'), 2);
  assert.equal(get(stats(b), 'picket.stats.workers.dropped'), 0);
  const final = (docs: Array<Record<string, unknown>>, k: string): unknown => get(docs.filter((d) => get(d, 'rule.id') === 'scan.port' && get(d, 'picket.final') === true)[0] ?? {}, k);
  assert.equal(final(b, 'picket.scan.attempts'), final(a, 'picket.scan.attempts'));
  assert.deepEqual(final(b, 'picket.scan.learned'), final(a, 'picket.scan.learned'));
});

test('--write-pcap keeps a ring bounded in size and count whose newest file holds the last packets, as tcpdump saw them', { timeout: 120_000 }, async () => {
  const ring = path.join(work, 'ring');
  const dump = path.join(work, 'tcpdump.pcap');
  const td = spawn('ip', ['netns', 'exec', lab.nsA, 'tcpdump', '-U', '-n', '-i', lab.ifA, '-w', dump, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tdErr = '';
  td.stderr?.on('data', (d: Buffer) => (tdErr += d.toString()));
  for (let i = 0; i < 100 && !tdErr.includes('listening on'); i++) await new Promise((res) => setTimeout(res, 50));
  const r = start(['--write-pcap', ring, '--pcap-file-mb', '1', '--pcap-files', '2', '--bpf', 'tcp']);
  await started(r);
  // Some 20 k packets of ~60 bytes, well over 2 files of 1 MiB... in frames of 54-66 bytes plus 16 of header.
  for (let i = 0; i < 12; i++) nmap('1-1000');
  await new Promise((res) => setTimeout(res, 1500));
  await stop(r);
  td.kill('SIGINT');
  await new Promise((res) => td.on('exit', res));
  const files = fs.readdirSync(ring).filter((f) => f.endsWith('.pcap')).sort();
  assert.equal(files.length, 2, `the ring keeps 2 files: ${files.join(', ')}`);
  for (const f of files) assert.ok(fs.statSync(path.join(ring, f)).size <= 1024 * 1024, f);
  const newest = path.join(ring, files[1]);
  // picket's ring keeps the kernel's nanoseconds, tcpdump's file microseconds: compare at microseconds.
  const rows = (f: string): string[] => tshark(f, '', ['frame.time_epoch', 'frame.len', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw'])
    .map(([t, ...rest]) => [t.slice(0, t.indexOf('.') + 7), ...rest].join(' '));
  const ours = rows(newest);
  const theirs = rows(dump);
  assert.ok(ours.length > 1000);
  // The newest ring file is the tail of what tcpdump captured: the same packets, times and all, at the end.
  assert.deepEqual(theirs.slice(theirs.length - ours.length), ours);
});

test('--workers 2 under a flood: each worker reads its own fanout socket, whose kernel ring takes its backlog, so every packet that arrived is analysed or counted as a kernel drop of one socket', { timeout: 180_000 }, async () => {
  requireTool('tcpreplay');
  const rxPackets = (): number => Number(spawnSync('ip', ['netns', 'exec', lab.nsA, 'cat', `/sys/class/net/${lab.ifA}/statistics/rx_packets`], { encoding: 'utf8' }).stdout.trim());
  const r = start(['--workers', '2', '--buffer-mb', '4']);
  await started(r);
  const rx0 = rxPackets();
  // A real capture (nmap's vertical scan, 2 k packets) replayed as fast as tcpreplay can for 3 s: hundreds of
  // thousands of packets a second, more than two workers on this machine decode.
  const pcap = path.join(ROOT, 'pcaps', 'scans', 'nmap-vertical.pcap');
  const tr = spawnSync('ip', ['netns', 'exec', lab.nsB, 'timeout', '30', 'tcpreplay', '-q', `--intf1=${lab.ifB}`, '--topspeed', '--loop=0', '--duration=3', pcap], { encoding: 'utf8' });
  assert.equal(tr.status, 0, tr.stderr);
  await new Promise((res) => setTimeout(res, 2000));
  const arrived = rxPackets() - rx0;
  const docs = await stop(r);
  const st = docs.filter((d) => get(d, 'event.kind') === 'metric').at(-1) ?? {};
  const packets = Number(get(st, 'picket.stats.packets'));
  const kernel = Number(get(st, `picket.stats.capture.${lab.ifA}.kernel_dropped`));
  assert.ok(arrived > 100_000, `${arrived} packets offered`);
  assert.equal(get(st, 'picket.stats.workers.dropped'), 0, 'nothing dropped for want of a worker slot: the batches waited');
  assert.equal(get(st, `picket.stats.capture.${lab.ifA}.picket_dropped`), 0);
  assert.equal(packets + kernel, arrived, `analysed ${packets} + kernel drops ${kernel} = arrived ${arrived}`);
  const sockets = get(st, `picket.stats.capture.${lab.ifA}.sockets`) as Array<Record<string, number>>;
  assert.equal(sockets.length, 2);
  assert.equal(sockets[0].kernel_dropped + sockets[1].kernel_dropped, kernel, 'the interface\'s drops are its sockets\' drops');
  assert.ok(sockets[0].received > 0 && sockets[1].received > 0, `both sockets received: ${JSON.stringify(sockets)}`);
});

test('a SIGTERM repeated while picket stops (a wrapper signals the process and its group) does not cut the stop short', { timeout: 60_000 }, async () => {
  const r = start(['--workers', '2']);
  await started(r);
  r.proc.kill('SIGTERM');
  for (let i = 0; i < 400 && !r.err.join('').includes('stopping'); i++) await new Promise((res) => setTimeout(res, 2));
  assert.match(r.err.join(''), /stopping \(SIGTERM\)/);
  // The workers are being stopped now (their sockets, the merge, the final counters): the second one lands in that.
  r.proc.kill('SIGTERM');
  const timer = setTimeout(() => r.proc.kill('SIGKILL'), 20_000);
  const code = await r.exited;
  clearTimeout(timer);
  assert.equal(code, 0, `exit ${code}: ${r.err.join('')}`);
  const docs = r.out.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(docs.filter((d) => get(d, 'event.dataset') === 'picket.stats').length, 1, 'the final stats document');
});
