/**
 * The analyst's view of one run: who scanned us, what answered, who inside looked us up on intel services, and
 * how healthy the decode was, built from the documents picket wrote (alerts and the final counters). The end-of-run
 * summary (src/cli/summary.ts) and `picket report` (src/report/html.ts) both read this, so the two cannot disagree.
 *
 * Documents come one at a time (a live run never holds them all); every table is bounded by `maxKeys` rows, and
 * what did not fit is counted in `overflow`, never silently dropped.
 */
import type { EcsDoc } from '../alert/ecs';
import { docField } from '../output/text';
import type { Output } from '../output/writer';

export interface ScannerRow {
  source: string;
  /** Every tool its alerts named (threat.software.name), in the order first named, comma-separated. */
  tool: string;
  /** The last fingerprint confidence a scan alert carried. */
  confidence: string;
  /** rule.id of every scan-family alert of this source, sorted. */
  kinds: string[];
  /** The largest counts any one document of this source reported (scan counts grow over an episode). */
  hosts: number;
  ports: number;
  attempts: number;
  outcomes: Record<string, number>;
  /** Services that answered the scanner (picket.scan.learned). */
  learned: string[];
  sampleHosts: string[];
  samplePorts: string[];
  first: string;
  last: string;
  severity: number;
  severityReasons: string[];
  research: boolean;
  docs: number;
}

export interface LookupRow {
  client: string;
  indicators: string[];
  services: string[];
  protocols: string[];
  /** Sightings: each first alert counts 1, an update adds its repeats (picket.count - 1). */
  count: number;
  first: string;
  last: string;
  docs: number;
}

export interface IncidentRow {
  id: string;
  source: string;
  kinds: string[];
  tool: string;
  first: string;
  last: string;
  severity: number;
  docs: number;
  /** The first documents of the incident, as written (at most docsPerIncident). */
  sample: EcsDoc[];
}

export interface Health {
  packets: number;
  bytes: number;
  files: number;
  filesTruncated: number;
  filesDamaged: number;
  decodeErrors: number;
  decode: Record<string, number>;
  /** Per interface (live capture only): received and drops. */
  capture: Record<string, Record<string, number>>;
  scanSourcesEvicted: number;
  streamsEvicted: number;
}

/**
 * Host by port for the largest scans: a cell counts the scanners among `sources` whose sampled hosts and sampled
 * ports include it (alerts carry samples, not every target); `answered` lists the cells a scanner was answered on.
 */
export interface HeatMap {
  sources: string[];
  hosts: string[];
  ports: string[];
  /** cells[h][p] */
  cells: number[][];
  answered: Array<[number, number]>;
}

const TOP = 20;
const HEAT_SCANS = 8;
const HEAT_AXIS = 24;

/** "10.90.0.1:443/tcp" -> ["10.90.0.1", "tcp/443"] */
export function learnedPair(s: string): [string, string] | null {
  const m = /^(.*):(\d+)\/(\w+)$/.exec(s);
  return m === null ? null : [m[1].replace(/^\[|\]$/g, ''), `${m[3]}/${m[2]}`];
}

function ranked(counts: Map<string, number>): Array<[string, number]> {
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP);
}

function targetsOf(s: ScannerRow): { hosts: Set<string>; ports: Set<string>; answered: Array<[string, string]> } {
  const answered = s.learned.map(learnedPair).filter((p): p is [string, string] => p !== null);
  return { hosts: new Set([...s.sampleHosts, ...answered.map((a) => a[0])]), ports: new Set([...s.samplePorts, ...answered.map((a) => a[1])]), answered };
}

function heatMap(scanners: ScannerRow[]): HeatMap {
  const top = [...scanners].sort((a, b) => b.attempts - a.attempts || (a.source < b.source ? -1 : 1)).slice(0, HEAT_SCANS);
  const hostN = new Map<string, number>();
  const portN = new Map<string, number>();
  const t = top.map(targetsOf);
  for (const x of t) {
    for (const h of x.hosts) hostN.set(h, (hostN.get(h) ?? 0) + 1);
    for (const p of x.ports) portN.set(p, (portN.get(p) ?? 0) + 1);
  }
  const axis = (m: Map<string, number>): string[] => [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, HEAT_AXIS).map((e) => e[0]);
  const hosts = axis(hostN);
  const ports = axis(portN);
  const cells = hosts.map((h) => ports.map((p) => t.filter((x) => x.hosts.has(h) && x.ports.has(p)).length));
  const answered: Array<[number, number]> = [];
  for (const x of t) {
    for (const [h, p] of x.answered) {
      const hi = hosts.indexOf(h);
      const pi = ports.indexOf(p);
      if (hi >= 0 && pi >= 0 && !answered.some((a) => a[0] === hi && a[1] === pi)) answered.push([hi, pi]);
    }
  }
  return { sources: top.map((s) => s.source), hosts, ports, cells, answered };
}

