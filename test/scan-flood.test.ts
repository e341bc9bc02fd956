/**
 * The default scan caps (rules/scan.yaml max_sources, max_pending_attempts) were lowered to keep peak RSS under
 * 256 MB under floods (bench/RESULTS.md). What they must still do: a flood of one-shot sources larger than the
 * source table is evicted before a slow scan that has been building up, which keeps every target it counted.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { mulberry32 } from '../src/util/prng';
import { pcapFileHeader } from '../src/capture/pcap';
import { spawn, spawnSync } from 'node:child_process';
import { BIN, get, PCAPS, picket, requireTool, restampPcap, tmpDir, tshark } from './helpers';
import { createVethLab } from './netns';

const pause = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** A SYN from a random external source to a random home address, as a pcap record at time t. */
function floodRecord(r: () => number, t: number): Buffer {
  const rec = Buffer.alloc(16 + 54);
  rec.writeUInt32LE(Math.floor(t), 0);
  rec.writeUInt32LE(Math.floor((t % 1) * 1e6), 4);
  rec.writeUInt32LE(54, 8);
  rec.writeUInt32LE(54, 12);
  const f = rec.subarray(16);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40, 16);
  f[22] = 64;
  f[23] = 6;
  f[26] = 1 + Math.floor(r() * 9); // 1.x-9.x: public, never the scanner
  f[27] = Math.floor(r() * 256);
  f[28] = Math.floor(r() * 256);
  f[29] = 1 + Math.floor(r() * 254);
  f[30] = 10;
  f[31] = 9;
  f[32] = Math.floor(r() * 256);
  f[33] = 1 + Math.floor(r() * 254);
  f.writeUInt16BE(1024 + Math.floor(r() * 60000), 34);
  f.writeUInt16BE(443, 36);
  f[46] = 0x50;
  f[47] = 0x02;
  return rec;
}

test('with the default caps, a flood of 30 000 one-shot sources in the middle of a slow scan does not cost the scan any target', () => {
  const dir = tmpDir('scanflood');
  const slow = restampPcap(fs.readFileSync(path.join(PCAPS, 'scans', 'nmap-slow.pcap')), (t) => t * 600);
  const recs: Array<[number, number]> = [];
  for (let p = 24; p + 16 <= slow.length; p += 16 + slow.readUInt32LE(p + 8)) recs.push([p, 16 + slow.readUInt32LE(p + 8)]);
  // Two thirds in: the scanner has failed targets by then, the flood's sources have one attempt each.
  const at = recs[Math.floor((recs.length * 2) / 3)][0];
  const t0 = slow.readUInt32LE(at) - 60;
  const r = mulberry32(5);
  const flood = Array.from({ length: 30000 }, (_, i) => floodRecord(r, t0 + i / 1000));
  const plain = path.join(dir, 'slow.pcap');
  const flooded = path.join(dir, 'slow-flood.pcap');
  fs.writeFileSync(plain, slow);
  fs.writeFileSync(flooded, Buffer.concat([slow.subarray(0, at), ...flood, slow.subarray(at)]));
  const final = (file: string): { alert: Record<string, unknown>; evicted: number } => {
    const run = picket(['replay', file]);
    assert.equal(run.code, 0, run.stderr);
    const finals = run.docs.filter((d) => get(d, 'rule.id') === 'scan.slow' && get(d, 'picket.final') === true);
    assert.equal(finals.length, 1, 'one slow scan, one summary');
    const metric = run.docs.filter((d) => get(d, 'event.kind') === 'metric');
    return { alert: finals[0], evicted: Number(get(metric[0], 'picket.stats.scan_sources_evicted')) };
  };
  const a = final(plain);
  const b = final(flooded);
  assert.equal(a.evicted, 0);
  assert.ok(b.evicted >= 10000, `the flood went through the source table (${b.evicted} evicted)`);
  assert.equal(get(b.alert, 'source.ip'), get(a.alert, 'source.ip'));
  assert.equal(get(b.alert, 'picket.scan.targets'), get(a.alert, 'picket.scan.targets'));
  assert.equal(get(b.alert, 'picket.scan.exact'), true);
  fs.rmSync(dir, { recursive: true });
});

