/**
 * picket report, opened in Debian's chromium (headless, playwright-core): reports made from the bundled captures
 * (their NDJSON, the captures themselves, standard input) load with no console error and no request outside the
 * file, draw their charts, and show the figures this test computes from the NDJSON on its own (its own grouping
 * and sums below, not src/report/aggregate.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { get, PCAPS, picket, tmpDir } from './helpers';
import { distinctColours, launch, open, type Browser } from './browser';

type Doc = Record<string, unknown>;
const BIN = path.join(__dirname, '..', '..', 'bin', 'picket.js');
const dir = tmpDir('report');
let browser: Browser;

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const s = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

/** The test's own reading of the alerts: what the report must show. */
function expected(docs: Doc[]) {
  const alerts = docs.filter((d) => get(d, 'event.kind') === 'alert');
  const byRule = new Map<string, number>();
  for (const a of alerts) byRule.set(s(get(a, 'rule.id')), (byRule.get(s(get(a, 'rule.id'))) ?? 0) + 1);
  // Incidents: one per scanning source (a distributed scan per target), per intel client and indicator, per
  // probing source, per DNS-recon client and rule.
  const incidentOf = (a: Doc): string => {
    if (s(get(a, 'picket.incident.id')) !== '') return `given ${s(get(a, 'picket.incident.id'))}`;
    const rule = s(get(a, 'rule.id'));
    const src = s(get(a, 'source.ip'));
    if (rule === 'scan.distributed') return `D ${s(get(a, 'destination.ip'))}`;
    if (rule.startsWith('scan.')) return `S ${src}`;
    if (rule.startsWith('intel.')) return `I ${src} ${s(get(a, 'picket.intel.indicator'))}`;
    if (rule.startsWith('probe.')) return `P ${src}`;
    return `${rule} ${src}`;
  };
  const incidents = new Map<string, Doc[]>();
  for (const a of alerts) {
    const k = incidentOf(a);
    incidents.set(k, [...(incidents.get(k) ?? []), a]);
  }
  const attempts = new Map<string, number>();
  for (const a of alerts) {
    const rule = s(get(a, 'rule.id'));
    if (!rule.startsWith('scan.') || rule === 'scan.distributed') continue;
    const src = s(get(a, 'source.ip'));
    attempts.set(src, Math.max(attempts.get(src) ?? 0, Number(get(a, 'picket.scan.attempts') ?? 0)));
  }
  const sightings = new Map<string, number>();
  for (const a of alerts) {
    if (!s(get(a, 'rule.id')).startsWith('intel.')) continue;
    const n = Number(get(a, 'picket.count') ?? 1);
    const src = s(get(a, 'source.ip'));
    sightings.set(src, (sightings.get(src) ?? 0) + (get(a, 'picket.update') === true ? n - 1 : n));
  }
  const starts = alerts.map((a) => s(get(a, 'event.start'))).sort();
  const ends = alerts.map((a) => s(get(a, 'event.end'))).sort();
  const metric = docs.filter((d) => get(d, 'event.kind') === 'metric');
  const packets = metric.reduce((n, d) => n + Number(get(d, 'picket.stats.packets') ?? 0), 0);
  return { alerts, byRule, incidents, attempts, sightings, first: starts[0], last: ends[ends.length - 1], packets };
}

function ndjson(file: string): Doc[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Doc);
}

