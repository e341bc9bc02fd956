/**
 * The end-of-run summary: --summary none|brief|full, its default, and the full tables checked against the
 * alerts of the bundled captures as this test reads them itself (sources, tools, counts).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { get, PCAPS, picket, requireTool, ROOT, tmpDir } from './helpers';
import { launch, open, terminalHtml, distinctColours } from './browser';
import { createAnalyzer } from '../src/report/aggregate';
import { formatAnalysis } from '../src/cli/summary';

type Doc = Record<string, unknown>;
const s = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const dir = tmpDir('summary');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The lines of one table: from its heading to the next line that is not indented. */
function section(stderr: string, heading: RegExp): string[] {
  const lines = stderr.split('\n');
  const at = lines.findIndex((l) => heading.test(l));
  assert.ok(at >= 0, `${String(heading)} in\n${stderr}`);
  const out: string[] = [lines[at]];
  for (const l of lines.slice(at + 1)) {
    if (!l.startsWith(' ')) break;
    out.push(l);
  }
  return out;
}

test('--summary full: one scanner row per scanning source, with its tool and largest counts; intel clients with their sightings', () => {
  const r = picket(['replay', PCAPS, '--summary', 'full']);
  assert.equal(r.code, 0, r.stderr);
  const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
  assert.ok(alerts.length > 100);
  // The brief part is still there, first.
  assert.match(r.stderr, new RegExp(`\\n  alerts: ${alerts.length} \\(`));
  // The tables (after the brief lines, which name files by their paths) fit 100 columns.
  const full = r.stderr.slice(r.stderr.indexOf('\nalerts from '));
  assert.ok(full.length > 500, r.stderr);
  for (const line of full.split('\n')) assert.ok([...line].length <= 100, `wider than 100 columns: ${line}`);
  assert.doesNotMatch(r.stderr, new RegExp(String.fromCharCode(27)), 'no colour when stderr is not a terminal');

  const scans = alerts.filter((a) => s(get(a, 'rule.id')).startsWith('scan.') && get(a, 'rule.id') !== 'scan.distributed');
  const bySource = new Map<string, Doc[]>();
  for (const a of scans) bySource.set(s(get(a, 'source.ip')), [...(bySource.get(s(get(a, 'source.ip'))) ?? []), a]);
  const table = section(r.stderr, /^scanners: \d+$/);
  assert.equal(table[0], `scanners: ${bySource.size}`);
  const header = table[1].trim().split(/\s{2,}/);
  assert.deepEqual(header, ['source', 'tool', 'hosts', 'ports', 'ans/half/rst/unr/none', 'first', 'for', 'sev', 'kinds']);
  const rows = table.slice(2).filter((l) => /^ {2}\S/.test(l) && !l.startsWith('  ...'));
  assert.equal(rows.length, Math.min(40, bySource.size));
  const seen = new Set<string>();
  for (const row of rows) {
    const cells = row.trim().split(/\s{2,}/);
    const [src, tool, hosts, ports, outcomes] = cells;
    const docs = bySource.get(src);
    assert.ok(docs !== undefined, `${src} is a scanning source`);
    seen.add(src);
    const max = (f: string): number => Math.max(...docs.map((d) => Number(get(d, f) ?? 0)));
    assert.equal(Number(hosts), max('picket.scan.hosts'), `${src} hosts`);
    assert.equal(Number(ports), max('picket.scan.ports'), `${src} ports`);
    assert.equal(outcomes, ['answered', 'half_open', 'rejected', 'unreachable', 'unanswered'].map((o) => max(`picket.scan.outcomes.${o}`)).join('/'), `${src} outcomes`);
    const named = [...new Set(docs.map((d) => s(get(d, 'threat.software.name'))).filter((t) => t !== ''))];
    if (named.length === 0) assert.equal(tool, '-', src);
    else {
      // Cut to fit, the whole list is on a line of its own under the row.
      const whole = tool.endsWith('…') ? table[table.indexOf(row) + 1].replace(/^ +tools: /, '') : tool;
      assert.ok(whole === named.join(',') || whole.startsWith(`${named.join(',')} (`), `${src}: ${whole} names ${named.join(',')}`);
    }
  }
  assert.equal(seen.size, rows.length, 'each source once');
  // The tools the alerts name all appear.
  const tools = new Set(scans.map((d) => s(get(d, 'threat.software.name'))).filter((t) => t !== ''));
  assert.ok(tools.size >= 2, [...tools].join(','));
  for (const t of tools) assert.ok(table.some((row) => new RegExp(`[\\s,]${t}[ ,(]`).test(row)), `tool ${t} in the table`);

  const intel = alerts.filter((a) => s(get(a, 'rule.id')).startsWith('intel.'));
  const sightings = new Map<string, number>();
  for (const a of intel) {
    const n = Number(get(a, 'picket.count') ?? 1);
    sightings.set(s(get(a, 'source.ip')), (sightings.get(s(get(a, 'source.ip'))) ?? 0) + (get(a, 'picket.update') === true ? n - 1 : n));
  }
  const lk = section(r.stderr, /^intel lookups: \d+ clients?$/);
  assert.equal(lk[0], `intel lookups: ${sightings.size} clients`);
  const lrows = lk.slice(2).map((l) => l.trim().split(/\s{2,}/));
  assert.equal(lrows.length, sightings.size);
  for (const c of lrows) assert.equal(Number(c[4]), sightings.get(c[0]), `${c[0]} sightings`);

  const stats = r.docs.find((d) => get(d, 'event.kind') === 'metric');
  assert.match(r.stderr, new RegExp(`\\nhealth: ${s(get(stats ?? {}, 'picket.stats.packets'))} packets, ${s(get(stats ?? {}, 'picket.stats.decode_errors'))} decode errors`));
  assert.match(r.stderr, /\ndistributed scans: 10\.90\.0\.1 \(/);
});

test('--summary brief is the default on a pipe, none prints nothing, --quiet is none, a bad level is a usage error', () => {
  const file = path.join(PCAPS, 'scans', 'masscan.pcap');
  const def = picket(['replay', file]);
  const brief = picket(['replay', file, '--summary', 'brief']);
  assert.equal(def.code, 0, def.stderr);
  assert.match(brief.stderr, /\n {2}alerts: \d+/);
  assert.doesNotMatch(brief.stderr, /^scanners:/m);
  assert.equal(def.stderr.replace(/in [\d.]+ s \(.*\)/, ''), brief.stderr.replace(/in [\d.]+ s \(.*\)/, ''));
  assert.equal(picket(['replay', file, '--summary', 'none']).stderr, '');
  assert.equal(picket(['replay', file, '--quiet']).stderr, '');
  assert.match(picket(['replay', file, '--quiet', '--summary', 'full']).stderr, /^scanners: 1$/m);
  const bad = picket(['replay', file, '--summary', 'loud']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--summary must be none, brief or full, not "loud"/);
});

/** Runs picket with stderr on a pseudo-terminal (script(1)), stdout to a file. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv): string {
  requireTool('script');
  const cmd = [process.execPath, path.join(ROOT, 'bin', 'picket.js'), ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', `${cmd} > ${path.join(dir, 'out.ndjson')}`, '/dev/null'], { encoding: 'utf8', env: { ...env, TERM: 'xterm' }, timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.replace(/\r\n/g, '\n');
}

test('on a terminal: full by default and in colour; NO_COLOR turns the colour off', async () => {
  const files = [path.join(PCAPS, 'scans'), path.join(PCAPS, 'intel-dns.pcap'), path.join(PCAPS, 'quic')];
  const env = { ...process.env };
  delete env.NO_COLOR;
  const coloured = onTerminal(['replay', ...files], env);
  assert.match(coloured, /scanners: \d+/);
  assert.match(coloured, new RegExp(`${String.fromCharCode(27)}\\[1m`), 'bold headings');
  const plain = onTerminal(['replay', ...files], { ...env, NO_COLOR: '1' });
  assert.match(plain, /^scanners: \d+/m);
  assert.doesNotMatch(plain, new RegExp(String.fromCharCode(27)));

  // The README's picture of it, when asked for: the coloured terminal text rendered by chromium.
  const shots = process.env.PICKET_SCREENSHOTS;
  const b = await launch();
  try {
    const html = path.join(dir, 'terminal.html');
    const text = coloured.split('\n').filter((l) => !/^ {2}\S+\/\S+: (pcap|pcapng)|not a capture, passed over$/.test(l)).join('\n');
    fs.writeFileSync(html, terminalHtml(`$ picket replay pcaps/scans pcaps/intel-dns.pcap pcaps/quic > alerts.ndjson\n${text}`, 'picket summary'));
    const { page, errors } = await open(b, html);
    assert.deepEqual(errors, []);
    const png = await page.locator('pre').screenshot();
    assert.ok(await distinctColours(b, png) > 5);
    if (shots !== undefined) fs.writeFileSync(path.join(shots, 'summary.png'), png);
  } finally {
    await b.close();
  }
});

test('capture: the full summary at the end of a live run has the health of each interface', () => {
  const r = picket(['capture', '-i', 'lo', '--duration', '2s', '--summary', 'full', '--out', path.join(dir, 'live.ndjson'), '--stats-interval', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /picket: \d+ packets in \d+ s \(lo: \d+ received/);
  assert.match(r.stderr, /^scanners: 0$/m);
  assert.match(r.stderr, /^intel lookups: 0 clients$/m);
  assert.match(r.stderr, /^ {2}lo: received \d+, kernel dropped \d+, interface dropped \d+, picket dropped \d+$/m);
  const brief = picket(['capture', '-i', 'lo', '--duration', '1s', '--out', path.join(dir, 'live2.ndjson'), '--stats-interval', '0']);
  assert.equal(brief.code, 0, brief.stderr);
  assert.doesNotMatch(brief.stderr, /^scanners:/m);
  assert.match(brief.stderr, /picket: \d+ packets in \d+ s \(lo:/);
});

test('research scanners and severity reasons (issue 13\'s fields) are shown when the alerts carry them', () => {
  const r = picket(['replay', path.join(PCAPS, 'scans', 'masscan.pcap'), path.join(PCAPS, 'scans', 'nmap-sweep.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const sources = [...new Set(r.docs.filter((d) => s(get(d, 'rule.id')).startsWith('scan.')).map((d) => s(get(d, 'source.ip'))))];
  assert.ok(sources.length >= 1);
  const research = sources[0];
  const a = createAnalyzer();
  for (const d of r.docs) {
    if (s(get(d, 'rule.id')).startsWith('scan.') && get(d, 'source.ip') === research) {
      const p = d.picket as Doc;
      a.add({ ...d, picket: { ...p, scan: { ...(p.scan as Doc), research: true }, severity_reasons: ['lowered: on the research-scanner list (test)'] } });
    } else a.add(d);
  }
  const text = formatAnalysis(a.result(), 100, false);
  const normal = section(text, /^scanners: \d+$/);
  assert.equal(normal[0], `scanners: ${sources.length - 1}`);
  const rs = section(text, /^research scanners: 1$/);
  assert.ok(rs.some((l) => l.startsWith(`  ${research} `)), rs.join('\n'));
  assert.ok(rs.includes('      severity: lowered: on the research-scanner list (test)'), rs.join('\n'));
});
