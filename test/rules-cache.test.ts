import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { rulesCacheDir } from '../src/config/rules-cache';
import { BIN, get, PCAPS, tmpDir, withoutEventId } from './helpers';

const intelPcap = path.join(PCAPS, 'intel-dns.pcap');

/**
 * A replay with its own cache directory (PICKET_CACHE_DIR), reporting whether the run loaded the YAML library: a
 * preloaded hook looks for it among the loaded modules when the process exits.
 */
function replay(cache: string, args: string[]): { code: number; stderr: string; docs: Array<Record<string, unknown>>; loadedYaml: boolean } {
  const probe = path.join(tmpDir('probe'), 'yaml-probe.js');
  const mark = `${probe}.out`;
  fs.writeFileSync(probe, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(mark)}, String(Object.keys(require.cache).some((k) => k.includes('/node_modules/yaml/')))));\n`);
  const r = spawnSync(process.execPath, ['-r', probe, BIN, 'replay', ...args], {
    encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20, env: { ...process.env, PICKET_CACHE_DIR: cache },
  });
  const docs = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status ?? -1, stderr: r.stderr ?? '', docs, loadedYaml: fs.readFileSync(mark, 'utf8') === 'true' };
}

const cacheFiles = (dir: string): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith('.v8')) : []);

test('a second run with the same rule files takes the first one\'s parse: same documents, no YAML library loaded', () => {
  const cache = path.join(tmpDir('rules-cache'), 'cache');
  const none = replay('', ['--metadata', intelPcap]);
  assert.equal(none.code, 0, none.stderr);
  assert.ok(none.loadedYaml, 'without a cache the rules are parsed');
  const first = replay(cache, ['--metadata', intelPcap]);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.loadedYaml, 'the first run parses');
  assert.equal(cacheFiles(cache).length, 1);
  const second = replay(cache, ['--metadata', intelPcap]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.loadedYaml, false, 'the second run did not parse YAML');
  assert.ok(second.docs.filter((d) => get(d, 'event.kind') === 'alert').length >= 5);
  assert.deepEqual(second.docs.map(withoutEventId), none.docs.map(withoutEventId));
  assert.deepEqual(first.docs.map(withoutEventId), none.docs.map(withoutEventId));
  // With workers, which take the main thread's rules.
  const workers = replay(cache, ['--metadata', '--workers', '2', intelPcap]);
  assert.equal(workers.loadedYaml, false);
  assert.deepEqual(workers.docs.map(withoutEventId), none.docs.map(withoutEventId));
});

test('an edited rule file is parsed again; an error in it is reported from its parse, naming file and line', () => {
  const base = tmpDir('rules-cache-edit');
  const cache = path.join(base, 'cache');
  const rules = path.join(base, 'rules');
  fs.mkdirSync(rules);
  const list = path.join(rules, 'mine.yaml');
  const indicators = (docs: Array<Record<string, unknown>>): string[] => [...new Set(docs.filter((d) => get(d, 'rule.id') === 'intel.dns').map((d) => get(d, 'picket.intel.indicator') as string))];
  fs.writeFileSync(list, 'kind: intel-domains\ndomains:\n  - { domain: shodan.io, severity: critical }\n');
  const a = replay(cache, ['--rules', rules, intelPcap]);
  assert.equal(a.code, 0, a.stderr);
  const critical = a.docs.filter((d) => get(d, 'picket.intel.indicator') === 'shodan.io').map((d) => get(d, 'picket.severity'));
  assert.ok(critical.length > 0 && critical.every((s) => s === 'critical'), `shodan.io alerts as critical: ${critical.join(',')}`);
  // Same size, one byte changed: another key.
  fs.writeFileSync(list, 'kind: intel-domains\ndomains:\n  - { domain: shodan.io, severity: low }     \n'.slice(0, fs.statSync(list).size));
  const b = replay(cache, ['--rules', rules, intelPcap]);
  assert.equal(b.code, 0, b.stderr);
  assert.ok(b.loadedYaml, 'the edited file was parsed');
  const low = b.docs.filter((d) => get(d, 'picket.intel.indicator') === 'shodan.io').map((d) => get(d, 'picket.severity'));
  assert.ok(low.length > 0 && low.every((s) => s === 'low'), `shodan.io alerts as low after the edit: ${low.join(',')}`);
  assert.deepEqual(indicators(b.docs), indicators(a.docs));
  // An added file counts too.
  fs.writeFileSync(path.join(rules, 'more.txt'), 'example.org\n');
  const c = replay(cache, ['--rules', rules, path.join(PCAPS, 'benign.pcap')]);
  assert.ok(indicators(c.docs).includes('example.org'), indicators(c.docs).join(','));
  // A broken file after good runs: the error, not an old result.
  fs.writeFileSync(list, 'kind: intel-domains\ndomains:\n  - { domain: shodan.io, severity: dire }\n');
  const bad = replay(cache, ['--rules', rules, intelPcap]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /mine\.yaml:3: "severity" must be one of/);
});

test('a damaged or unwritable cache is no cache: the run parses and succeeds', () => {
  const base = tmpDir('rules-cache-bad');
  const cache = path.join(base, 'cache');
  const good = replay(cache, [intelPcap]);
  assert.equal(good.code, 0, good.stderr);
  const [name] = cacheFiles(cache);
  assert.ok(name !== undefined);
  for (const damage of [Buffer.from('not a v8 serialisation'), fs.readFileSync(path.join(cache, name)).subarray(0, 100), Buffer.alloc(0)]) {
    fs.writeFileSync(path.join(cache, name), damage);
    const r = replay(cache, [intelPcap]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.loadedYaml, 'parsed');
    assert.deepEqual(r.docs.map(withoutEventId), good.docs.map(withoutEventId));
  }
  // The damaged file was replaced by a good one.
  assert.equal(replay(cache, [intelPcap]).loadedYaml, false);
  // A cache "directory" that is a file.
  const notDir = path.join(base, 'file');
  fs.writeFileSync(notDir, 'x');
  const r = replay(notDir, [intelPcap]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.docs.map(withoutEventId), good.docs.map(withoutEventId));
});

test('the cache directory: PICKET_CACHE_DIR (empty: none), systemd\'s CACHE_DIRECTORY, XDG_CACHE_HOME, ~/.cache', () => {
  assert.equal(rulesCacheDir({ PICKET_CACHE_DIR: '' }), null);
  assert.equal(rulesCacheDir({ PICKET_CACHE_DIR: '/var/tmp/p', CACHE_DIRECTORY: '/var/cache/picket' }), '/var/tmp/p');
  assert.equal(rulesCacheDir({ CACHE_DIRECTORY: '/var/cache/picket:/var/cache/other', XDG_CACHE_HOME: '/x' }), '/var/cache/picket');
  assert.equal(rulesCacheDir({ XDG_CACHE_HOME: '/home/u/.xdg' }), '/home/u/.xdg/picket');
  assert.equal(rulesCacheDir({ XDG_CACHE_HOME: 'relative' }), path.join(os.homedir(), '.cache', 'picket'));
});
