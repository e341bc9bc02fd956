import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { createHash } from 'node:crypto';
import { READ_WINDOW, readCaptureFile } from '../src/capture/file';
import { committedCaptures, get, PCAPS, picket, picketChild, ROOT, tmpDir, withoutEventId } from './helpers';

let dir = '';
let mix = '';

before(() => {
  // A many-flow capture from the benchmark generator (seeded), so that shards really split the work.
  dir = tmpDir('workers');
  mix = path.join(dir, 'mix.pcap');
  const gen = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'bench', 'gen.js'), '--packets', '60000', '--seed', '7', '--out', mix], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(gen.status, 0, gen.stderr);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('the same alerts and events inline and with 1, 2 and 4 workers, and for any batch size', () => {
  const inputs = [mix, ...committedCaptures()];
  const base = picket(['replay', '--metadata', '--quiet', '--workers', '0', ...inputs]);
  assert.equal(base.code, 0, base.stderr);
  const alerts = base.docs.filter((d) => get(d, 'event.kind') === 'alert').length;
  assert.ok(alerts >= 10, `the input raises alerts (${alerts})`);
  for (const w of ['1', '2', '4']) {
    const r = picket(['replay', '--metadata', '--quiet', '--workers', w, ...inputs]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.docs.map(withoutEventId), base.docs.map(withoutEventId), `--workers ${w} differs from inline`);
  }
  for (const b of ['1', '333']) {
    const r = picket(['replay', '--metadata', '--quiet', '--workers', '2', '--batch-packets', b, ...inputs]);
    assert.deepEqual(r.docs.map(withoutEventId), base.docs.map(withoutEventId), `--batch-packets ${b} differs`);
  }
  // Without --metadata other threads read fewer of a worker's packets (DNS answers, not queries): the same alerts.
  const plain = picket(['replay', '--quiet', '--workers', '0', ...inputs]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(plain.docs.some((d) => get(d, 'rule.id') === 'intel.conn' && get(d, 'picket.intel.via') === 'dns-answer'), 'an address tied by a DNS answer alerts');
  for (const w of ['2', '4']) {
    const r = picket(['replay', '--quiet', '--workers', w, ...inputs]);
    assert.deepEqual(r.docs.map(withoutEventId), plain.docs.map(withoutEventId), `--workers ${w} without --metadata differs from inline`);
  }
});

test('the summary counts every packet once, whatever the number of workers', () => {
  const summary = (w: string): string => {
    const r = picket(['replay', '--workers', w, mix]);
    assert.equal(r.code, 0, r.stderr);
    return r.stderr.split('\n').filter((l) => !l.startsWith('picket:')).join('\n');
  };
  const one = summary('0');
  assert.match(one, /decode errors: [1-9]/, 'the generator plants malformed packets');
  assert.equal(summary('3'), one);
  const packets = /(\d+) packets,/.exec(picket(['replay', '--workers', '2', mix]).stderr)?.[1];
  assert.equal(packets, '60000');
});

test('windows filled to about windowPackets packets (workers keep them in flight): the same packets, windows cut by packet count', async () => {
  /** Every packet's ordinal, length, time and a digest of its bytes, and the packets of each window read. */
  const read = async (windowPackets?: number): Promise<{ packets: string[]; windows: number[] }> => {
    const packets: string[] = [];
    const windows = [0];
    const spare = [Buffer.alloc(4 * READ_WINDOW), Buffer.alloc(4 * READ_WINDOW)];
    let turn = 0;
    const rep = await readCaptureFile(mix, (b) => {
      for (let i = 0; i < b.count; i++) {
        const bytes = b.data.subarray(b.offset[i], b.offset[i] + b.caplen[i]);
        packets.push(`${b.firstOrdinal + i} ${b.caplen[i]} ${b.tsSec[i]}.${b.tsNsec[i]} ${createHash('sha1').update(bytes).digest('hex')}`);
      }
      windows[windows.length - 1] += b.count;
    }, {
      firstOrdinal: 0, window: spare[0], windowPackets,
      nextWindow: async () => {
        windows.push(0);
        turn ^= 1;
        return spare[turn];
      },
    });
    assert.equal(rep.packets, 60000);
    return { packets, windows: windows.filter((n) => n > 0) };
  };
  const whole = await read();
  const cut = await read(5000);
  assert.equal(cut.packets.length, 60000);
  assert.deepEqual(cut.packets, whole.packets, 'the same packets in the same order');
  // The mix averages ~370 bytes a record: whole 4 MiB windows hold ~11 k packets. The first window is filled whole
  // (no record read yet to judge by); the others are cut near 5,000 packets, by the file's average so far.
  assert.ok(whole.windows.length <= 7 && Math.min(...whole.windows.slice(0, -1)) > 9000, `whole windows: ${whole.windows.join(' ')}`);
  assert.ok(cut.windows.length >= 1.5 * whole.windows.length, `cut windows: ${cut.windows.join(' ')}`);
  assert.ok(Math.max(...cut.windows.slice(1)) <= 7500, `no window after the first far past 5,000 packets: ${cut.windows.join(' ')}`);
});

test('workers run the rules the main thread read: a rules file that can be read once (a FIFO) serves any number of workers', async () => {
  // A worker that read the rule files itself would wait on the FIFO for a writer that has gone (and on a real
  // file could read another version of it than the main thread did: alerts refer to entries by position).
  const rulesDir = tmpDir('fifo-rules');
  const fifo = path.join(rulesDir, 'intel.txt');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const writer = spawn('sh', ['-c', 'printf "# written once\\nnotshodan.io\\n" > "$1"', 'sh', fifo], { stdio: 'ignore' });
  const run = picketChild(['replay', '--quiet', '--workers', '2', '--rules', rulesDir, path.join(PCAPS, 'intel-dns.pcap')]);
  const stuck = setTimeout(() => run.child.kill('SIGKILL'), 60_000);
  try {
    const r = await run.done;
    assert.equal(r.code, 0, `picket did not finish: ${run.stderr()}`);
    const hits = r.docs.filter((d) => get(d, 'rule.id') === 'intel.dns' && get(d, 'picket.intel.indicator') === 'notshodan.io');
    assert.ok(hits.length >= 1, 'the entry read from the FIFO alerts (intel-dns.pcap queries the near-miss name)');
    for (const h of hits) assert.equal(get(h, 'picket.intel.source'), fifo);
  } finally {
    clearTimeout(stuck);
    writer.kill('SIGKILL');
    fs.rmSync(rulesDir, { recursive: true, force: true });
  }
});
