/**
 * The Debian package as `npm run package` builds it: what it contains, that the extracted tree runs (version,
 * a replay with the packaged rules and the packaged configuration), that /usr/bin/picket finds a Node 20 and names
 * an older one, and that the packaged unit passes systemd-analyze. Nothing is installed on this machine: the
 * package is only extracted (dpkg -x) into a temporary directory. Installing it with dpkg -i and capturing as the
 * service is the fresh-root CI step's job.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { after, before, test } from 'node:test';
import { get, PCAPS, requireTool, ROOT, tmpDir } from './helpers';

const PKG = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
/** The exposure systemd-analyze security gave the unit when it was written (native-notes/capture.md). */
const RECORDED_EXPOSURE = 1.8;

let work = '';
let deb = '';
let root = '';

function run(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeout ?? 60_000, cwd: opts.cwd, env: opts.env ?? process.env });
}

before(() => {
  assert.equal(process.getuid?.(), 0, 'the package test runs as root, as CI does (dpkg -x keeps root ownership and modes)');
  for (const t of ['dpkg-deb', 'dpkg', 'systemd-analyze']) requireTool(t);
  work = tmpDir('deb');
  const r = run('npm', ['run', '--silent', 'package', '--', '--out', work], { cwd: ROOT, timeout: 240_000 });
  assert.equal(r.status, 0, `npm run package failed:\n${r.stdout}\n${r.stderr}`);
  const arch = run('dpkg', ['--print-architecture']).stdout.trim();
  deb = path.join(work, `${PKG.name}_${PKG.version}_${arch}.deb`);
  assert.ok(fs.existsSync(deb), `${deb} was not built: ${fs.readdirSync(work).join(', ')}`);
  root = path.join(work, 'root');
  const x = run('dpkg', ['-x', deb, root]);
  assert.equal(x.status, 0, x.stderr);
});