export interface Analysis {
  alerts: number;
  documents: number;
  byRule: Record<string, number>;
  first: string | null;
  last: string | null;
  versions: string[];
  /** Rule files named by the alerts (intel lists, fingerprints, signatures), without line numbers. */
  ruleFiles: string[];
  scanners: ScannerRow[];
  lookups: LookupRow[];
  incidents: IncidentRow[];
  /** Intel lookups bucketed over time: [bucket start ISO, client, indicator, sightings]. */
  lookupSeries: Array<[string, string, string, number]>;
  /** Hosts and ports named by scanners (samples and answered services), ranked by how many scanners named them. */
  targets: Array<[string, number]>;
  ports: Array<[string, number]>;
  heat: HeatMap;
  health: Health | null;
  /** Rows not kept because a table was full, by table. */
  overflow: Record<string, number>;
  /** Lines that were not documents (report input only). */
  unreadable: number;
}

export interface AnalysisLimits {
  maxKeys: number;
  docsPerIncident: number;
  /** Documents kept over all incidents (first come, a quarter per severity band), so that memory stays bounded. */
  maxSampleDocs: number;
  /** Width of a lookupSeries bucket, seconds. */
  bucketSeconds: number;
}

export const SUMMARY_LIMITS: AnalysisLimits = { maxKeys: 10_000, docsPerIncident: 0, maxSampleDocs: 0, bucketSeconds: 60 };

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const minIso = (a: string, b: string): string => (a === '' || (b !== '' && b < a) ? b : a);
const maxIso = (a: string, b: string): string => (b > a ? b : a);

function addAll(set: string[], items: Iterable<string>, cap = 64): void {
  for (const i of items) if (i !== '' && !set.includes(i) && set.length < cap) set.push(i);
}

/** The family an alert belongs to, from its rule id. */
export function family(ruleId: string): 'scan' | 'intel' | 'probe' | 'dns' | 'other' {
  const f = ruleId.split('.')[0];
  return f === 'scan' || f === 'intel' || f === 'probe' || f === 'dns' ? f : 'other';
}

/**
 * Which incident a document belongs to: picket.incident.id when the document carries one; otherwise one incident
 * per scanning source (a distributed scan: per target host), per intel client and indicator, per probing source,
 * and per DNS-recon client and kind.
 */
export function incidentKey(doc: EcsDoc): string {
  const given = docField(doc, 'picket.incident.id');
  if (given !== undefined && given !== null && given !== '') return String(given);
  const rule = str(docField(doc, 'rule.id'));
  const src = str(docField(doc, 'source.ip'));
  switch (family(rule)) {
    case 'scan':
      return rule === 'scan.distributed' ? `scan.distributed/${str(docField(doc, 'destination.ip'))}` : `scan/${src}`;
    case 'intel':
      return `intel/${src}/${str(docField(doc, 'picket.intel.indicator'))}`;
    case 'probe':
      return `probe/${src}`;
    default:
      return `${rule}/${src}`;
  }
}

/** The service an intel indicator belongs to: the list entry's description up to its colon ("Shodan"). */
function serviceOf(doc: EcsDoc): string {
  const d = str(docField(doc, 'picket.intel.description'));
  const i = d.indexOf(':');
  return i > 0 ? d.slice(0, i) : d;
}

function ruleFile(v: unknown): string {
  const s = str(v);
  return s.replace(/:\d+$/, '');
}

export interface Analyzer {
  add(doc: EcsDoc): void;
  /** A line of input that was not a JSON document. */
  unreadable(): void;
  result(): Analysis;
}