test('a spoofed SYN flood (real hping3 --rand-source) names no tool for its addresses; the same hping3 from one address is named', { timeout: 120_000 }, async () => {
  for (const t of ['ip', 'hping3', 'tcpdump', 'tshark']) requireTool(t);
  // Made here, in two namespaces of the test's own: hping3 in A sends to 10.93.0.1 in B (through B's "router"
  // address 198.18.7.1, so that the target is home and the probes inbound). Neither namespace has a default route:
  // B's SYN-ACKs to the spoofed addresses go nowhere.
  const dir = tmpDir('spoofed');
  const file = path.join(dir, 'spoofed.pcap');
  const scanner = '198.18.7.66';
  const lab = createVethLab('pkfl', `${scanner}/24`, '198.18.7.1/24');
  try {
    const ns = (n: string, args: string[], timeout = 30_000): void => {
      const r = spawnSync('ip', ['netns', 'exec', n, ...args], { encoding: 'utf8', timeout });
      assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    };
    ns(lab.nsB, ['ip', 'addr', 'add', '10.93.0.1/24', 'dev', lab.ifB]);
    ns(lab.nsA, ['ip', 'route', 'add', '10.93.0.0/24', 'via', '198.18.7.1']);
    const cap = spawn('ip', ['netns', 'exec', lab.nsB, 'tcpdump', '-i', lab.ifB, '--immediate-mode', '-U', '-n', '-w', file, 'tcp[tcpflags] & tcp-syn != 0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let said = '';
    cap.stderr.on('data', (b: Buffer) => (said += b.toString()));
    const until = Date.now() + 10_000;
    while (!said.includes('listening') && Date.now() < until) await pause(100);
    assert.ok(said.includes('listening'), `tcpdump started: ${said}`);
    // 3000 SYNs, each from a new random address, to one port; then 20 from hping3's own address, port after port.
    // hping3 exits 1 when nothing answered (the flood's answers go to the spoofed addresses): its count is checked.
    const hping = (count: number, args: string[]): void => {
      const r = spawnSync('ip', ['netns', 'exec', lab.nsA, 'hping3', '-q', '-I', lab.ifA, '-S', '-c', String(count), ...args, '10.93.0.1'], { encoding: 'utf8', timeout: 30_000 });
      assert.ok(`${r.stdout}${r.stderr}`.includes(`${count} packets transmitted`), `hping3 ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    };
    hping(3000, ['-p', '80', '--rand-source', '-i', 'u300']);
    hping(20, ['-p', '++20', '-i', 'u2000']);
    await pause(500);
    cap.kill('SIGINT');
    const stopBy = Date.now() + 10_000;
    while (cap.exitCode === null && cap.signalCode === null && Date.now() < stopBy) await pause(100);
  } finally {
    lab.remove();
  }
  // tshark: the flood's SYNs carry hping3's traits (window 512, an acknowledgement number) from thousands of addresses.
  const syns = tshark(file, 'ip.dst == 10.93.0.1 && tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.window_size_value == 512 && tcp.ack_raw != 0', ['ip.src']);
  const spoofed = new Set(syns.map(([s]) => s).filter((s) => s !== scanner));
  assert.ok(spoofed.size > 2500, `${spoofed.size} spoofed sources`);
  assert.equal(syns.filter(([s]) => s === scanner).length, 20);
  const run = picket(['replay', '--quiet', file]);
  assert.equal(run.code, 0, run.stderr);
  const scans = run.docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
  assert.ok(scans.length > 0 && scans.some((d) => get(d, 'rule.id') === 'scan.tool'), 'hping3 from its own address is named');
  assert.deepEqual([...new Set(scans.map((d) => get(d, 'source.ip')))], [scanner], 'no alert for a spoofed address');
  for (const d of scans) assert.equal(get(d, 'threat.software.name'), 'hping3');
  const metric = run.docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.ok(metric !== undefined);
  const attempts = Number(get(metric, 'picket.stats.connection_attempts'));
  assert.ok(attempts >= syns.length, `every SYN was counted (${attempts})`);
  fs.rmSync(dir, { recursive: true });
});

test('a flood of new sources does not make V8 migrate the scan state\'s objects one by one (a field keeps its first type)', () => {
  // A field made with a small integer and later given a double (an IPv4 key past 2^31) has V8 retype it and move
  // every object made since to the new hidden class, one at a time: 20,000 migrations on this flood, and a 3x
  // slower replay of large floods (bench/RESULTS.md, "A field's first value"). --trace-migration prints each.
  const dir = tmpDir('migrate');
  const file = path.join(dir, 'flood.pcap');
  const r = mulberry32(9);
  fs.writeFileSync(file, Buffer.concat([pcapFileHeader(1, false), ...Array.from({ length: 30000 }, (_, i) => floodRecord(r, 1_790_000_000 + i / 1000))]));
  const run = spawnSync(process.execPath, ['--trace-migration', BIN, 'replay', '--quiet', '--out', '/dev/null', file], { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const migrations = run.stdout.split('\n').filter((l) => l.includes('[migrating]'));
  const byField = new Map<string, number>();
  for (const l of migrations) {
    const field = /\[migrating\]\s*(\S+)/.exec(l)?.[1] ?? '?';
    byField.set(field, (byField.get(field) ?? 0) + 1);
  }
  assert.ok(migrations.length < 300, `${migrations.length} migrations: ${[...byField].map(([f, n]) => `${f} ${n}`).join(', ')}`);
  fs.rmSync(dir, { recursive: true });
});
