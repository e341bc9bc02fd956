/**
 * One self-contained HTML file from an Analysis: styles, the charting library (uPlot, inlined from npm) and the
 * data are all inside, so it opens from file:// with no network. The page draws from a compact copy of the
 * analysis (src/report/page.ts); nothing is aggregated here.
 */
import * as fs from 'node:fs';
import type { EcsDoc } from '../alert/ecs';
import type { Analysis, IncidentRow } from './aggregate';
import { PAGE_CSS, PAGE_SCRIPT } from './page';

export interface ReportMeta {
  title: string;
  inputs: string[];
  /** Inputs that were captures, replayed with `rules`. */
  replayed: string[];
  version: string;
  rules: string[];
  generated: string;
}

/** Documents shown in full over all incidents (src/cli/report.ts keeps no more: the first of each severity band). */
export const MAX_EMBEDDED_DOCS = 1000;
/** Sources with a row of their own in the charts. */
export const TOP_SOURCES = 20;

/** Fields every alert repeats (who the sensor is, the ATT&CK framework): left out of the embedded documents. */
function trimmed(doc: EcsDoc): EcsDoc {
  const { observer: _o, ecs: _e, ...rest } = doc;
  const threat = rest.threat as Record<string, unknown> | undefined;
  if (threat !== undefined && threat !== null && typeof threat === 'object') {
    const { framework: _f, tactic: _t, ...keep } = threat;
    const technique = keep.technique as Record<string, unknown> | undefined;
    rest.threat = technique !== undefined ? { ...keep, technique: { id: technique.id, subtechnique: { id: (technique.subtechnique as Record<string, unknown> | undefined)?.id } } } : keep;
  }
  return rest;
}

const epoch = (iso: string): number => Math.round(Date.parse(iso)) / 1000;

/** The page's data: incidents as arrays (tens of thousands of rows), times as epoch seconds, kinds and tools interned. */
function pageData(a: Analysis, meta: ReportMeta): unknown {
  const kinds = Object.keys(a.byRule).sort();
  const tools: string[] = [];
  const toolIdx = (t: string): number => {
    let i = tools.indexOf(t);
    if (i < 0) i = tools.push(t) - 1;
    return i;
  };
  const docs: EcsDoc[] = [];
  const withDocs = new Set<IncidentRow>(
    [...a.incidents].sort((x, y) => y.severity - x.severity || y.docs - x.docs).filter((inc) => {
      if (docs.length + inc.sample.length > MAX_EMBEDDED_DOCS) return false;
      for (const d of inc.sample) docs.push(trimmed(d));
      return true;
    }),
  );
  let at = 0;
  const docStart = new Map<IncidentRow, number>();
  for (const inc of [...a.incidents].sort((x, y) => y.severity - x.severity || y.docs - x.docs)) {
    if (!withDocs.has(inc)) continue;
    docStart.set(inc, at);
    at += inc.sample.length;
  }
  const incidents = a.incidents.map((inc) => [
    inc.id, inc.source, inc.kinds.map((k) => kinds.indexOf(k)), toolIdx(inc.tool), epoch(inc.first), epoch(inc.last), inc.severity, inc.docs,
    docStart.get(inc) ?? -1, withDocs.has(inc) ? inc.sample.length : 0,
  ]);
  const topSources = [...a.scanners].sort((x, y) => y.attempts - x.attempts || (x.source < y.source ? -1 : 1)).slice(0, TOP_SOURCES)
    .map((s) => ({ source: s.source, tool: s.tool, confidence: s.confidence, kinds: s.kinds, attempts: s.attempts, hosts: s.hosts, ports: s.ports, research: s.research }));
  return {
    meta: {
      ...meta, first: a.first, last: a.last, alerts: a.alerts, documents: a.documents, unreadable: a.unreadable, overflow: a.overflow,
      versions: a.versions, scanners: a.scanners.length, clients: a.lookups.length, embeddedDocs: docs.length,
    },
    byRule: a.byRule, kinds, tools, incidents, docs, topSources, targets: a.targets, ports: a.ports, heat: a.heat,
    lookups: a.lookups.map((l) => ({ client: l.client, indicators: l.indicators, services: l.services, protocols: l.protocols, count: l.count, first: l.first, last: l.last })),
    series: a.lookupSeries.map(([b, c, i, n]) => [epoch(b), c, i, n]),
    health: a.health,
  };
}

let uplot: { js: string; css: string } | null = null;
function uplotAssets(): { js: string; css: string } {
  uplot ??= {
    js: fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return uplot;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
/** Script text that cannot end its <script> element early. */
const inScript = (s: string): string => s.replace(/<\/(script)/gi, '<\\/$1');

export function buildReport(a: Analysis, meta: ReportMeta): string {
  const { js, css } = uplotAssets();
  const data = JSON.stringify(pageData(a, meta)).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(meta.title)}</title>
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head><body>
<script id="picket-data" type="application/json">${data}</script>
<script>${inScript(js)}</script>
<script>${inScript(PAGE_SCRIPT)}</script>
</body></html>
`;
}