export function createAnalyzer(limits: AnalysisLimits = SUMMARY_LIMITS): Analyzer {
  const scanners = new Map<string, ScannerRow>();
  const lookups = new Map<string, LookupRow>();
  const incidents = new Map<string, IncidentRow>();
  const series = new Map<string, number>();
  const byRule: Record<string, number> = {};
  const overflow: Record<string, number> = {};
  const versions = new Set<string>();
  const ruleFiles = new Set<string>();
  let alerts = 0;
  let documents = 0;
  let unreadable = 0;
  const sampled = [0, 0, 0, 0];
  let first = '';
  let last = '';
  let health: Health | null = null;

  const row = <T>(m: Map<string, T>, key: string, table: string, make: () => T): T | null => {
    let r = m.get(key);
    if (r === undefined) {
      if (m.size >= limits.maxKeys) {
        overflow[table] = (overflow[table] ?? 0) + 1;
        return null;
      }
      r = make();
      m.set(key, r);
    }
    return r;
  };

  function stats(doc: EcsDoc): void {
    const st = docField(doc, 'picket.stats') as Record<string, unknown> | undefined;
    if (st === undefined || st === null || typeof st !== 'object') return;
    const h: Health = health ?? {
      packets: 0, bytes: 0, files: 0, filesTruncated: 0, filesDamaged: 0, decodeErrors: 0, decode: {}, capture: {}, scanSourcesEvicted: 0, streamsEvicted: 0,
    };
    // Several runs concatenated into one report: their counters add up.
    h.packets += num(st.packets);
    h.bytes += num(st.bytes);
    h.files += num(st.files);
    h.filesTruncated += num(st.files_truncated);
    h.filesDamaged += num(st.files_damaged) + num(st.files_corrupt);
    h.decodeErrors += num(st.decode_errors);
    h.scanSourcesEvicted += num(st.scan_sources_evicted);
    h.streamsEvicted += num(st.streams_evicted);
    for (const [k, v] of Object.entries((st.decode ?? {}) as Record<string, unknown>)) h.decode[k] = (h.decode[k] ?? 0) + num(v);
    for (const [iface, c] of Object.entries((st.capture ?? {}) as Record<string, Record<string, unknown>>)) {
      const t = (h.capture[iface] ??= {});
      for (const [k, v] of Object.entries(c)) t[k] = (t[k] ?? 0) + num(v);
    }
    health = h;
  }

  function scan(doc: EcsDoc, rule: string, src: string, start: string, end: string, severity: number): void {
    if (rule === 'scan.distributed') return; // many sources against one host: an incident of its own, not a scanner row
    const r = row(scanners, src, 'scanners', () => ({
      source: src, tool: '', confidence: '', kinds: [], hosts: 0, ports: 0, attempts: 0, outcomes: {}, learned: [], sampleHosts: [], samplePorts: [],
      first: start, last: end, severity: 0, severityReasons: [], research: false, docs: 0,
    }));
    if (r === null) return;
    r.docs++;
    addAll(r.kinds, [rule]);
    r.kinds.sort();
    const tool = str(docField(doc, 'threat.software.name'));
    if (tool !== '' && !r.tool.split(',').includes(tool)) r.tool = r.tool === '' ? tool : `${r.tool},${tool}`;
    const conf = str(docField(doc, 'picket.fingerprint.confidence'));
    if (conf !== '') r.confidence = conf;
    r.hosts = Math.max(r.hosts, num(docField(doc, 'picket.scan.hosts')));
    r.ports = Math.max(r.ports, num(docField(doc, 'picket.scan.ports')));
    r.attempts = Math.max(r.attempts, num(docField(doc, 'picket.scan.attempts')));
    const outcomes = docField(doc, 'picket.scan.outcomes');
    if (outcomes !== null && typeof outcomes === 'object') {
      for (const [k, v] of Object.entries(outcomes as Record<string, unknown>)) r.outcomes[k] = Math.max(r.outcomes[k] ?? 0, num(v));
    }
    addAll(r.learned, strs(docField(doc, 'picket.scan.learned')));
    addAll(r.sampleHosts, strs(docField(doc, 'picket.scan.sample_hosts')), 32);
    addAll(r.samplePorts, strs(docField(doc, 'picket.scan.sample_ports')), 32);
    r.first = minIso(r.first, start);
    r.last = maxIso(r.last, end);
    r.severity = Math.max(r.severity, severity);
    addAll(r.severityReasons, strs(docField(doc, 'picket.severity_reasons')));
    if (docField(doc, 'picket.scan.research') === true) r.research = true;
  }

  function intel(doc: EcsDoc, rule: string, src: string, start: string, end: string): void {
    const r = row(lookups, src, 'lookups', () => ({ client: src, indicators: [], services: [], protocols: [], count: 0, first: start, last: end, docs: 0 }));
    if (r === null) return;
    const indicator = str(docField(doc, 'picket.intel.indicator'));
    const count = num(docField(doc, 'picket.count')) || 1;
    const sightings = docField(doc, 'picket.update') === true ? count - 1 : count;
    r.docs++;
    r.count += sightings;
    addAll(r.indicators, [indicator]);
    addAll(r.services, [serviceOf(doc)]);
    addAll(r.protocols, [str(docField(doc, 'network.protocol')) || rule.slice('intel.'.length)]);
    r.first = minIso(r.first, start);
    r.last = maxIso(r.last, end);
    const t = Date.parse(end !== '' ? end : start);
    if (Number.isFinite(t) && sightings > 0) {
      const b = new Date(Math.floor(t / 1000 / limits.bucketSeconds) * limits.bucketSeconds * 1000).toISOString();
      const key = `${b}\u0000${src}\u0000${indicator}`;
      if (series.has(key) || series.size < limits.maxKeys) series.set(key, (series.get(key) ?? 0) + sightings);
      else overflow.lookupSeries = (overflow.lookupSeries ?? 0) + 1;
    }
  }

  return {
    unreadable: () => void unreadable++,
    add(doc) {
      documents++;
      const version = str(docField(doc, 'observer.version'));
      if (version !== '') versions.add(version);
      const kind = docField(doc, 'event.kind');
      if (kind === 'metric') {
        stats(doc);
        return;
      }
      if (kind !== 'alert') return;
      alerts++;
      const rule = str(docField(doc, 'rule.id'));
      byRule[rule] = (byRule[rule] ?? 0) + 1;
      const src = str(docField(doc, 'source.ip'));
      const start = str(docField(doc, 'event.start') ?? docField(doc, '@timestamp'));
      const end = str(docField(doc, 'event.end') ?? start);
      const severity = num(docField(doc, 'event.severity'));
      first = minIso(first, start);
      last = maxIso(last, end);
      for (const f of ['picket.intel.source', 'picket.fingerprint.rule', 'picket.signature.rule']) {
        const file = ruleFile(docField(doc, f));
        if (file !== '' && ruleFiles.size < 256) ruleFiles.add(file);
      }
      const fam = family(rule);
      if (fam === 'scan') scan(doc, rule, src, start, end, severity);
      else if (fam === 'intel') intel(doc, rule, src, start, end);

      const inc = row(incidents, incidentKey(doc), 'incidents', () => ({
        id: incidentKey(doc), source: src, kinds: [], tool: '', first: start, last: end, severity: 0, docs: 0, sample: [],
      }));
      if (inc === null) return;
      inc.docs++;
      addAll(inc.kinds, [rule]);
      inc.kinds.sort();
      const tool = str(docField(doc, 'threat.software.name'));
      if (tool !== '') inc.tool = tool;
      inc.first = minIso(inc.first, start);
      inc.last = maxIso(inc.last, end);
      inc.severity = Math.max(inc.severity, severity);
      // A quarter of the budget per severity band (low, medium, high, critical), so that the first medium
      // alerts of a long input cannot leave a later high one without its documents.
      const band = severity >= 99 ? 3 : severity >= 73 ? 2 : severity >= 47 ? 1 : 0;
      if (inc.sample.length < limits.docsPerIncident && sampled[band] < limits.maxSampleDocs / 4) {
        inc.sample.push(doc);
        sampled[band]++;
      }
    },
    result() {
      const byTime = <T extends { first: string }>(a: T, b: T): number => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0);
      const sc = [...scanners.values()].sort(byTime);
      const hostN = new Map<string, number>();
      const portN = new Map<string, number>();
      for (const x of sc.map(targetsOf)) {
        for (const h of x.hosts) hostN.set(h, (hostN.get(h) ?? 0) + 1);
        for (const p of x.ports) portN.set(p, (portN.get(p) ?? 0) + 1);
      }
      return {
        targets: ranked(hostN), ports: ranked(portN), heat: heatMap(sc),
        alerts, documents, byRule, first: first === '' ? null : first, last: last === '' ? null : last,
        versions: [...versions].sort(), ruleFiles: [...ruleFiles].sort(),
        scanners: sc,
        lookups: [...lookups.values()].sort(byTime),
        incidents: [...incidents.values()].sort(byTime),
        lookupSeries: [...series.entries()].map(([k, n]) => {
          const [b, c, i] = k.split('\u0000');
          return [b, c, i, n] as [string, string, string, number];
        }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
        health, overflow, unreadable,
      };
    },
  };
}

/**
 * The output with an analyzer on it (the end-of-run summary's tables) when the analysis will be printed, and the
 * output alone otherwise: under an alert storm the analysis cost 5 us a document that nobody would read.
 */
export function analysedOutput(out: Output, analyse: boolean): { out: Output; analyzer: Analyzer | null } {
  if (!analyse) return { out, analyzer: null };
  const analyzer = createAnalyzer();
  return {
    analyzer,
    out: {
      write(doc) {
        out.write(doc);
        analyzer.add(doc);
      },
      flush: () => out.flush(),
      close: () => out.close(),
      written: () => out.written(),
    },
  };
}
