/**
 * End to end, live: picket captures on one end of a veth pair inside a network namespace made for this run while
 * real tools work from the other end: dig against dnsmasq, curl against python's http.server, openssl s_client
 * against openssl s_server, two nmap scans and a refused zone transfer. tcpdump captures the same interface from
 * before picket starts until after it stops, and is the reference for the counts. Along the way: the Prometheus
 * endpoint (checked by promtool), a SIGHUP with a broken rules file (the old rules stay) and one with a new intel
 * domain (it fires, the scan state is kept), and a SIGTERM after which the final summaries and counters must add
 * up. The namespaces, addresses and processes are in test/e2e-live-lab.ts.
 *
 * Needs root (namespaces, packet sockets), picket's capture addon (build/Release/pcap_capture.node) and the tools
 * listed in before(); a missing one fails the test with what to install (scripts/ensure-tools.sh installs them).
 * The steps share one picket process and run in order; a step whose predecessor failed fails saying so.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { get, ROOT, tmpDir, tshark, tsharkFailedTcpTargets } from './helpers';
import {
  Background, CLIENT, createLab, described, HOME_NET, IFACE, inClient, inServer, INTEL_ADDR, labExists, labProblems, listening,
  NS_SERVER, parseExposition, pcapTotals, removeLab, requireTools, run, SERVER, sleep, waitFor,
} from './e2e-live-lab';

type Doc = Record<string, unknown>;

const BIN = path.join(ROOT, 'bin', 'picket.js');
const ADDON = path.join(ROOT, 'build', 'Release', 'pcap_capture.node');
/** Any port is free in a namespace made for this run; nothing else listens on its loopback. */
const METRICS = '127.0.0.1:9464';
/** Upper bound of the daemons' lives (`timeout`), beyond the whole test's: they end even if the runner is killed. */
const DAEMON_SECONDS = '240';
/** The page python's http.server serves, so that curl's answer is known to come from it. */
const PAGE = '<html><body>picket e2e intel stand-in</body></html>\n';
const CLIENT_TOOL_MS = 60_000;
/**
 * The whole test's bound (it takes about 5 s, 15 s on a loaded machine): past it, everything the test started is
 * killed and the namespaces deleted, so that every step still waiting fails at once.
 */
const TOTAL_MS = 150_000;
let watchdog: NodeJS.Timeout | null = null;
let watchdogFired = false;
/** Every command the test runs, and the Debian package it comes from. */
const TOOLS: Record<string, string> = {
  ip: 'iproute2', ss: 'iproute2', sysctl: 'procps', ethtool: 'ethtool', timeout: 'coreutils', tcpdump: 'tcpdump', tshark: 'tshark', nmap: 'nmap',
  dig: 'bind9-dnsutils', curl: 'curl', openssl: 'openssl', dnsmasq: 'dnsmasq', python3: 'python3', promtool: 'prometheus',
};

let work = '';
let rulesDir = '';
let pcapFile = '';
let tcpdump: Background | null = null;
let pk: Background | null = null;
/** Per-rule alert counts read from /metrics while picket ran. */
let scraped: Map<string, number> | null = null;
/** How many of ports 1-300 nmap found closed (RST). */
let nmapClosed = -1;
const daemons: Background[] = [];

// ---------- helpers ----------

function docs(): Doc[] {
  if (pk === null) return [];
  const text = pk.stdout();
  const whole = text.slice(0, text.lastIndexOf('\n') + 1);
  return whole.split('\n').filter((l) => l !== '').map((l, i) => {
    try {
      return JSON.parse(l) as Doc;
    } catch {
      throw new Error(`picket's stdout line ${i + 1} is not JSON: ${l.slice(0, 200)}`);
    }
  });
}

/** A string as a regular expression that matches it literally. */
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const alerts = (): Doc[] => docs().filter((d) => get(d, 'event.kind') === 'alert');
const ofRule = (all: Doc[], rule: string): Doc[] => all.filter((d) => get(d, 'rule.id') === rule);

function countByRule(all: Doc[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const d of all) m.set(String(get(d, 'rule.id')), (m.get(String(get(d, 'rule.id'))) ?? 0) + 1);
  return m;
}