after(() => {
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

test('the control fields: version from package.json, libpcap0.8, no nodejs, the conffile and maintainer scripts', () => {
  const field = (f: string): string => run('dpkg-deb', ['--field', deb, f]).stdout.trim();
  assert.equal(field('Package'), 'picket');
  assert.equal(field('Version'), PKG.version);
  assert.equal(field('Architecture'), run('dpkg', ['--print-architecture']).stdout.trim());
  assert.match(field('Maintainer'), /^.+ <.+@.+>$/);
  const depends = field('Depends').split(/,\s*/);
  assert.ok(depends.includes('libpcap0.8'), depends.join(', '));
  assert.ok(!depends.some((d) => /node/.test(d)), `no Debian nodejs is new enough to depend on: ${depends.join(', ')}`);
  assert.ok(Number(field('Installed-Size')) > 0);

  const ctl = path.join(work, 'control');
  assert.equal(run('dpkg-deb', ['-e', deb, ctl]).status, 0);
  assert.deepEqual(fs.readFileSync(path.join(ctl, 'conffiles'), 'utf8').trim().split('\n'), ['/etc/picket/picket.yaml']);
  for (const s of ['postinst', 'prerm', 'postrm']) {
    const st = fs.statSync(path.join(ctl, s));
    assert.equal(st.mode & 0o777, 0o755, s);
    assert.equal(run('sh', ['-n', path.join(ctl, s)]).status, 0, `${s} is not valid sh`);
  }
  const postinst = fs.readFileSync(path.join(ctl, 'postinst'), 'utf8');
  assert.match(postinst, /systemd-sysusers \/usr\/lib\/sysusers\.d\/picket\.conf/);
  assert.match(postinst, /useradd --system/);
  assert.match(postinst, /daemon-reload/);
});

test('dpkg-deb --contents lists the program, its production dependencies, configuration, unit and documentation', () => {
  const r = run('dpkg-deb', ['--contents', deb]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  const paths = new Set(lines.map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '/').replace(/ -> .*$/, '')));
  const expected = [
    '/usr/bin/picket', '/usr/lib/picket/launch.js', '/usr/lib/picket/bin/picket.js', '/usr/lib/picket/package.json',
    '/usr/lib/picket/dist/src/cli/main.js', '/usr/lib/picket/dist/src/engine/worker.js', '/usr/lib/picket/dist/src/engine/fanout-worker.js',
    '/usr/lib/picket/build/Release/pcap_capture.node', '/usr/lib/picket/rules/policy.yaml', '/usr/lib/picket/rules/intel/ip-intel.yaml',
    '/usr/lib/picket/node_modules/yaml/package.json', '/usr/lib/picket/node_modules/nats/package.json',
    '/etc/picket/picket.yaml', '/etc/picket/rules.d/', '/lib/systemd/system/picket.service', '/usr/lib/sysusers.d/picket.conf',
    '/usr/share/man/man1/picket.1.gz', '/usr/share/bash-completion/completions/picket', '/usr/share/doc/picket/copyright',
    '/usr/share/doc/picket/README.Debian', '/usr/share/doc/picket/changelog.gz',
  ];
  const missing = expected.filter((p) => !paths.has(p));
  assert.deepEqual(missing, [], `missing from the package: ${missing.join(', ')}`);
  // Every rule file of the checkout is packaged.
  const rules: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else rules.push(`/usr/lib/picket/${path.relative(ROOT, path.join(d, e.name))}`);
    }
  };
  walk(path.join(ROOT, 'rules'));
  assert.ok(rules.length > 5);
  assert.deepEqual(rules.filter((p) => !paths.has(p)), []);
  // Development dependencies, sources and source maps stay out.
  const dev = [...paths].filter((p) => /node_modules\/(typescript|@types|pcap-parser|undici-types)\/|\.map$|\.ts$|\/test\/|\/bench\//.test(p));
  assert.deepEqual(dev, [], 'development files in the package');
  assert.ok(lines.every((l) => l.split(/\s+/)[1] === 'root/root'), 'every file root-owned');
  const modes = new Map(lines.map((l) => [l.split(/\s+/).slice(5).join(' ').replace(/^\./, '').replace(/ -> .*$/, ''), l.split(/\s+/)[0]]));
  assert.equal(modes.get('/usr/bin/picket'), '-rwxr-xr-x');
  assert.equal(modes.get('/etc/picket/picket.yaml'), '-rw-r--r--');
  // The rules.d directory ships empty: it is the administrator's.
  assert.deepEqual([...paths].filter((p) => p.startsWith('/etc/picket/rules.d/') && p !== '/etc/picket/rules.d/'), []);
});

test('the packaged man page and completion are the committed ones, the copyright names every bundled module', () => {
  const man = zlib.gunzipSync(fs.readFileSync(path.join(root, 'usr/share/man/man1/picket.1.gz'))).toString('utf8');
  assert.equal(man, fs.readFileSync(path.join(ROOT, 'packaging', 'picket.1'), 'utf8'));
  assert.equal(fs.readFileSync(path.join(root, 'usr/share/bash-completion/completions/picket'), 'utf8'), fs.readFileSync(path.join(ROOT, 'packaging', 'picket.bash-completion'), 'utf8'));
  const copyright = fs.readFileSync(path.join(root, 'usr/share/doc/picket/copyright'), 'utf8');
  const modules = fs.readdirSync(path.join(root, 'usr/lib/picket/node_modules'));
  assert.ok(modules.includes('yaml') && modules.includes('nats'), modules.join(', '));
  for (const m of modules) assert.match(copyright, new RegExp(`^Files: usr/lib/picket/node_modules/${m}/\\*$`, 'm'), m);
  assert.equal((copyright.match(/^Files: /gm) ?? []).length, modules.length + 1);
});