function report(args: string[], input?: Buffer): { out: string; stderr: string } {
  const out = path.join(dir, `r${fs.readdirSync(dir).length}.html`);
  const r = spawnSync(process.execPath, [BIN, 'report', ...args, '-o', out], { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return { out, stderr: r.stderr };
}

/** Opens a report and checks everything the page must show for these documents; returns the page's counts. */
async function check(file: string, docs: Doc[], shot?: string): Promise<void> {
  const e = expected(docs);
  assert.ok(e.alerts.length > 0, 'the input has alerts');
  const { page, errors, requests } = await open(browser, file);
  try {
    assert.deepEqual(errors, [], 'no console errors');
    assert.ok(requests.length >= 1);
    assert.deepEqual(requests.filter((u) => !u.startsWith('file://') && !u.startsWith('data:')), [], 'nothing fetched from a network');
    const fig = async (k: string): Promise<number> => Number(await page.locator(`[data-figure="${k}"]`).textContent());
    assert.equal(await fig('alerts'), e.alerts.length);
    assert.equal(await fig('incidents'), e.incidents.size);
    assert.equal(await fig('scanners'), e.attempts.size);
    assert.equal(await fig('clients'), e.sightings.size);
    if (e.packets > 0) assert.equal(await fig('packets'), e.packets);
    const rules = await page.locator('[data-rule]').evaluateAll((els) => els.map((x) => [x.getAttribute('data-rule'), Number(x.getAttribute('data-count'))]));
    assert.deepEqual(new Map(rules as Array<[string, number]>), e.byRule);
    const range = await page.locator('[data-meta="range"]').textContent();
    assert.equal(range, `${e.first} to ${e.last}`);

    // Charts: the timeline's bars are incidents; the top sources are the sources with most attempts, with them.
    const bars = await page.locator('svg[data-chart="timeline"] rect[data-incident]').count();
    assert.ok(bars > 0, 'timeline has bars');
    const top = await page.locator('svg[data-chart="top-sources"] g[data-label]').evaluateAll((els) => els.map((x) => [x.getAttribute('data-label'), Number(x.getAttribute('data-value'))]));
    if (e.attempts.size > 0) {
      assert.equal(top.length, Math.min(20, e.attempts.size));
      for (const [src, n] of top as Array<[string, number]>) assert.equal(n, e.attempts.get(src), src);
      assert.equal(top[0][1], Math.max(...e.attempts.values()));
      const cells = await page.locator('svg[data-chart="heatmap"] rect[data-cell]').evaluateAll((els) => els.map((x) => Number(x.getAttribute('data-value'))));
      assert.ok(cells.length > 0 && cells.some((v) => v > 0), 'heat map has filled cells');
    }
    if (e.sightings.size > 0) {
      const rows = await page.locator('table[data-table="lookups"] tr[data-client]').evaluateAll((els) => els.map((x) => [x.getAttribute('data-client'), Number(x.getAttribute('data-count'))]));
      assert.deepEqual(new Map(rows as Array<[string, number]>), e.sightings);
      // uPlot drew on its canvas: some pixel is not transparent.
      const inked = await page.evaluate<number>(`(() => { let n = 0; for (const c of document.querySelectorAll('#lookups-chart canvas')) {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; } return n; })()`);
      assert.ok(inked > 100, `lookup chart drawn (${inked} pixels)`);
    }

    // The incident table: filters by source, kind and tool count what this test counts; a row expands to its documents.
    const shown = async (): Promise<number> => Number(/^(\d+) of/.exec((await page.locator('#f-count').textContent()) ?? '')?.[1]);
    assert.equal(await shown(), e.incidents.size);
    const [busiest] = [...e.attempts.entries()].sort((a, b) => b[1] - a[1])[0] ?? [''];
    if (busiest !== '') {
      await page.fill('#f-source', busiest);
      const want = [...e.incidents.values()].filter((list) => s(get(list[0], 'source.ip')).includes(busiest)).length;
      assert.ok(want > 0);
      assert.equal(await shown(), want);
      await page.fill('#f-source', '');
    }
    await page.selectOption('#f-kind', { label: 'scan.tool' }).catch(() => page.selectOption('#f-kind', { index: 1 }));
    const kind = await page.locator('#f-kind option:checked').textContent();
    assert.equal(await shown(), [...e.incidents.values()].filter((list) => list.some((a) => get(a, 'rule.id') === kind)).length);
    await page.selectOption('#f-kind', '');
    const tools = (await page.locator('#f-tool option').allTextContents()).slice(1);
    for (const tool of tools.slice(0, 3)) {
      await page.selectOption('#f-tool', { label: tool });
      // The incident's tool is the last one named by its documents.
      const want = [...e.incidents.values()].filter((list) => list.map((a) => s(get(a, 'threat.software.name'))).filter((t) => t !== '').pop() === tool).length;
      assert.equal(await shown(), want, tool);
    }
    await page.selectOption('#f-tool', '');
    const row = page.locator('tr.inc').first();
    const id = await row.getAttribute('data-incident');
    await row.click();
    const pre = page.locator(`pre[data-doc="${id}"]`).first();
    const doc = JSON.parse((await pre.textContent()) ?? '') as Doc;
    assert.equal(get(doc, 'event.kind'), 'alert');
    assert.ok((await row.locator('td').nth(2).textContent())?.split(', ').includes(s(get(doc, 'rule.id'))));

    const png = await page.screenshot({ fullPage: false });
    assert.ok(await distinctColours(browser, png) > 20, 'the screenshot is not blank');
    if (shot !== undefined) fs.writeFileSync(shot, await page.screenshot({ clip: { x: 0, y: 0, width: 1280, height: 1600 }, fullPage: true }));
  } finally {
    await page.close();
  }
}

test('a report of every bundled capture\'s NDJSON shows the alerts\' own figures in chromium', async () => {
  const nd = path.join(dir, 'all.ndjson');
  const r = picket(['replay', PCAPS, '--out', nd]);
  assert.equal(r.code, 0, r.stderr);
  const { out, stderr } = report([nd]);
  assert.match(stderr, /report of \d+ alerts in \d+ incidents/);
  const html = fs.readFileSync(out, 'utf8');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i, 'no external script or style');
  const shots = process.env.PICKET_SCREENSHOTS;
  await check(out, ndjson(nd), shots !== undefined ? path.join(shots, 'report.png') : undefined);
});

test('captures given to report are replayed (gzip included, told apart by content) with the same figures as replay', async () => {
  const files = [path.join(PCAPS, 'scans', 'nmap-sweep.pcap'), path.join(PCAPS, 'formats', 'intel-dns.pcap.gz'), path.join(PCAPS, 'recon', 'dig-axfr.pcap')];
  const r = picket(['replay', ...files]);
  assert.equal(r.code, 0, r.stderr);
  const { out } = report(files);
  await check(out, r.docs);
  assert.match(fs.readFileSync(out, 'utf8'), /replayed captures/);
});

test('standard input: NDJSON (a line that is not JSON is counted) and a capture', async () => {
  const r = picket(['replay', path.join(PCAPS, 'scans', 'masscan.pcap'), path.join(PCAPS, 'intel-dns.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  const fromStdin = report(['-'], Buffer.from(`${r.stdout}not json\n`));
  await check(fromStdin.out, r.docs);
  const { page, errors } = await open(browser, fromStdin.out);
  assert.equal(await page.locator('[data-meta="unreadable"]').textContent(), '1 (not JSON, passed over)');
  assert.deepEqual(errors, []);
  await page.close();
  const cap = path.join(PCAPS, 'scans', 'masscan.pcap');
  const capture = report([], fs.readFileSync(cap));
  await check(capture.out, picket(['replay', cap]).docs);
});

test('picket.incident.id groups documents into incidents when alerts carry it (issue 13\'s field, read when present)', async () => {
  const r = picket(['replay', path.join(PCAPS, 'scans', 'nmap-decoy.pcap'), path.join(PCAPS, 'scans', 'masscan.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  // Two incidents per scanning source, split at its second document, as a detector that names incidents might.
  const n = new Map<string, number>();
  const docs = r.docs.map((d) => {
    if (!s(get(d, 'rule.id')).startsWith('scan.')) return d;
    const src = s(get(d, 'source.ip'));
    n.set(src, (n.get(src) ?? 0) + 1);
    return { ...d, picket: { ...(d.picket as Doc), incident: { id: `${src}#${(n.get(src) ?? 0) > 1 ? 2 : 1}` } } };
  });
  const nd = path.join(dir, 'with-ids.ndjson');
  fs.writeFileSync(nd, docs.map((d) => JSON.stringify(d)).join('\n'));
  const { out } = report([nd]);
  await check(out, docs);
  assert.ok([...n.values()].some((c) => c > 1), 'some source has more than one document');
});

test('report: a missing input or an unwritable output is exit 2 with one line naming it', () => {
  const missing = picket(['report', path.join(dir, 'nope.ndjson'), '-o', path.join(dir, 'x.html')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^picket: \S+nope\.ndjson: no such file\n$/);
  const unwritable = picket(['report', path.join(PCAPS, 'scans', 'masscan.pcap'), '-o', path.join(dir, 'no-dir', 'x.html')]);
  assert.equal(unwritable.code, 2);
  assert.match(unwritable.stderr, /^picket: \S+no-dir\/x\.html: cannot write: ENOENT\n$/);
});