function picketRunning(): Background {
  const why = watchdogFired ? `the test ran past ${TOTAL_MS / 1000} s and was stopped` : 'an earlier step failed';
  assert.ok(pk !== null && pk.alive, `picket is not running (${why})${pk !== null ? `; stderr:\n${pk.stderrTail()}` : ''}`);
  return pk;
}

/** A client tool that must succeed: its output, or a failure with all it said. */
async function client(argv: string[]): Promise<string> {
  const full = inClient(argv);
  const d = await run(full, CLIENT_TOOL_MS);
  assert.equal(d.code, 0, described(full, d));
  return d.stdout;
}

/** Sends a signal to picket and waits for the reply on stderr (only stderr written after the signal counts). */
async function signalAndWait(sig: NodeJS.Signals, re: RegExp, what: string): Promise<string> {
  const p = picketRunning();
  const from = p.stderr().length;
  p.kill(sig);
  let said = '';
  await waitFor(what, () => {
    said = p.stderr().slice(from);
    return re.test(said);
  }, 20_000, p);
  return said;
}

function startDaemon(name: string, argv: string[]): Background {
  const b = new Background(name, inServer(['timeout', DAEMON_SECONDS, ...argv]), path.join(work, `${name}.out`), path.join(work, `${name}.err`));
  daemons.push(b);
  return b;
}

// ---------- set-up and tear-down ----------

before(async () => {
  assert.equal(process.getuid?.(), 0, 'the end-to-end live test needs root (network namespaces, packet capture): run the suite as root, as CI does');
  requireTools(TOOLS);
  assert.ok(fs.existsSync(ADDON), `${ADDON} is missing: apt-get install libpcap-dev && npx node-gyp rebuild (in ${ROOT})`);
  assert.ok(!labExists(), `namespace ${NS_SERVER} already exists`);
  process.on('exit', tearDown); // also when the runner is interrupted mid-test
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    process.once(sig, () => {
      tearDown();
      process.exit(code);
    });
  }
  watchdog = setTimeout(() => {
    watchdogFired = true;
    process.stderr.write(`e2e-live: still running after ${TOTAL_MS / 1000} s: stopping everything\n`);
    removeLab();
  }, TOTAL_MS);
  watchdog.unref();
  work = tmpDir('e2e-live');
  rulesDir = path.join(work, 'rules');
  pcapFile = path.join(work, 'reference.pcap');
  fs.mkdirSync(rulesDir);
  fs.mkdirSync(path.join(work, 'www'));
  fs.writeFileSync(path.join(work, 'www', 'index.html'), PAGE);

  createLab();
  assert.deepEqual(labProblems(), [], 'the namespaces are not as built: nothing may be sent');

  // dnsmasq: the intel names (and their subdomains) resolve to the intel address; no upstream, so anything else,
  // zone transfers included, is REFUSED.
  const addresses = ['shodan.io', 'censys.io', 'ipinfo.io', 'example-intel.test'].map((d) => `--address=/${d}/${INTEL_ADDR}`);
  startDaemon('dnsmasq', ['dnsmasq', '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--no-poll', '--user=root', '--group=root',
    `--pid-file=${path.join(work, 'dnsmasq.pid')}`, '--bind-interfaces', `--listen-address=${SERVER}`, ...addresses, '--log-queries', `--log-facility=${path.join(work, 'dnsmasq.log')}`]);
  startDaemon('http', ['python3', '-m', 'http.server', '80', '--bind', INTEL_ADDR, '--directory', path.join(work, 'www')]);
  const key = path.join(work, 'key.pem');
  const cert = path.join(work, 'cert.pem');
  const made = await run(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=picket-e2e.invalid', '-keyout', key, '-out', cert], 30_000);
  assert.equal(made.code, 0, described(['openssl', 'req'], made));
  startDaemon('s_server', ['openssl', 's_server', '-accept', `${INTEL_ADDR}:443`, '-www', '-quiet', '-cert', cert, '-key', key]);
  const wantTcp = [`${INTEL_ADDR}:443`, `${INTEL_ADDR}:80`, `${SERVER}:53`].sort();
  const wantUdp = [`${SERVER}:53`];
  await waitFor('listening services (dnsmasq tcp+udp 53, http.server 80, s_server 443)', () => {
    for (const d of daemons) if (!d.alive) throw new Error(`${d.name} exited (${d.code ?? d.signal}): ${d.stderrTail()}`);
    return listening('t').join(' ') === wantTcp.join(' ') && listening('u').join(' ') === wantUdp.join(' ');
  }, 30_000);
});

