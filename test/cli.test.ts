import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { committedCaptures, get, PCAPS, picket, ROOT, tmpDir } from './helpers';

const intel = path.join(PCAPS, 'intel-dns.pcap');

test('--help, replay --help and --version', () => {
  const h = picket(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /picket replay/);
  const rh = picket(['replay', '--help']);
  assert.equal(rh.code, 0);
  for (const flag of ['--out', '--format', '--metadata', '--rules', '--home-net', '--workers']) assert.ok(rh.stdout.includes(flag), flag);
  const v = picket(['--version']);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  assert.equal(v.stdout.trim(), `picket ${pkg.version}`);
});

test('usage errors are one line with exit 2, no stack trace', () => {
  for (const args of [['replay'], ['replay', '--bogus', intel], ['frobnicate'], ['replay', '--format', 'xml', intel],
    ['replay', '--workers', 'many', intel], ['replay', '--home-net', '10.0.0.0/33', intel], ['replay', '--home-net', 'banana', intel]]) {
    const r = picket(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.doesNotMatch(r.stderr, /at .*\.js/);
  }
});

test('a bad rules file stops start-up naming the file and the line', () => {
  const dir = tmpDir('badrules');
  const cases: Array<[string, RegExp]> = [
    ['kind: intel-domains\ndomains:\n  - shodan.io\n  - "not a domain!"\n', /bad\.yaml:4: "not a domain!" is not a domain name/],
    ['kind: intel-domains\ndomains:\n  - { domain: a.example, severity: extreme }\n', /bad\.yaml:3: "severity" must be one of low, medium, high, critical/],
    ['kind: intel-domains\ndomains: [a.example\n', /bad\.yaml:\d+: not valid YAML/],
    ['kind: mystery\n', /bad\.yaml:1: unknown kind "mystery"/],
    ['kind: policy\nintel:\n  repeat_window: soon\n', /bad\.yaml:3: "repeat_window" must be a duration/],
    ['kind: policy\nintel:\n  repeat_windo: 1h\n', /bad\.yaml:3: unknown key "repeat_windo"/],
    ['kind: policy\nfleet:\n  partitions: 2000\n', /bad\.yaml:3: "partitions" is at most 1024/],
    ['kind: policy\nfleet:\n  lease: 1s\n', /bad\.yaml:3: "lease" is at least 3s/],
  ];
  for (const [text, re] of cases) {
    fs.writeFileSync(path.join(dir, 'bad.yaml'), text);
    const r = picket(['replay', '--rules', dir, intel]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
  const missing = picket(['replay', '--rules', path.join(dir, 'nope'), intel]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nope: rules directory not found/);
  fs.rmSync(dir, { recursive: true });
});

test('--out writes to a file, --format text writes one line per alert, the summary goes to stderr', () => {
  const dir = tmpDir('out');
  const out = path.join(dir, 'alerts.ndjson');
  const r = picket(['replay', '--out', out, intel]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const lines = fs.readFileSync(out, 'utf8').trim().split('\n');
  const all = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const docs = all.slice(0, -1);
  assert.ok(docs.length > 0 && docs.every((d) => get(d, 'event.kind') === 'alert'));
  assert.equal(get(all[all.length - 1], 'event.kind'), 'metric', 'the counters come last');
  assert.match(r.stderr, /packets/);
  assert.match(r.stderr, /packets\/s/);
  const byRule = new Map<string, number>();
  for (const d of docs) byRule.set(get(d, 'rule.id') as string, (byRule.get(get(d, 'rule.id') as string) ?? 0) + 1);
  const expect = [...byRule.entries()].sort().map(([k, n]) => `${k}=${n}`).join(' ');
  assert.ok(r.stderr.includes(`alerts: ${docs.length} (${expect})`), r.stderr);

  const t = picket(['replay', '--format', 'text', '--quiet', intel]);
  assert.equal(t.code, 0);
  const tl = t.stdout.trim().split('\n');
  assert.equal(tl.length, docs.length + 1);
  assert.ok(tl.slice(0, -1).every((l) => / ALERT intel\.(dns|http|tls) /.test(l)), t.stdout);
  assert.match(tl[tl.length - 1], / STATS packets=\d+ /);
  assert.equal(t.stderr, '');
  fs.rmSync(dir, { recursive: true });
});

test('--home-net decides network.direction', () => {
  const a = picket(['replay', '--quiet', intel]);
  const dirs = new Set(a.docs.filter((d) => get(d, 'event.kind') === 'alert').map((d) => get(d, 'network.direction')));
  // Both ends of the namespace traffic are in 10.77/16: RFC 1918, so inside the default home net.
  assert.deepEqual([...dirs], ['internal']);
  const b = picket(['replay', '--quiet', '--home-net', '10.77.0.2/32,fd77::2/128', intel]);
  assert.deepEqual([...new Set(b.docs.filter((d) => get(d, 'event.kind') === 'alert').map((d) => get(d, 'network.direction')))], ['outbound']);
});

test('sink flags: mistakes are one line with exit 2 before anything runs, naming the flag or file', () => {
  const cases: Array<[string[], RegExp]> = [
    [['--http-out', 'https://elastic:hunter2@127.0.0.1:9200/_bulk'], /--http-out: no credentials in the URL .*--http-basic-auth-file/],
    [['--tls-ca', '/etc/hostname'], /--tls-ca is for https:\/\/ --http-out and tls:\/\/ --syslog sinks, and none is given/],
    [['--syslog', 'tcp://127.0.0.1:514', '--tls-ca', '/etc/hostname'], /--tls-ca is for https:\/\/ --http-out and tls:\/\/ --syslog sinks/],
    [['--syslog', 'tcp://127.0.0.1:514', '--http-gzip'], /--http-gzip is for --http-out sinks, and none is given/],
    [['--syslog', 'tls://127.0.0.1:6514', '--tls-cert', '/etc/hostname'], /--tls-cert and --tls-key go together/],
    [['--syslog', 'tls://127.0.0.1:6514', '--tls-ca', '/nonexistent/ca.pem'], /syslog tls:\/\/127\.0\.0\.1:6514: cannot read the CA file \/nonexistent\/ca\.pem: ENOENT/],
    [['--http-out', 'https://127.0.0.1:9200/_bulk', '--http-api-key-file', '/nonexistent/key'], /cannot read the API key file \/nonexistent\/key: ENOENT/],
    [['--syslog', 'tls://127.0.0.1:99999'], /--syslog must be|bad url/],
  ];
  for (const [flags, want] of cases) {
    const r = picket(['replay', ...flags, intel]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, want);
  }
});

test('replay with a sink down (picket.yaml outputs): exit 3, and per sink where every document went', () => {
  const dir = tmpDir('sink-down');
  try {
    const cfg = path.join(dir, 'picket.yaml');
    // Port 9 on loopback: nothing listens, the connection is refused at once.
    fs.writeFileSync(cfg, 'spill_dir: spill\noutputs:\n  - type: file\n    path: alerts.ndjson\n  - type: http\n    url: http://127.0.0.1:9/_bulk\n    index: picket\n');
    const r = picket(['replay', '--quiet', '--config', cfg, intel]);
    assert.equal(r.code, 3, r.stderr);
    const n = fs.readFileSync(path.join(dir, 'alerts.ndjson'), 'utf8').split('\n').length - 1;
    assert.ok(n > 0);
    const spill = path.join(dir, 'spill', 'http_http___127.0.0.1_9__bulk.spill.ndjson');
    assert.equal(fs.readFileSync(spill, 'utf8').split('\n').length - 1, n, 'every document the file got is in the spill file');
    // The report ends stderr (a line that the sink is failing may come before it, said while picket waits).
    const lines = r.stderr.trim().split('\n');
    assert.deepEqual(lines.slice(-3), [
      'picket: outputs did not deliver everything:',
      `  file ${path.join(dir, 'alerts.ndjson')}: ${n} of ${n} delivered`,
      `  http http://127.0.0.1:9/_bulk: 0 of ${n} delivered, ${n} spilled to ${spill} (sent first when the sink is back, by this or the next run) (last error: http http://127.0.0.1:9/_bulk: connect ECONNREFUSED 127.0.0.1:9)`,
    ]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an output that fails is an error, not silence', () => {
  // /dev/full accepts the open and fails every write with ENOSPC.
  const r = picket(['replay', '--out', '/dev/full', intel]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /output \/dev\/full failed \(ENOSPC\): \d+ documents not written/);
});

test('--format text writes one line for every document of every committed capture, alerts of every kind included', () => {
  for (const file of committedCaptures()) {
    const json = picket(['replay', '--quiet', file]);
    const text = picket(['replay', '--quiet', '--format', 'text', file]);
    assert.equal(text.code, 0, `${file}: ${text.stderr}`);
    const lines = text.stdout.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, json.docs.length, file);
    json.docs.forEach((d, i) => {
      if (get(d, 'event.kind') === 'alert') assert.match(lines[i], new RegExp(` ALERT ${String(get(d, 'rule.id')).replace('.', '\\.')} `), file);
      if (get(d, 'threat.software.name') !== undefined) assert.ok(lines[i].includes(`tool=${String(get(d, 'threat.software.name'))}`), lines[i]);
      assert.ok(!lines[i].includes('undefined'), lines[i]);
    });
  }
});
