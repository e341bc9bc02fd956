/**
 * Live capture, for real: two network namespaces joined by a veth pair, a capture (test/live-probe.ts, run inside
 * the capturing namespace) and tcpdump on the same interface at the same time, and datagrams with sequence
 * numbers sent from the other namespace. Both backends: the addon (build/Release/pcap_capture.node) and the `cap`
 * package. Needs root (namespaces), tcpdump, python3, setpriv, and both backends built; anything missing fails.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { requireTool, tmpDir } from './helpers';

const PROBE = path.join(__dirname, 'live-probe.js');
const PID = process.pid;
const NS_CAP = `pklc-cap-${PID}`;
const NS_SND = `pklc-snd-${PID}`;
// Interface names live inside the namespaces, but carry the PID too so that a leftover is recognisable.
const IF_CAP = `lc${PID}a`;
const IF_SND = `lc${PID}b`;
const ADDR_CAP = '10.77.0.1';
const ADDR_SND = '10.77.0.2';
const PORT = 47001;
const FLOW = `udp and dst host ${ADDR_CAP} and dst port ${PORT}`;
const WAIT_MS = 60_000;

let work = '';

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}): ${r.stderr ?? ''}${r.error?.message ?? ''}`);
  return r.stdout;
}

function removeNamespaces(): void {
  for (const ns of [NS_CAP, NS_SND]) {
    if (!fs.existsSync(`/run/netns/${ns}`)) continue;
    // Whatever still runs inside is ours (a probe or tcpdump a failed test left behind).
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((p) => p !== '');
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

before(() => {
  assert.equal(process.getuid?.(), 0, 'live capture tests need root (network namespaces, packet sockets); run the suite as root as CI does');
  for (const t of ['ip', 'tcpdump', 'python3', 'setpriv']) requireTool(t);
  assert.ok(fs.existsSync(PROBE), `${PROBE} is missing: compile with npx tsc -p tsconfig.json`);
  process.on('exit', removeNamespaces); // also when the runner is interrupted mid-test
  work = tmpDir('live');
  run('ip', ['netns', 'add', NS_CAP], 'ip netns add');
  run('ip', ['netns', 'add', NS_SND], 'ip netns add');
  run('ip', ['-n', NS_CAP, 'link', 'add', IF_CAP, 'type', 'veth', 'peer', 'name', IF_SND, 'netns', NS_SND], 'veth');
  for (const [ns, ifc, addr] of [[NS_CAP, IF_CAP, ADDR_CAP], [NS_SND, IF_SND, ADDR_SND]]) {
    // No IPv6 on the pair: its router and multicast listener chatter would only be noise here.
    run('ip', ['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], 'sysctl');
    run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', ifc], 'ip addr');
    run('ip', ['-n', ns, 'link', 'set', ifc, 'up'], 'ip link up');
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'], 'ip link up');
  }
  // A permanent neighbour entry: no ARP exchange, so the first datagrams are not held back or dropped by it.
  const mac = (JSON.parse(run('ip', ['-n', NS_CAP, '-j', 'link', 'show', 'dev', IF_CAP], 'ip link show')) as Array<{ address: string }>)[0].address;
  run('ip', ['-n', NS_SND, 'neigh', 'replace', ADDR_CAP, 'lladdr', mac, 'dev', IF_SND, 'nud', 'permanent'], 'ip neigh');
});

after(() => {
  removeNamespaces();
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

// ---------- the probe ----------

type Msg = Record<string, unknown> & { type: string };
type Pkt = [number, number, number, number, number, string];

/** A capture running in a child process inside a namespace; its JSON lines as they come. */
class Probe {
  readonly msgs: Msg[] = [];
  stderr = '';
  code: number | null = null;
  private readonly child: ChildProcess;
  private readonly done: Promise<number | null>;
  private partial = '';