test('the extracted tree runs: --version, and a replay with the packaged rules raises intel.dns alerts', () => {
  const bin = path.join(root, 'usr/lib/picket/bin/picket.js');
  const v = run(bin, ['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), `picket ${PKG.version}`);

  const r = run(bin, ['replay', '--quiet', path.join(PCAPS, 'intel-dns.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const dns = docs.filter((d) => get(d, 'rule.id') === 'intel.dns');
  assert.ok(dns.length >= 3, `${dns.length} intel.dns alerts`);
  // The packaged rules, not the checkout's: the alert names the rule file under the extracted tree.
  assert.ok(dns.every((d) => String(get(d, 'picket.intel.source')).startsWith(path.join(root, 'usr/lib/picket/rules'))), JSON.stringify(get(dns[0], 'picket.intel')));
});

test('the packaged picket.yaml loads: rules from /etc/picket/rules.d, alerts to /var/log/picket, the interface a placeholder', () => {
  // The configuration's absolute paths moved under the test's directory, as they would be on an installed system.
  const conf = fs.readFileSync(path.join(root, 'etc/picket/picket.yaml'), 'utf8');
  assert.match(conf, /^rules: \[\/etc\/picket\/rules\.d\]/m);
  assert.match(conf, /path: \/var\/log\/picket\/alerts\.ndjson/);
  assert.match(conf, /interfaces: \[CHANGE-ME\]/);
  const varDir = path.join(work, 'var');
  fs.mkdirSync(path.join(varDir, 'log', 'picket'), { recursive: true });
  fs.mkdirSync(path.join(varDir, 'lib', 'picket'), { recursive: true });
  const moved = path.join(work, 'picket.yaml');
  fs.writeFileSync(moved, conf.replaceAll('/etc/picket/', `${root}/etc/picket/`).replaceAll('/var/', `${varDir}/`));
  const bin = path.join(root, 'usr/lib/picket/bin/picket.js');

  const r = run(bin, ['replay', '--config', moved, '--quiet', path.join(PCAPS, 'intel-dns.pcap')]);
  assert.equal(r.status, 0, r.stderr);
  const alerts = fs.readFileSync(path.join(varDir, 'log', 'picket', 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(alerts.filter((d) => get(d, 'rule.id') === 'intel.dns').length >= 3);

  // rules.d is read: a bad file there stops start-up naming it.
  const bad = path.join(root, 'etc/picket/rules.d/bad.yaml');
  fs.writeFileSync(bad, 'kind: mystery\n');
  try {
    const b = run(bin, ['replay', '--config', moved, path.join(PCAPS, 'intel-dns.pcap')]);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /rules\.d\/bad\.yaml:1: unknown kind "mystery"/);
  } finally {
    fs.rmSync(bad);
  }
  // Started as shipped, the service says what to set.
  const c = run(bin, ['capture', '--config', moved, '--quiet']);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /CHANGE-ME: no such interface \(picket interfaces, or ip link, lists them\)/);
});

test('/usr/bin/picket runs picket with PICKET_NODE or the node on the PATH, and names a missing or old node', () => {
  // The wrapper as installed, pointed at the extracted tree instead of /usr/lib/picket.
  const wrapper = path.join(work, 'picket-wrapper');
  fs.writeFileSync(wrapper, fs.readFileSync(path.join(root, 'usr/bin/picket'), 'utf8').replaceAll('/usr/lib/picket/', `${root}/usr/lib/picket/`), { mode: 0o755 });
  const nodeDir = path.dirname(process.execPath);
  const base = { PATH: `${nodeDir}:/usr/bin:/bin` };

  const onPath = run(wrapper, ['--version'], { env: base });
  assert.equal(onPath.status, 0, onPath.stderr);
  assert.equal(onPath.stdout.trim(), `picket ${PKG.version}`);

  const explicit = run(wrapper, ['--version'], { env: { PATH: '/nonexistent', PICKET_NODE: process.execPath } });
  assert.equal(explicit.status, 0, explicit.stderr);
  assert.equal(explicit.stdout.trim(), `picket ${PKG.version}`);

  const none = run(wrapper, ['--version'], { env: { PATH: '/nonexistent' } });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /picket: no node found: install Node\.js 20 or later/);

  // A node that reports 18, as Debian 12's nodejs does.
  const old = path.join(work, 'node18');
  fs.writeFileSync(old, `#!/bin/sh\nexec "${process.execPath}" -e 'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "18.19.0" } }); Object.defineProperty(process, "version", { value: "v18.19.0" }); require(process.argv[1]);' "$@"\n`, { mode: 0o755 });
  const tooOld = run(wrapper, ['--version'], { env: { PATH: '/usr/bin:/bin', PICKET_NODE: old } });
  assert.equal(tooOld.status, 2);
  assert.match(tooOld.stderr, /picket: needs Node\.js 20 or later, but .* is v18\.19\.0/);
  assert.equal(tooOld.stdout, '');
});

test('systemd-analyze verify passes on the packaged unit, and its exposure is no worse than recorded', () => {
  // verify --root resolves ExecStart=/usr/bin/picket and the man page (Documentation=) inside the extracted tree;
  // what a real system brings along, ExecReload's /bin/kill and the targets the unit orders itself against, is
  // copied in from this machine.
  const vroot = path.join(work, 'verify-root');
  fs.cpSync(root, vroot, { recursive: true, verbatimSymlinks: true });
  fs.mkdirSync(path.join(vroot, 'bin'), { recursive: true });
  fs.copyFileSync(fs.realpathSync('/bin/kill'), path.join(vroot, 'bin/kill'));
  fs.chmodSync(path.join(vroot, 'bin/kill'), 0o755);
  const units = ['/lib/systemd/system', '/usr/lib/systemd/system'].find((d) => fs.existsSync(path.join(d, 'multi-user.target')));
  assert.ok(units !== undefined, 'no systemd units on this machine');
  for (const f of fs.readdirSync(units).filter((n) => n.endsWith('.target'))) {
    fs.cpSync(path.join(units, f), path.join(vroot, 'lib/systemd/system', f), { verbatimSymlinks: true });
  }
  const verify = (): SpawnSyncReturns<string> => run('systemd-analyze', ['verify', `--root=${vroot}`, '/lib/systemd/system/picket.service'],
    { env: { ...process.env, MANPATH: path.join(vroot, 'usr/share/man'), SYSTEMD_LOG_COLOR: '0' } });
  const ok = verify();
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stderr.trim(), '', 'verify warnings (unknown keys, bad values)');

  // The same check fails when ExecStart does not resolve in the root: it really looked there.
  fs.rmSync(path.join(vroot, 'usr/bin/picket'));
  const broken = verify();
  assert.notEqual(broken.status, 0);
  assert.match(broken.stderr, /\/usr\/bin\/picket is not executable/);

  const sec = run('systemd-analyze', ['security', '--offline=true', '--no-pager', path.join(root, 'lib/systemd/system/picket.service')],
    { env: { ...process.env, SYSTEMD_LOG_COLOR: '0', SYSTEMD_COLORS: '0' } });
  const m = /Overall exposure level for picket\.service: (\d+\.\d)/.exec(sec.stdout);
  assert.ok(m !== null, sec.stdout + sec.stderr);
  assert.ok(Number(m[1]) <= RECORDED_EXPOSURE, `exposure ${m[1]} is worse than the recorded ${RECORDED_EXPOSURE}`);
  const unit = fs.readFileSync(path.join(root, 'lib/systemd/system/picket.service'), 'utf8');
  for (const line of ['User=picket', 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN', 'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN', 'NoNewPrivileges=yes',
    'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'ReadWritePaths=/var/lib/picket /var/log/picket', 'Restart=on-failure',
    'ExecReload=/bin/kill -HUP $MAINPID', 'ExecStart=/usr/bin/picket capture --config /etc/picket/picket.yaml']) {
    assert.match(unit, new RegExp(`^${line.replace(/[$.*+?()[\]{}|\\/]/g, '\\$&')}$`, 'm'), line);
  }
});
