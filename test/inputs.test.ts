import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { get, PCAPS, picket, requireTool, ROOT, tmpDir, withoutEventId } from './helpers';

const BIN = path.join(ROOT, 'bin', 'picket.js');
const INTEL = path.join(PCAPS, 'intel-dns.pcap');

function parse(stdout: string): Array<Record<string, unknown>> {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs picket with its stdin fed from a readable stream (or nothing), to completion. */
function picketFrom(args: string[], feed: (stdin: NodeJS.WritableStream) => void): Promise<{ code: number; docs: Array<Record<string, unknown>>; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    p.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, docs: parse(out), stderr: err }));
    feed(p.stdin);
  });
}

/** The documents of a run as they can be compared with another run's: event.id is unique per run by design. */
const comparable = (docs: Array<Record<string, unknown>>): Array<Record<string, unknown>> => docs.map(withoutEventId);

const fileRun = picket(['replay', '--metadata', '--quiet', INTEL]);

test('the file replay the stream replays are held to raises alerts', () => {
  assert.equal(fileRun.code, 0, fileRun.stderr);
  assert.ok(fileRun.docs.filter((d) => get(d, 'event.kind') === 'alert').length >= 10);
});

test('picket replay - reads a capture that tcpdump writes to a pipe: the same documents as the file', async () => {
  requireTool('tcpdump');
  const r = await picketFrom(['replay', '--metadata', '--quiet', '-'], (stdin) => {
    const td = spawn('tcpdump', ['-r', INTEL, '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    td.stdout.pipe(stdin);
  });
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /ESPIPE|internal error/);
  assert.equal(r.docs.length, fileRun.docs.length);
  assert.deepEqual(comparable(r.docs), comparable(fileRun.docs));
});

test('picket replay - reads gzip from a pipe, over many compressed chunks, without reading it twice', async () => {
  const dir = tmpDir('stdin-gz');
  try {
    const mix = path.join(dir, 'mix.pcap');
    const gen = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--packets', '20000', '--seed', '3', '--out', mix], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(gen.status, 0, gen.stderr);
    const gz = path.join(dir, 'mix.pcap.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(mix), { level: 1 }));
    assert.ok(fs.statSync(gz).size > 4 * 256 * 1024, 'several of the gzip reader\'s input chunks');
    const want = picket(['replay', '--metadata', '--quiet', gz]);
    assert.equal(want.code, 0);
    const r = await picketFrom(['replay', '--metadata', '--quiet', '-'], (stdin) => fs.createReadStream(gz).pipe(stdin));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.docs.length > 100);
    assert.deepEqual(comparable(r.docs), comparable(want.docs));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a FIFO is replayed like the file written into it, plain or gzip, with --workers falling back to one thread', async () => {
  requireTool('mkfifo');
  const dir = tmpDir('fifo');
  try {
    for (const [src, workers] of [[INTEL, '0'], [path.join(PCAPS, 'formats', 'intel-dns.pcap.gz'), '2']] as const) {
      const fifo = path.join(dir, 'in.fifo');
      fs.rmSync(fifo, { force: true });
      assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', src, fifo], { stdio: 'ignore' });
      const written = new Promise((resolve) => writer.on('close', resolve));
      const r = await picketFrom(['replay', '--metadata', '--workers', workers, fifo], (stdin) => stdin.end());
      assert.equal(await written, 0);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(comparable(r.docs), comparable(fileRun.docs), src);
      if (workers !== '0') assert.match(r.stderr, /can be read once only: replaying in one thread/);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('standard input that is not a capture is exit 2 naming standard input', () => {
  const r = picket(['replay', '-'], 'not a capture at all\n');
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'picket: standard input: not a pcap or pcapng capture\n');
});

test('an unreadable file or directory is exit 2 with one line naming it (run as nobody: root reads anything)', () => {
  requireTool('setpriv');
  const dir = tmpDir('perm');
  try {
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'secret.pcap');
    fs.copyFileSync(INTEL, file);
    fs.chmodSync(file, 0o000);
    const sub = path.join(dir, 'closed');
    fs.mkdirSync(sub);
    fs.copyFileSync(INTEL, path.join(sub, 'a.pcap'));
    fs.chmodSync(sub, 0o000);
    const asNobody = (target: string): { status: number | null; stderr: string } =>
      spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, BIN, 'replay', target], { encoding: 'utf8', timeout: 60_000 });
    const f = asNobody(file);
    assert.equal(f.status, 2, f.stderr);
    assert.equal(f.stderr, `picket: ${file}: cannot open: EACCES\n`);
    const d = asNobody(sub);
    assert.equal(d.status, 2, d.stderr);
    assert.equal(d.stderr, `picket: ${sub}: cannot read directory: EACCES\n`);
    const inside = asNobody(path.join(sub, 'a.pcap'));
    assert.equal(inside.status, 2, inside.stderr);
    assert.equal(inside.stderr, `picket: ${path.join(sub, 'a.pcap')}: cannot read: EACCES\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a home net with host bits set is exit 2 naming the value and both readings of it', () => {
  const r = picket(['replay', '--home-net', '10.0.0.1/8', INTEL]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'picket: --home-net: "10.0.0.1/8" has host bits set: write 10.0.0.0/8 for the network, or 10.0.0.1/32 for the one host\n');
  const v6 = picket(['replay', '--home-net', '10.0.0.0/8,fd00::1/64', INTEL]);
  assert.equal(v6.code, 2);
  assert.match(v6.stderr, /"fd00::1\/64" has host bits set/);
  const ok = picket(['replay', '--quiet', '--home-net', '10.0.0.0/8,fd00::/64,10.1.2.3', INTEL]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('the final stats document of a run that saw no packets carries the wall clock, not 1970', () => {
  const dir = tmpDir('empty');
  try {
    const empty = path.join(dir, 'empty.pcap');
    fs.writeFileSync(empty, fs.readFileSync(INTEL).subarray(0, 24)); // the file header alone
    const before = Date.now();
    const r = picket(['replay', empty]);
    const after = Date.now();
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.docs.length, 1);
    const st = r.docs[0];
    assert.equal(get(st, 'picket.stats.packets'), 0);
    for (const f of ['@timestamp', 'event.start', 'event.end']) {
      const t = Date.parse(get(st, f) as string);
      assert.ok(t >= before - 1000 && t <= after + 1000, `${f} ${String(get(st, f))}`);
    }
    assert.equal(get(st, 'event.duration'), 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--out and a file sink make the directory they write into', () => {
  const dir = tmpDir('mkdir');
  try {
    const out = path.join(dir, 'a', 'b', 'out.ndjson');
    const r = picket(['replay', '--quiet', '--out', out, INTEL]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(parse(fs.readFileSync(out, 'utf8')).length >= 10);
    const sinkOut = path.join(dir, 'c', 'd', 'alerts.ndjson');
    const cfg = path.join(dir, 'picket.yaml');
    fs.writeFileSync(cfg, `outputs:\n  - type: file\n    path: ${sinkOut}\n`);
    const s = picket(['replay', '--quiet', '--config', cfg, INTEL]);
    assert.equal(s.code, 0, s.stderr);
    assert.ok(parse(fs.readFileSync(sinkOut, 'utf8')).length >= 10);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