/** Namespaces, everything in them and the work directory (kept with PICKET_E2E_KEEP=1). Synchronous; idempotent. */
function tearDown(): void {
  removeLab();
  if (work === '' || !fs.existsSync(work)) return;
  if (process.env.PICKET_E2E_KEEP === '1') process.stderr.write(`e2e-live: kept ${work}\n`);
  else fs.rmSync(work, { recursive: true, force: true });
  work = '';
}

after(() => {
  if (watchdog !== null) clearTimeout(watchdog);
  tearDown();
});

// ---------- the steps ----------

test('picket starts capturing live on veth0 inside the server namespace, tcpdump alongside from before it starts', { timeout: 60_000 }, async () => {
  // The reference first, so that it sees everything picket sees and more only if something else crossed the link.
  // --immediate-mode: every packet is handed to tcpdump at once; without it, the packets still in libpcap's last
  // ring block when tcpdump is interrupted are counted as received but never written (seen here: 669 of 671).
  // -B 65536: a 64 MiB buffer, as picket's default, so that neither drops nmap's bursts.
  tcpdump = new Background('tcpdump', inServer(['timeout', DAEMON_SECONDS, 'tcpdump', '-Z', 'root', '-U', '--immediate-mode', '-B', '65536', '-n', '-s', '0', '-i', IFACE, '-w', pcapFile]),
    path.join(work, 'tcpdump.out'), path.join(work, 'tcpdump.err'));
  await waitFor('tcpdump listening', () => tcpdump?.stderr().includes('listening on') === true, 30_000, tcpdump);
  // --duration is only a backstop, should this runner die without its clean-up; the test stops picket itself.
  pk = new Background('picket', inServer([process.execPath, BIN, 'capture', '-i', IFACE, '--backend', 'addon', '--metrics-listen', METRICS, '--home-net', HOME_NET,
    '--stats-interval', '1s', '--rules', rulesDir, '--duration', `${DAEMON_SECONDS}s`]), path.join(work, 'picket.ndjson'), path.join(work, 'picket.err'));
  const p = pk;
  await waitFor('"capturing on" and "metrics on" from picket', () => /capturing on veth0/.test(p.stderr()) && /metrics on http:\/\//.test(p.stderr()), 30_000, p);
  assert.match(p.stderr(), /capturing on veth0 \(link type 1\) with picket's libpcap addon/);
  assert.match(p.stderr(), new RegExp(`metrics on http://${esc(METRICS)}/metrics`));
  // ip netns exec execs its command: the child is picket's own process, so signals reach picket and not a wrapper.
  assert.equal(fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim(), 'node');
});

test('real dig, curl, openssl and nmap traffic from the client namespace raises the alerts while picket runs', { timeout: 120_000 }, async () => {
  const p = picketRunning();
  assert.deepEqual(labProblems(), [], 'the namespaces changed: nothing may be sent');
  const dig = await client(['dig', '+time=5', '+tries=1', `@${SERVER}`, 'api.shodan.io']);
  assert.match(dig, /status: NOERROR/);
  assert.match(dig, new RegExp(`^api\\.shodan\\.io\\.\\s+\\d+\\s+IN\\s+A\\s+${esc(INTEL_ADDR)}$`, 'm'));
  assert.equal(await client(['curl', '-sS', '-m', '20', '-H', 'Host: www.censys.io', `http://${INTEL_ADDR}/`]), PAGE);
  const tls = await client(['openssl', 's_client', '-connect', `${INTEL_ADDR}:443`, '-servername', 'api.shodan.io']);
  assert.match(tls, /^CONNECTED/m);
  assert.match(tls, /CN\s*=\s*picket-e2e\.invalid/);
  const scan = await client(['nmap', '-sS', '-Pn', '-n', '-p', '1-300', SERVER]);
  const open = [...scan.matchAll(/^(\d+)\/tcp\s+open\b/gm)].map((m) => m[1]);
  assert.deepEqual(open, ['53'], `nmap found these ports open:\n${scan}`);
  const closed = /Not shown: (\d+) closed tcp ports \(reset\)/.exec(scan);
  assert.ok(closed !== null, `nmap's count of closed ports:\n${scan}`);
  nmapClosed = Number(closed[1]);
  const nse = await client(['nmap', '-Pn', '-n', '-p80', '--script', 'http-title', INTEL_ADDR]);
  assert.match(nse, /^80\/tcp\s+open/m);
  assert.match(nse, /http-title/);
  // dig reports a refused transfer on stdout and exits 0 or 9, depending on the version: its words are the check.
  const axfrArgv = inClient(['dig', '+time=5', '+tries=1', `@${SERVER}`, 'corp.test', 'AXFR']);
  const axfr = await run(axfrArgv, CLIENT_TOOL_MS);
  assert.match(axfr.stdout, /Transfer failed/, described(axfrArgv, axfr));

  // Live, not at exit: each alert is on stdout while picket still runs.
  const want = ['dns.axfr', 'intel.dns', 'intel.http', 'intel.tls', 'probe.nmap_http', 'scan.port', 'scan.tool'];
  let seen: string[] = [];
  await waitFor(() => `alerts ${want.filter((r) => !seen.includes(r)).join(', ')} on stdout (seen: ${seen.join(', ')})`, () => {
    seen = [...new Set(alerts().map((d) => String(get(d, 'rule.id'))))];
    return want.every((r) => seen.includes(r));
  }, 30_000, p);
  // Periodic counters (--stats-interval 1s) on stderr, per interface, with the alerts so far.
  const periodic = /picket: \d+ packets in \d+ s \(veth0: \d+ received, \d+ kernel drops, \d+ interface drops, \d+ picket drops\); alerts: [1-9]\d* .*packets\/s now/;
  await waitFor('a periodic counters line on stderr', () => periodic.test(p.stderr()), 30_000, p);
});

/** One scrape of picket's /metrics, from inside the server namespace (over its loopback). */
async function scrape(): Promise<string> {
  const argv = inServer(['curl', '-sS', '-m', '20', '-D', path.join(work, 'metrics.headers'), `http://${METRICS}/metrics`]);
  const r = await run(argv, 30_000);
  assert.equal(r.code, 0, described(argv, r));
  assert.match(fs.readFileSync(path.join(work, 'metrics.headers'), 'utf8'), /^content-type: text\/plain; version=0\.0\.4/im);
  return r.stdout;
}

test('the metrics endpoint: promtool parses it; packets and capture counters catch up with tcpdump\'s live; alerts by rule', { timeout: 60_000 }, async () => {
  const p = picketRunning();
  const before = countByRule(alerts());
  // The link is quiet now (the client is done until the next step): picket's packet count on /metrics must reach
  // the number of frames tcpdump has written so far, exactly, while both still run.
  let text = '';
  let reference = pcapTotals(pcapFile, true);
  let packets = -1;
  for (let i = 0; i < 100; i++) {
    text = await scrape();
    reference = pcapTotals(pcapFile, true);
    packets = parseExposition(text).get('picket_packets_total') ?? -1;
    if (packets === reference.frames) break;
    await sleep(200);
  }
  assert.equal(packets, reference.frames, `picket_packets_total never reached the ${reference.frames} frames tcpdump wrote; picket stderr:\n${p.stderrTail()}`);
  // Prometheus's own parser and linter: it reads the exposition on stdin (not a network client).
  const pt = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  assert.equal(pt.status, 0, `promtool check metrics: ${pt.stdout}${pt.stderr}\n--- exposition ---\n${text}`);
  const m = parseExposition(text);
  const v = (k: string): number => {
    const x = m.get(k);
    assert.ok(x !== undefined, `${k} is missing from /metrics:\n${text}`);
    return x;
  };
  assert.ok(v('picket_packets_total') > 0);
  assert.equal(v('picket_bytes_total'), reference.caplen, 'captured bytes: picket and tcpdump');
  assert.equal(v(`picket_capture_received_total{interface="${IFACE}"}`), reference.frames);
  assert.equal(v(`picket_capture_kernel_dropped_total{interface="${IFACE}"}`), 0, 'a few thousand packets: the kernel must not drop any');
  assert.equal(v(`picket_capture_interface_dropped_total{interface="${IFACE}"}`), 0);
  assert.equal(v(`picket_capture_picket_dropped_total{interface="${IFACE}"}`), 0);
  assert.ok(v('picket_dns_queries_total') >= 2 && v('picket_tls_client_hellos_total') >= 1 && v('picket_http_requests_total') >= 2);
  scraped = new Map();
  for (const [rule, n] of before) {
    const got = v(`picket_alerts_total{rule="${rule}"}`);
    assert.ok(got >= n, `picket_alerts_total{rule="${rule}"} is ${got}, but ${n} such alerts were already on stdout`);
    scraped.set(rule, got);
  }
});

// ---------- SIGHUP ----------

/** The name the broken file lists too: if any of that file were taken, the lookup before the good reload would alert. */
const BAD_RULES = [
  '# written by the end-to-end test while picket runs; line 4 has a severity that does not exist',
  'kind: intel-domains',
  'domains:',
  '  - { domain: example-intel.test, severity: extreme }',
  '',
].join('\n');
const GOOD_RULES = [
  '# written by the end-to-end test while picket runs',
  'kind: intel-domains',
  'defaults: { category: test-intel, severity: high, confidence: high, technique: T1590.005 }',
  'domains:',
  '  - { domain: example-intel.test, description: "an intel domain added at run time" }',
  '',
].join('\n');

const RELOAD_ANSWER = /rules (NOT )?reloaded/;

test('SIGHUP: a broken rules file is refused naming file and line and the old rules stay; a good one adds an intel domain that fires', { timeout: 120_000 }, async () => {
  const p = picketRunning();
  const bad = path.join(rulesDir, 'added.yaml');
  fs.writeFileSync(bad, BAD_RULES);
  const refused = await signalAndWait('SIGHUP', RELOAD_ANSWER, "picket's answer to the first SIGHUP");
  assert.match(refused, new RegExp(`rules NOT reloaded, the old ones stay: ${esc(bad)}:4: `));
  assert.doesNotMatch(refused, /rules reloaded/);
  assert.ok(p.alive, 'a bad reload must not stop picket');

  // Still the old rules: the name the broken file lists raises nothing. The bundled ipinfo.io, asked after it, is
  // the marker that picket has read past that query (packets are judged in order).
  await client(['dig', '+time=5', '+tries=1', `@${SERVER}`, 'www.example-intel.test']);
  await client(['dig', '+time=5', '+tries=1', `@${SERVER}`, 'ipinfo.io']);
  await waitFor('the intel.dns alert for ipinfo.io', () => ofRule(alerts(), 'intel.dns').some((d) => get(d, 'dns.question.name') === 'ipinfo.io'), 30_000, p);
  assert.deepEqual(alerts().filter((d) => JSON.stringify(d).includes('example-intel')), [], 'the refused file must not have been applied in part');

  fs.rmSync(bad);
  const good = path.join(rulesDir, 'intel-added.yaml');
  fs.writeFileSync(good, GOOD_RULES);
  const reloaded = await signalAndWait('SIGHUP', RELOAD_ANSWER, "picket's answer to the second SIGHUP");
  assert.match(reloaded, /rules reloaded: \d+ files/);
  assert.doesNotMatch(reloaded, /NOT reloaded/);
  const dig = await client(['dig', '+time=5', '+tries=1', `@${SERVER}`, 'www.example-intel.test']);
  assert.match(dig, new RegExp(`IN\\s+A\\s+${esc(INTEL_ADDR)}$`, 'm'), 'dnsmasq answers the new intel name');
  let hit: Doc | undefined;
  await waitFor('the intel.dns alert for www.example-intel.test', () => {
    hit = ofRule(alerts(), 'intel.dns').find((d) => get(d, 'dns.question.name') === 'www.example-intel.test');
    return hit !== undefined;
  }, 30_000, p);
  assert.ok(hit !== undefined);
  assert.equal(get(hit, 'source.ip'), CLIENT);
  assert.equal(get(hit, 'picket.intel.indicator'), 'example-intel.test');
  assert.equal(get(hit, 'picket.intel.source'), good);
  assert.equal(get(hit, 'picket.intel.line'), 5);
  assert.equal(get(hit, 'rule.category'), 'test-intel');
  assert.equal(get(hit, 'event.severity'), 73, 'severity high, from the new file');
  assert.ok(p.alive);
});

// ---------- SIGTERM and what it leaves ----------

test('SIGTERM: picket stops cleanly (exit 0); tcpdump is stopped after it', { timeout: 90_000 }, async () => {
  const p = picketRunning();
  p.kill('SIGTERM');
  await p.exit(45_000);
  assert.equal(p.code, 0, `picket exit ${String(p.code ?? p.signal)}; stderr:\n${p.stderrTail()}`);
  assert.match(p.stderr(), /picket: stopping \(SIGTERM\)/);
  assert.ok(tcpdump !== null && tcpdump.alive, 'tcpdump is not running');
  tcpdump.kill('SIGINT'); // to `timeout`, which passes it on to tcpdump
  await tcpdump.exit(30_000);
  assert.equal(tcpdump.code, 0, `tcpdump: ${tcpdump.stderr()}`);
});

/** picket's whole stdout, once it has exited cleanly. */
function finalDocs(): Doc[] {
  assert.ok(pk !== null && pk.code === 0, `picket did not stop cleanly (${watchdogFired ? `the test ran past ${TOTAL_MS / 1000} s and was stopped` : 'an earlier step failed'})`);
  return docs();
}

test('the alerts on stdout: intel by DNS, TLS and HTTP; the port scan named nmap with what it learned, summarised once; the NSE probe; the refused transfer', { timeout: 60_000 }, () => {
  const all = finalDocs().filter((d) => get(d, 'event.kind') === 'alert');
  for (const d of all) if (get(d, 'source.ip') !== undefined) assert.equal(get(d, 'source.ip'), CLIENT, `only the client sent anything: ${JSON.stringify(d)}`);

  const dns = ofRule(all, 'intel.dns').find((d) => get(d, 'dns.question.name') === 'api.shodan.io');
  assert.ok(dns !== undefined, 'intel.dns for api.shodan.io');
  assert.equal(get(dns, 'source.ip'), CLIENT);
  assert.equal(get(dns, 'destination.ip'), SERVER);
  assert.equal(get(dns, 'picket.intel.indicator'), 'shodan.io');
  assert.equal(get(dns, 'network.direction'), 'inbound');

  const tls = ofRule(all, 'intel.tls').find((d) => get(d, 'tls.client.server_name') === 'api.shodan.io');
  assert.ok(tls !== undefined, 'intel.tls with SNI api.shodan.io');
  assert.equal(get(tls, 'source.ip'), CLIENT);
  assert.equal(get(tls, 'destination.ip'), INTEL_ADDR);
  assert.equal(get(tls, 'destination.port'), 443);

  const http = ofRule(all, 'intel.http').find((d) => get(d, 'destination.domain') === 'www.censys.io');
  assert.ok(http !== undefined, 'intel.http for Host www.censys.io');
  assert.equal(get(http, 'source.ip'), CLIENT);
  assert.equal(get(http, 'destination.ip'), INTEL_ADDR);
  assert.equal(get(http, 'picket.intel.indicator'), 'censys.io');

  // The port scan: alerted while it ran, summarised once at the end (not at the reload, not twice).
  const ports = ofRule(all, 'scan.port');
  assert.ok(ports.some((d) => get(d, 'picket.final') === false), 'scan.port raised while the scan ran');
  const summaries = ports.filter((d) => get(d, 'picket.final') === true);
  assert.equal(summaries.length, 1, 'one summary of the port scan');
  const s = summaries[0];
  assert.equal(get(s, 'source.ip'), CLIENT);
  assert.equal(get(s, 'destination.ip'), SERVER);
  assert.equal(get(s, 'threat.software.name'), 'nmap');
  const sIndex = all.indexOf(s);
  const added = all.findIndex((d) => get(d, 'dns.question.name') === 'www.example-intel.test');
  assert.ok(added >= 0 && sIndex > added, 'the summary comes at the end, after the alert raised under the reloaded rules');
  const learned = [...(get(s, 'picket.scan.learned') as string[])].sort();
  assert.ok(learned.includes(`${SERVER}:53/tcp`), `learned ${learned.join(' ')}`);
  // What the client learned, as tcpdump's capture shows it: every service that answered it (SYN-ACK, UDP reply),
  // and how many of its attempts were answered (connections and UDP flows: distinct client ports).
  const synAcks = tshark(pcapFile, `tcp.flags.syn == 1 && tcp.flags.ack == 1 && ip.dst == ${CLIENT}`, ['ip.src', 'tcp.srcport', 'tcp.dstport']);
  const udpReplies = tshark(pcapFile, `udp && ip.dst == ${CLIENT}`, ['ip.src', 'udp.srcport', 'udp.dstport']);
  assert.deepEqual(learned, [...new Set([...synAcks.map(([a, p]) => `${a}:${p}/tcp`), ...udpReplies.map(([a, p]) => `${a}:${p}/udp`)])].sort());
  const flows = (rows: string[][]): number => new Set(rows.map((r) => r.join(' '))).size;
  // Answered are connections and UDP flows, less the half-open ones (SYN-ACK, then nmap's reset): failed attempts.
  const halfOpen = Number(get(s, 'picket.scan.outcomes.half_open'));
  assert.equal(halfOpen, tsharkFailedTcpTargets(pcapFile).halfOpenAttempts, 'half-open attempts, as tshark reads them');
  assert.equal(Number(get(s, 'picket.scan.outcomes.answered')) + halfOpen, flows(synAcks) + flows(udpReplies), 'answered attempts: connections and UDP flows');
  // The closed ports: nmap's count, the ports that answered the client with RST in the capture, and picket's
  // failed ports and rejected attempts (one attempt per port: a retransmitted SYN would be the same attempt).
  const rstPorts = new Set(tshark(pcapFile, `tcp.flags.reset == 1 && ip.src == ${SERVER} && ip.dst == ${CLIENT}`, ['tcp.srcport']).map(([p]) => p));
  assert.equal(rstPorts.size, nmapClosed, 'the capture shows the closed ports nmap reported');
  // Failed ports are the closed ones and the open ones nmap reset after their SYN-ACK (half-open).
  const failed = tsharkFailedTcpTargets(pcapFile);
  const halfOpenPorts = [...failed.halfOpen].filter((t) => t.startsWith(`${CLIENT} ${SERVER}:`)).map((t) => t.slice(t.lastIndexOf(':') + 1));
  const failedPorts = new Set([...rstPorts, ...halfOpenPorts]).size;
  assert.equal(get(s, 'picket.scan.ports'), failedPorts);
  assert.equal(get(s, 'picket.scan.max_ports_one_host'), failedPorts);
  assert.equal(get(s, 'picket.scan.outcomes.rejected'), rstPorts.size);

  const tool = ofRule(all, 'scan.tool');
  assert.ok(tool.length >= 1 && tool.every((d) => get(d, 'threat.software.name') === 'nmap' && get(d, 'source.ip') === CLIENT), 'scan.tool names nmap');
  // One incident: the tool's first alert and the port scan's summary carry the same id.
  const incidents = new Set(all.filter((d) => String(get(d, 'rule.id')).startsWith('scan.') && get(d, 'source.ip') === CLIENT).map((d) => get(d, 'picket.incident.id')));
  assert.equal(incidents.size, 1, 'one incident for the scanner');
  assert.equal(get(tool[0], 'picket.incident.id'), get(s, 'picket.incident.id'));

  const probe = ofRule(all, 'probe.nmap_http');
  assert.ok(probe.length >= 1, 'probe.nmap_http');
  assert.equal(get(probe[0], 'threat.software.name'), 'nmap');
  assert.equal(get(probe[0], 'source.ip'), CLIENT);
  assert.equal(get(probe[0], 'destination.ip'), INTEL_ADDR);
  assert.equal(get(probe[0], 'destination.port'), 80);

  const axfr = ofRule(all, 'dns.axfr').filter((d) => get(d, 'dns.question.name') === 'corp.test');
  assert.ok(axfr.length >= 1, 'dns.axfr for corp.test');
  for (const d of axfr) {
    assert.equal(get(d, 'source.ip'), CLIENT);
    assert.equal(get(d, 'dns.question.type'), 'AXFR');
    assert.equal(get(d, 'dns.response_code'), 'REFUSED');
    assert.equal(get(d, 'picket.dns_recon.transferred'), false);
  }
  const rcodes = tshark(pcapFile, 'dns.flags.response == 1 && dns.qry.type == 252', ['dns.flags.rcode']).map(([c]) => c);
  assert.deepEqual(rcodes, ['5'], 'the server refused the transfer (tshark reads rcode 5 in the capture)');
});

test('the final counters: no drops, and the packets and bytes tcpdump captured on the same interface; stats, metrics and alerts agree', { timeout: 60_000 }, () => {
  const all = finalDocs();
  const last = all[all.length - 1];
  assert.equal(get(last, 'event.kind'), 'metric', 'the last document is the counters');
  assert.equal(all.filter((d) => get(d, 'event.kind') === 'metric').length, 1);
  const st = get(last, 'picket.stats') as Doc;
  const cap = get(st, `capture.${IFACE}`) as Doc | undefined;
  assert.ok(cap !== undefined, `picket.stats.capture.${IFACE}: ${JSON.stringify(st)}`);
  assert.ok(Number(cap.received) > 0);
  assert.equal(cap.kernel_dropped, 0);
  assert.equal(cap.interface_dropped, 0);
  assert.equal(cap.picket_dropped, 0);
  assert.equal(get(st, 'packets'), cap.received, 'every packet received was decoded');

  // tcpdump ran from before picket started until after it stopped. The link carries only the client's traffic
  // (no IPv6, permanent neighbours: no ARP) and the client sent only while picket ran, so the counts are equal.
  const ref = pcapTotals(pcapFile);
  const said = tcpdump?.stderr() ?? '';
  assert.match(said, new RegExp(`^${ref.frames} packets captured$`, 'm'), `tcpdump's own count agrees with its file: ${said}`);
  assert.match(said, new RegExp(`^${ref.frames} packets received by filter$`, 'm'), `tcpdump wrote every packet its filter took: ${said}`);
  assert.match(said, /^0 packets dropped by kernel$/m, said);
  assert.equal(tshark(pcapFile, `ip.addr == ${CLIENT}`, ['frame.number']).length, ref.frames, 'every frame on the link is the client\'s traffic');
  assert.equal(get(st, 'packets'), ref.frames, 'packets: picket and tcpdump');
  assert.equal(get(st, 'bytes'), ref.caplen, 'captured bytes: picket and tcpdump');
  assert.equal(get(st, 'wire_bytes'), ref.origlen, 'wire bytes: picket and tcpdump');
  // The protocol counts, against tshark's dissection of the reference capture.
  assert.equal(get(st, 'dns.queries'), tshark(pcapFile, 'dns.flags.response == 0', ['frame.number']).length, 'DNS queries');
  // picket finds ClientHellos by content on any port; tshark must be told that port 80 may carry one too (the
  // http-title run sends nmap's SSL probe there before its plain GET).
  assert.equal(get(st, 'tls.client_hellos'), tshark(pcapFile, 'tls.handshake.type == 1', ['frame.number'], ['-d', 'tcp.port==80,tls']).length, 'TLS ClientHellos');
  assert.equal(get(st, 'http.requests'), tshark(pcapFile, 'http.request', ['frame.number']).length, 'HTTP requests');

  // Alerts by rule: the counters, the documents written, and what /metrics said earlier (a counter never falls).
  const written = countByRule(all.filter((d) => get(d, 'event.kind') === 'alert'));
  assert.deepEqual(new Map(Object.entries(get(st, 'alerts') as Record<string, number>)), written);
  assert.ok(scraped !== null, 'the metrics step did not run');
  for (const [rule, n] of scraped) assert.ok((written.get(rule) ?? 0) >= n, `${rule}: ${n} on /metrics earlier, ${written.get(rule) ?? 0} in the end`);

  // The last stderr line says the same as the last document.
  const line = /picket: (\d+) packets in \d+ s \(veth0: (\d+) received, (\d+) kernel drops, (\d+) interface drops, (\d+) picket drops\); alerts: (\d+)/.exec(pk?.stderr().split('stopping (SIGTERM)')[1] ?? '');
  assert.ok(line !== null, `the final summary line: ${pk?.stderrTail() ?? ''}`);
  assert.deepEqual(line.slice(1).map(Number), [Number(get(st, 'packets')), Number(cap.received), 0, 0, 0, [...written.values()].reduce((a, b) => a + b, 0)]);
});