  constructor(args: string[], opts: { ns?: string; prefix?: string[] } = {}) {
    const argv = ['netns', 'exec', opts.ns ?? NS_CAP, ...(opts.prefix ?? []), process.execPath, PROBE, ...args];
    this.child = spawn('ip', argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (d: string) => {
      const lines = (this.partial + d).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('{')) this.msgs.push(JSON.parse(l) as Msg);
    });
    this.child.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.done = new Promise((resolve) => this.child.on('close', (code) => { this.code = code; resolve(code); }));
  }

  find(type: string): Msg | undefined {
    return this.msgs.find((m) => m.type === type);
  }

  async waitFor(what: string, pred: () => boolean, ms = WAIT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.code !== null && !pred()) throw new Error(`probe exited (${this.code}) before ${what}: ${JSON.stringify(this.msgs.filter((m) => m.type !== 'batch'))} ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms: ${this.stderr}`);
      await sleep(20);
    }
  }

  async ready(): Promise<Msg> {
    await this.waitFor('ready or open error', () => this.find('ready') !== undefined || this.find('open-error') !== undefined);
    const err = this.find('open-error');
    if (err !== undefined) throw new Error(`probe could not open: ${String(err.message)}`);
    return this.find('open') as Msg;
  }

  async exit(): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), WAIT_MS);
    const code = await this.done;
    clearTimeout(timer);
    return code;
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }

  batches(): Msg[] {
    return this.msgs.filter((m) => m.type === 'batch');
  }

  packets(): Pkt[] {
    return this.batches().flatMap((b) => b.packets as Pkt[]);
  }

  seen(): number {
    return this.batches().reduce((n, b) => n + Number(b.count), 0);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---------- tcpdump, the reference ----------

class Tcpdump {
  stderr = '';
  private readonly child: ChildProcess;
  private readonly done: Promise<number | null>;

  constructor(readonly file: string, count: number) {
    // -Z root: write the file as root (tcpdump would otherwise switch to its own user); -U: write each packet.
    this.child = spawn('ip', ['netns', 'exec', NS_CAP, 'tcpdump', '-Z', 'root', '-U', '-n', '-s', '0', '-c', String(count), '-i', IF_CAP, '-w', file, FLOW], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr?.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.done = new Promise((resolve) => this.child.on('close', resolve));
  }

  async listening(): Promise<void> {
    const deadline = Date.now() + WAIT_MS;
    while (!this.stderr.includes('listening on')) {
      if (Date.now() > deadline) throw new Error(`tcpdump did not start: ${this.stderr}`);
      await sleep(20);
    }
  }

  async exit(): Promise<void> {
    const timer = setTimeout(() => this.child.kill('SIGKILL'), WAIT_MS);
    const code = await this.done;
    clearTimeout(timer);
    assert.equal(code, 0, `tcpdump: ${this.stderr}`);
  }
}

interface FilePkt {
  sec: number;
  usec: number;
  caplen: number;
  origlen: number;
  hex: string;
}

/** tcpdump -w writes classic pcap, microsecond timestamps, in this machine's byte order. */
function readPcap(file: string): FilePkt[] {
  const b = fs.readFileSync(file);
  assert.equal(b.readUInt32LE(0), 0xa1b2c3d4, 'a little-endian microsecond pcap');
  const out: FilePkt[] = [];
  for (let p = 24; p + 16 <= b.length;) {
    const caplen = b.readUInt32LE(p + 8);
    out.push({ sec: b.readUInt32LE(p), usec: b.readUInt32LE(p + 4), caplen, origlen: b.readUInt32LE(p + 12), hex: b.toString('hex', p + 16, p + 16 + caplen) });
    p += 16 + caplen;
  }
  return out;
}

// ---------- the sender ----------

const SENDER = `
import socket, sys, time
dst, port, n, burst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(n):
    # "PKLC", the sequence number, then 0-299 bytes so that lengths vary
    s.sendto(b"PKLC" + i.to_bytes(4, "big") + bytes((i * 7 + k) & 255 for k in range(i % 300)), (dst, port))
    if i % burst == burst - 1:
        time.sleep(0.002)
`;

/** n datagrams from the sender's namespace to the capture's address, in bursts with short pauses (a low rate). */
function send(n: number, burst = 20): void {
  const r = spawnSync('ip', ['netns', 'exec', NS_SND, 'python3', '-c', SENDER, ADDR_CAP, String(PORT), String(n), String(burst)], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `sender: ${r.stderr}`);
}

/** Ethernet (14) + IPv4 without options (20) + UDP (8): the datagram's "PKLC" and sequence number follow. */
function seqOf(hex: string): number {
  const payload = 2 * (14 + 20 + 8);
  assert.equal(Buffer.from(hex.slice(payload, payload + 8), 'hex').toString('latin1'), 'PKLC', 'a datagram of the test flow');
  return parseInt(hex.slice(payload + 8, payload + 16), 16);
}

interface Stats {
  received: number;
  kernelDropped: number;
  ifDropped: number;
  picketDropped: number;
  batches: number;
}

// ---------- the tests ----------

async function flowMatchesTcpdump(backend: 'addon' | 'cap'): Promise<void> {
  const N = 5000;
  const BATCH = 512;
  const file = path.join(work, `${backend}-flow.pcap`);
  const probe = new Probe(['--iface', IF_CAP, '--backend', backend, '--bpf', FLOW, '--count', String(N), '--batch-packets', String(BATCH), '--max-seconds', '120']);
  const open = await probe.ready();
  assert.equal(open.backend, backend);
  assert.equal(open.linktype, 1, 'a veth is Ethernet (DLT_EN10MB)');
  const dump = new Tcpdump(file, N);
  await dump.listening();
  send(N);
  await dump.exit();
  await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
  assert.equal(await probe.exit(), 0, probe.stderr);
  assert.equal(probe.find('error'), undefined);

  const ref = readPcap(file);
  assert.equal(ref.length, N, 'tcpdump saw the whole flow');
  const got = probe.packets();
  assert.equal(got.length, N, 'every datagram of the flow, no more');
  assert.deepEqual(got.map((p) => seqOf(p[5])), ref.map((p) => seqOf(p.hex)), 'in the order they were sent');
  for (let i = 0; i < N; i++) {
    const [sec, nsec, caplen, origlen, linktype, hex] = got[i];
    assert.equal(hex, ref[i].hex, `packet ${i}: the same bytes as tcpdump`);
    assert.equal(caplen, ref[i].caplen);
    assert.equal(origlen, ref[i].origlen, `packet ${i}: original length`);
    assert.equal(linktype, 1);
    assert.ok(nsec >= 0 && nsec < 1e9 && Number.isInteger(sec));
    if (i > 0) {
      const [ps, pn] = got[i - 1];
      assert.ok(sec > ps || (sec === ps && nsec >= pn), `packet ${i}: timestamps never go back`);
    }
    if (backend === 'addon') {
      // Both sockets get the kernel's timestamp of the same packet: ours in ns, tcpdump's file in µs.
      assert.equal(sec, ref[i].sec, `packet ${i}: the kernel's timestamp`);
      assert.equal(Math.floor(nsec / 1000), ref[i].usec, `packet ${i}: the kernel's timestamp`);
    }
  }

  // Batches: bounded by the batch size, numbered in one sequence across batches.
  const batches = probe.batches();
  assert.ok(batches.length >= Math.ceil(N / BATCH), `${batches.length} batches of at most ${BATCH}`);
  let ordinal = 0;
  for (const b of batches) {
    assert.ok(Number(b.count) >= 1 && Number(b.count) <= BATCH);
    assert.equal(b.firstOrdinal, ordinal, 'firstOrdinal counts packets across batches from 0');
    ordinal += Number(b.count);
  }

  const end = probe.find('end') as Msg;
  const stats = end.stats as Stats;
  assert.deepEqual(Object.keys(stats).sort(), ['batches', 'ifDropped', 'kernelDropped', 'picketDropped', 'received']);
  assert.equal(stats.received, N);
  assert.equal(stats.batches, batches.length);
  assert.equal(stats.kernelDropped, 0, 'no kernel drops at this rate');
  assert.equal(stats.ifDropped, 0, 'no interface drops at this rate');
  assert.equal(stats.picketDropped, 0, 'no drops for want of a batch buffer at this rate');
  assert.deepEqual(end.again, stats, 'a second stop() resolves with the same final stats');
}

test('addon: a 5000-datagram flow is captured whole, byte for byte and with the timestamps tcpdump has, in batches', { timeout: 300_000 }, async () => {
  await flowMatchesTcpdump('addon');
});

test('cap fallback: the same flow, the same bytes, gathered into batches', { timeout: 300_000 }, async () => {
  await flowMatchesTcpdump('cap');
});

for (const backend of ['addon', 'cap'] as const) {
  test(`${backend}: stop() delivers the last partial batch`, { timeout: 300_000 }, async () => {
    const N = 300;
    // Neither a full batch nor the flush timer will hand these over: only stop() can.
    const probe = new Probe(['--iface', IF_CAP, '--backend', backend, '--bpf', FLOW, '--batch-packets', '8192', '--flush-ms', '600000', '--max-seconds', '120']);
    await probe.ready();
    const dump = new Tcpdump(path.join(work, `${backend}-partial.pcap`), N);
    await dump.listening();
    send(N);
    await dump.exit(); // the datagrams have reached the interface's packet sockets, ours included
    assert.equal(probe.batches().length, 0, 'nothing delivered before stop');
    probe.signal('SIGTERM');
    await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
    assert.equal(await probe.exit(), 0, probe.stderr);
    const stopAt = probe.msgs.findIndex((m) => m.type === 'stopping');
    assert.ok(stopAt >= 0);
    assert.equal(probe.msgs.slice(0, stopAt).filter((m) => m.type === 'batch').length, 0);
    assert.deepEqual(probe.packets().map((p) => seqOf(p[5])), [...Array(N).keys()], 'all of them, in order, after stop');
    const stats = (probe.find('end') as Msg).stats as Stats;
    assert.equal(stats.batches, 1);
    assert.equal(stats.received, N);
  });

  test(`${backend}: a quiet link still delivers: a partial batch is handed over after flushMs`, { timeout: 300_000 }, async () => {
    const N = 7;
    const probe = new Probe(['--iface', IF_CAP, '--backend', backend, '--bpf', FLOW, '--batch-packets', '8192', '--flush-ms', '50', '--max-seconds', '120']);
    await probe.ready();
    send(N);
    // No stop, no full batch: only the flush timer can deliver these.
    await probe.waitFor(`${N} packets without a stop`, () => probe.seen() >= N);
    assert.equal(probe.find('stopping'), undefined);
    probe.signal('SIGTERM');
    await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
    assert.equal(await probe.exit(), 0, probe.stderr);
    assert.deepEqual(probe.packets().map((p) => seqOf(p[5])), [...Array(N).keys()]);
  });

  test(`${backend}: a bad BPF filter is an error naming the filter and libpcap's reason`, { timeout: 120_000 }, async () => {
    const probe = new Probe(['--iface', IF_CAP, '--backend', backend, '--bpf', 'udp and port']);
    assert.equal(await probe.exit(), 2, probe.stderr);
    const err = probe.find('open-error') as Msg;
    assert.ok(err !== undefined, JSON.stringify(probe.msgs));
    assert.equal(err.name, 'PicketError');
    assert.match(String(err.message), /^bad BPF filter "udp and port": .*syntax error/);
  });

  test(`${backend}: without CAP_NET_RAW the error says which capability to grant and how`, { timeout: 120_000 }, async () => {
    // As nobody, with no capabilities at all: the checkout must be readable by that user.
    const readable = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'test', '-r', PROBE]);
    assert.equal(readable.status, 0, `user nobody cannot read ${PROBE}: this test runs the probe unprivileged (make the checkout world-readable)`);
    const probe = new Probe(['--iface', IF_CAP, '--backend', backend], { prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all'] });
    assert.equal(await probe.exit(), 2, probe.stderr);
    const err = probe.find('open-error') as Msg;
    assert.ok(err !== undefined, `${JSON.stringify(probe.msgs)} ${probe.stderr}`);
    assert.match(String(err.message), /CAP_NET_RAW/);
    assert.ok(String(err.message).includes('setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))'), String(err.message));
  });
}

test('addon: when JavaScript falls behind, the kernel ring holds the backlog; past its size the kernel drops and counts', { timeout: 300_000 }, async () => {
  const SLOT_PACKETS = 64;
  /** Stalls the JavaScript thread in its first batch, sends n datagrams meanwhile, resumes, and returns what came out. */
  const stalled = async (n: number, extra: string[], tag: string): Promise<{ stats: Stats; delivered: number; seqs: number[]; probe: Probe }> => {
    const go = path.join(work, `resume-${tag}`);
    const probe = new Probe(['--iface', IF_CAP, '--backend', 'addon', '--bpf', FLOW, '--batch-packets', String(SLOT_PACKETS), '--flush-ms', '10', '--stall-until', go, '--max-seconds', '120', ...extra]);
    await probe.ready();
    send(1); // the first batch: its callback blocks the JavaScript thread until `go` exists
    await probe.waitFor('the stall', () => probe.find('stalling') !== undefined);
    const dump = new Tcpdump(path.join(work, `stall-${tag}.pcap`), n);
    await dump.listening();
    send(n);
    await dump.exit(); // all n reached the interface while JavaScript was blocked
    fs.writeFileSync(go, '');
    await probe.waitFor('the resume', () => probe.find('resumed') !== undefined);
    // Let the backlog the kernel held come through before stopping.
    await new Promise((r) => setTimeout(r, 1500));
    probe.signal('SIGTERM');
    await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
    assert.equal(await probe.exit(), 0, probe.stderr);
    return { stats: (probe.find('end') as Msg).stats as Stats, delivered: probe.seen(), seqs: probe.packets().map((p) => seqOf(p[5])), probe };
  };

  // 3000 datagrams while every batch buffer is with JavaScript: the capture thread stops reading, the 64 MiB ring
  // holds them, and once JavaScript is back every one is delivered, in order, numbered without gaps.
  const a = await stalled(3000, [], 'ring');
  assert.equal(a.stats.picketDropped, 0, 'picket discards nothing: it waits for a buffer');
  assert.equal(a.stats.kernelDropped, 0, 'the ring held the backlog');
  assert.equal(a.delivered, 3001);
  assert.equal(a.stats.received, 3001);
  assert.deepEqual(a.seqs.slice(1), [...Array(3000).keys()]);
  let ordinal = 0;
  for (const b of a.probe.batches()) {
    assert.equal(b.firstOrdinal, ordinal);
    ordinal += Number(b.count);
  }

  // With a 1 MiB ring, 40000 datagrams overflow it: the kernel drops the rest and says how many; nothing is lost
  // without a count, and what was kept is the oldest, in order.
  const N = 40000;
  const b = await stalled(N, ['--buffer-mb', '1'], 'small');
  assert.ok(b.stats.kernelDropped > 0, 'a 1 MiB ring cannot hold 40000 datagrams');
  assert.equal(b.stats.picketDropped, 0);
  assert.equal(b.delivered + b.stats.kernelDropped, N + 1, 'every datagram is delivered or counted as dropped by the kernel');
  const kept = b.seqs.slice(1);
  for (let i = 1; i < kept.length; i++) assert.ok(kept[i] > kept[i - 1], 'order kept');
});

test('addon: with only CAP_NET_RAW (not root, no CAP_NET_ADMIN) promiscuous capture works', { timeout: 120_000 }, async () => {
  const N = 50;
  const probe = new Probe(['--iface', IF_CAP, '--backend', 'addon', '--bpf', FLOW, '--promisc', '--count', String(N), '--max-seconds', '120'], {
    prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=+net_raw', '--ambient-caps=+net_raw'],
  });
  await probe.ready();
  const promiscuity = (JSON.parse(run('ip', ['-n', NS_CAP, '-d', '-j', 'link', 'show', 'dev', IF_CAP], 'ip link')) as Array<{ promiscuity: number }>)[0].promiscuity;
  assert.equal(promiscuity, 1, 'the interface is in promiscuous mode for the capture');
  send(N);
  await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
  assert.equal(await probe.exit(), 0, probe.stderr);
  assert.equal(probe.seen(), N);
});

test('addon: snaplen cuts packets, origlen keeps their length on the wire', { timeout: 120_000 }, async () => {
  const N = 200;
  const probe = new Probe(['--iface', IF_CAP, '--backend', 'addon', '--bpf', FLOW, '--snaplen', '64', '--count', String(N), '--max-seconds', '120']);
  await probe.ready();
  send(N);
  await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
  assert.equal(await probe.exit(), 0, probe.stderr);
  const pkts = probe.packets();
  assert.equal(pkts.length, N);
  for (const [, , caplen, origlen, , hex] of pkts) {
    const seq = seqOf(hex);
    const wire = 14 + 20 + 8 + 8 + (seq % 300);
    assert.equal(origlen, wire, `datagram ${seq}: its length on the wire`);
    assert.equal(caplen, Math.min(64, wire));
    assert.equal(hex.length, 2 * caplen);
  }
});

test('listInterfaces shows the veth with its address and flags, and lo as loopback', { timeout: 120_000 }, async () => {
  const probe = new Probe(['--list']);
  assert.equal(await probe.exit(), 0, probe.stderr);
  const list = (probe.find('interfaces') as Msg).list as Array<{ name: string; description: string; addresses: string[]; up: boolean; running: boolean; loopback: boolean }>;
  const veth = list.find((i) => i.name === IF_CAP);
  assert.ok(veth !== undefined, `${IF_CAP} in ${JSON.stringify(list.map((i) => i.name))}`);
  assert.deepEqual(veth.addresses, [ADDR_CAP]);
  assert.equal(veth.up, true);
  assert.equal(veth.running, true);
  assert.equal(veth.loopback, false);
  assert.equal(typeof veth.description, 'string');
  const lo = list.find((i) => i.name === 'lo');
  assert.ok(lo !== undefined && lo.loopback && lo.addresses.includes('127.0.0.1'));
  assert.ok(!list.some((i) => i.name === IF_SND), 'the other end is in the other namespace');
});

test('addon: an interface that disappears mid-capture is reported through onError, and stop() still resolves', { timeout: 120_000 }, async () => {
  // A second veth pair of our own in the capture namespace, deleted while it is being captured.
  const a = `lc${PID}x`;
  const b = `lc${PID}y`;
  run('ip', ['-n', NS_CAP, 'link', 'add', a, 'type', 'veth', 'peer', 'name', b], 'veth');
  run('ip', ['-n', NS_CAP, 'link', 'set', a, 'up'], 'ip link up');
  run('ip', ['-n', NS_CAP, 'link', 'set', b, 'up'], 'ip link up');
  const probe = new Probe(['--iface', a, '--backend', 'addon', '--max-seconds', '120']);
  await probe.ready();
  run('ip', ['-n', NS_CAP, 'link', 'del', a], 'ip link del');
  await probe.waitFor('the end of the capture', () => probe.find('end') !== undefined);
  assert.equal(await probe.exit(), 0, probe.stderr);
  const err = probe.find('error') as Msg;
  assert.ok(err !== undefined, JSON.stringify(probe.msgs));
  assert.equal(err.name, 'PicketError');
  assert.match(String(err.message), new RegExp(`^${a}: capture failed: `));
  const end = probe.find('end') as Msg;
  assert.deepEqual(end.again, end.stats);
});
