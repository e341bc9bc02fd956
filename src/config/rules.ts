import { ANALYZERS } from '../app/registry';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node, YAMLMap } from 'yaml';
import { assignNumbers, checkAllowedKeys, isMap, isScalar, isSeq, numberAt, parseDocument, RuleFile, scalarString, stringList } from './yaml-file';
import { loadFingerprints } from './fingerprints';
import type { Fingerprint } from '../scan/fingerprint';
import { loadSignatures } from './signatures';
import type { Signature } from '../recon/signatures';
import { PicketError } from '../errors';
import { DIRECTIONS } from '../core/scan-record';
import { parseHomeNet, type HomeNet } from './homenet';
import { buildDomainIndex, normaliseDomain, SEVERITIES, type DomainIndex, type IntelEntry, type Severity } from '../intel/domains';
import type { AllowEntry } from '../alert/allowlist';
import { DOMAIN_RE, isZeekIntel, loadPlainList, loadZeekIntel } from '../intel/lists';
import { DEFAULT_PARTITIONS } from '../fleet/partition';
import { DEFAULT_GENEVE_PORT, DEFAULT_MAX_TUNNEL_DEPTH, DEFAULT_VXLAN_PORT } from '../core/packet';

/** Policy: every threshold and window that decides what becomes an alert, with its documented default. */
export interface Policy {
  intel: {
    /** Repeats of one (client, entry, rule) within this many seconds of packet time fold into one alert. */
    repeatWindow: number;
    /** At most this many (client, entry, rule) aggregations are held; the least recently seen is closed first. */
    maxTracked: number;
    /** A DNS answer ties an address to an intel name for this client for this long (intel.conn). */
    resolvedWindow: number;
    /** At most this many (client, address) ties are held, per thread. */
    maxResolved: number;
  };
  scan: ScanPolicy;
  dnsRecon: DnsReconPolicy;
  /** A fleet sensor's scan summaries (native-notes/fleet.md). */
  fleet: {
    /** Seconds of packet time between summaries of the sources that changed (and when a source closes). */
    summaryInterval: number;
    /** The least failed targets (or ICMP-probed hosts) a source has before it is summarised at all. */
    summaryMinTargets: number;
    /** Partitions of the summaries by source (subjects picket.summaries.<partition>.<sensor>); sensors and correlate agree. */
    partitions: number;
    /** Seconds a correlate instance's lease on a partition lasts without renewal (then another instance takes it). */
    lease: number;
  };
  /** rules/signatures.yaml: repeats of one (client, rule, tool) within this window fold into one alert. */
  probe: { repeatWindow: number };
  /** Application protocols' settings (AnalyzerSpec.settings), by protocol and setting name; defaults filled in. */
  app: Record<string, Record<string, number>>;
  /** Tunnels decoded (src/decode/tunnel.ts): the UDP destination ports of VXLAN and GENEVE, and the nesting bound. */
  tunnels: { vxlanPorts: number[]; genevePorts: number[]; maxDepth: number };
}

/** rules/dns-recon.yaml: zone transfers, reverse-lookup sweeps and subdomain brute force (T1590.002). */
export interface DnsReconPolicy {
  /** One client's lookups under one parent are one episode while each comes within this long of the last. */
  window: number;
  /** An episode is summarised and restarted after this long. */
  maxAge: number;
  /** dns.ptr_sweep: distinct reverse names under one /24 (in-addr.arpa) or /64 (ip6.arpa). */
  ptrSweepAddresses: number;
  /** dns.bruteforce: distinct NXDOMAIN names directly under one parent domain. */
  bruteforceNames: number;
  /** An AXFR/IXFR with no response within this long is reported as unanswered. */
  axfrReplyTimeout: number;
  /** Open episodes held at once (least recently created summarised first). */
  maxTracked: number;
  /** Parents whose NXDOMAINs are ordinary (DNS blocklists that mail servers query for every peer), normalised. */
  ignoreParents: string[];
  /** Tools named by the transaction ids of their queries. */
  tools: DnsReconTool[];
}

export interface DnsReconTool {
  tool: string;
  rule: string;
  /** Every query's id is one of these, or each id is the previous one plus one. */
  transactionIds: number[] | 'sequential';
  minQueries: number;
  why: string;
  file: string;
  line: number;
}

export interface ScanThresholds {
  sweepHosts: number;
  sweepMaxPorts: number;
  portPorts: number;
  mixedHosts: number;
  mixedPorts: number;
  pingHosts: number;
  slowMinTargets: number;
  slowMinDuration: number;
  slowMinInterval: number;
  distributedSources: number;
  distributedPorts: number;
  decoyMinPorts: number;
  udpPortPorts: number;
  udpClosedPorts: number;
}

export type Sensitivity = 'low' | 'medium' | 'high';
export const SENSITIVITIES: readonly Sensitivity[] = ['low', 'medium', 'high'];

export interface ScanPolicy {
  sensitivity: Sensitivity;
  directions: string[];
  presets: Record<Sensitivity, ScanThresholds>;
  replyTimeout: number;
  idleExpiry: number;
  slowIdleExpiry: number;
  maxAge: number;
  maxSources: number;
  maxTargetsPerSource: number;
  maxPending: number;
  decoyWindow: number;
  maxTargetHosts: number;
  maxExactEntries: number;
  /** A scan's severity goes up a level at this many hosts or this many (host, port) targets. */
  /** scan.slow: the most of a source's probes that may come quicker than slow_min_interval after the previous one. */
  slowMaxQuickShare: number;
  severityLargeHosts: number;
  severityLargeTargets: number;
  /** Published ranges of internet measurement projects (rules/research-scanners.yaml): their scans go out at low. */
  research: ResearchScanner[];
}

/** One research scanner's entry: who, the ranges it publishes, where and when that was read. */
export interface ResearchScanner {
  name: string;
  ranges: HomeNet;
  source: string;
  date: string;
  file: string;
  line: number;
}

const MEDIUM: ScanThresholds = {
  sweepHosts: 25, sweepMaxPorts: 3, portPorts: 15, mixedHosts: 5, mixedPorts: 5, pingHosts: 15, slowMinTargets: 10, slowMinDuration: 60, slowMinInterval: 1,
  distributedSources: 10, distributedPorts: 15, decoyMinPorts: 10, udpPortPorts: 5, udpClosedPorts: 2,
};

/** fleet.partitions' bound: each partition is a durable consumer and a lease a correlate instance renews. */
export const MAX_PARTITIONS = 1024;

export const DEFAULT_POLICY: Policy = {
  probe: { repeatWindow: 3600 },
  tunnels: { vxlanPorts: [DEFAULT_VXLAN_PORT], genevePorts: [DEFAULT_GENEVE_PORT], maxDepth: DEFAULT_MAX_TUNNEL_DEPTH },
  fleet: { summaryInterval: 10, summaryMinTargets: 2, partitions: DEFAULT_PARTITIONS, lease: 10 },
  app: Object.fromEntries(ANALYZERS.map((a) => [a.name, Object.fromEntries(Object.entries(a.settings ?? {}).map(([k, v]) => [k, v.default]))])),
  // rules/dns-recon.yaml sets every value; these only stand when no dns-recon-policy file is loaded.
  dnsRecon: { window: 600, maxAge: 3600, ptrSweepAddresses: 32, bruteforceNames: 40, axfrReplyTimeout: 5, maxTracked: 20000, ignoreParents: [], tools: [] },
  intel: { repeatWindow: 3600, maxTracked: 100000, resolvedWindow: 3600, maxResolved: 100000 },
  // rules/scan.yaml sets every value; these only stand when no scan-policy file is loaded at all.
  scan: {
    sensitivity: 'medium', directions: ['inbound', 'internal'], presets: { low: MEDIUM, medium: MEDIUM, high: MEDIUM },
    replyTimeout: 5, idleExpiry: 900, slowIdleExpiry: 3600, maxAge: 86400, maxSources: 50000, maxTargetsPerSource: 4096, maxPending: 50000,
    decoyWindow: 60, maxTargetHosts: 50000, maxExactEntries: 1_000_000, slowMaxQuickShare: 0.1, severityLargeHosts: 256, severityLargeTargets: 1024, research: [],
  },
};

export interface Rules {
  allow: AllowEntry[];
  /** Deduplicated (a later file's entry replaces an earlier one); observations refer to entries by position here. */
  intel: DomainIndex;
  policy: Policy;
  /** Scanner fingerprints in file order (the first that matches a probe wins); probes refer to them by position. */
  fingerprints: Fingerprint[];
  /** Probe signatures in file order; observations refer to them by position. */
  signatures: Signature[];
  files: string[];
}

/** Where the bundled rules live: the package's own rules/ folder. */
export const BUNDLED_RULES_DIR = path.resolve(__dirname, '..', '..', '..', 'rules');

const TECHNIQUE_RE = /^T\d{4}(\.\d{3})?$/;

/**
 * Loads every rules file under each directory (bundled first, then the user's), in name order: YAML (*.yaml,
 * *.yml) by its kind, and intel lists as they are (*.txt, *.list: one indicator a line; *.intel, *.tsv: Zeek).
 */
export function loadRules(dirs: string[], read: (file: string) => string = readRuleFile, list: (dir: string) => string[] = listRuleFiles): Rules {
  const policy = structuredClone(DEFAULT_POLICY);
  const intel: IntelEntry[] = [];
  const files: string[] = [];
  const allow: AllowEntry[] = [];
  let fingerprints: Fingerprint[] = [];
  const signatures: Signature[] = [];
  for (const dir of dirs) {
    // A later directory's fingerprints go first: the first match wins, so users can override the bundled ones.
    const ours: Fingerprint[] = [];
    for (const file of list(dir)) {
      loadRuleFile(file, read(file), { intel, policy, allow, fingerprints: ours, signatures });
      files.push(file);
    }
    fingerprints = [...ours, ...fingerprints];
  }
  return { intel: buildDomainIndex(intel), policy, files, allow, fingerprints, signatures };
}

/** The rule files under a directory, in the order they load (name order, subdirectories in place). */
export function listRuleFiles(dir: string): string[] {
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new PicketError(`${dir}: rules directory not found`);
  }
  if (!st.isDirectory()) throw new PicketError(`${dir}: not a directory (--rules takes a directory of rule files)`);
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(d, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (/\.(ya?ml|txt|list|intel|tsv)$/.test(ent.name)) out.push(full);
    }
  };
  walk(dir);
  return out;
}

/** What rule files add to as they are read. */
interface RulesUnderConstruction {
  intel: IntelEntry[];
  policy: Policy;
  allow: AllowEntry[];
  fingerprints: Fingerprint[];
  signatures: Signature[];
}

/** A rule file's text; an unreadable file stops start-up naming it. */
export function readRuleFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PicketError(`${file}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

function loadRuleFile(file: string, text: string, into: RulesUnderConstruction): void {
  const { intel, policy, allow } = into;
  // Lists load as they are: Zeek intel TSV (by its #fields header) and plain one-per-line lists.
  if (!/\.ya?ml$/.test(file)) {
    if (isZeekIntel(text)) loadZeekIntel(file, text, intel);
    else loadPlainList(file, text, intel);
    return;
  }
  const rf: RuleFile = new RuleFile(file);
  const doc = parseDocument(text, rf);
  const root = doc.contents;
  if (!isMap(root)) rf.fail(root, 'a rules file is a mapping with a "kind" key');
  const kind = scalarString(rf, root, 'kind', true);
  switch (kind) {
    case 'intel-domains':
      loadIntelDomains(rf, root, intel);
      break;
    case 'policy':
      loadPolicy(rf, root, policy);
      break;
    case 'allowlist':
      loadAllowlist(rf, root, allow);
      break;
    case 'scan-policy':
      loadScanPolicy(rf, root, policy.scan);
      break;
    case 'dns-recon-policy':
      loadDnsReconPolicy(rf, root, policy.dnsRecon);
      break;
    case 'scanner-fingerprints':
      loadFingerprints(rf, root, into.fingerprints);
      break;
    case 'probe-signatures':
      loadSignatures(rf, root, into.signatures, policy.probe);
      break;
    case 'research-scanners':
      loadResearchScanners(rf, root, policy.scan.research);
      break;
    default:
      rf.fail(root.get('kind', true) as Node, `unknown kind "${kind}" (known: intel-domains, policy, allowlist, scan-policy, dns-recon-policy, scanner-fingerprints, probe-signatures, research-scanners)`);
  }
}

function severity(rf: RuleFile, map: YAMLMap, key: string, fallback: Severity): Severity {
  const v = scalarString(rf, map, key, false);
  if (v === '') return fallback;
  if (!(SEVERITIES as readonly string[]).includes(v)) rf.fail(map.get(key, true) as Node, `"${key}" must be one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
}

function loadIntelDomains(rf: RuleFile, root: YAMLMap, intel: IntelEntry[]): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'defaults', 'domains']);
  const defaultsNode = root.get('defaults', true) as Node | undefined;
  const defaults = { category: 'ip-intel', severity: 'medium' as Severity, confidence: 'medium' as Severity, technique: 'T1590.005' };
  if (defaultsNode !== undefined) {
    if (!isMap(defaultsNode)) rf.fail(defaultsNode, '"defaults" must be a mapping');
    checkAllowedKeys(rf, defaultsNode, ['category', 'severity', 'confidence', 'technique']);
    defaults.category = scalarString(rf, defaultsNode, 'category', false) || defaults.category;
    defaults.severity = severity(rf, defaultsNode, 'severity', defaults.severity);
    defaults.confidence = severity(rf, defaultsNode, 'confidence', defaults.confidence);
    defaults.technique = techniqueOf(rf, defaultsNode, defaults.technique);
  }
  const list = root.get('domains', true) as Node | undefined;
  if (!isSeq(list)) rf.fail(list ?? root, '"domains" must be a list');
  for (const item of list.items as Node[]) {
    let domainNode: Node = item;
    let entry: IntelEntry;
    if (isScalar(item)) {
      entry = { indicator: String(item.value), type: 'domain', ...defaults, description: '', source: rf.file, line: rf.line(item) };
    } else if (isMap(item)) {
      checkAllowedKeys(rf, item, ['domain', 'category', 'severity', 'confidence', 'technique', 'description']);
      domainNode = (item.get('domain', true) as Node | undefined) ?? item;
      entry = {
        indicator: scalarString(rf, item, 'domain', true),
        type: 'domain',
        category: scalarString(rf, item, 'category', false) || defaults.category,
        severity: severity(rf, item, 'severity', defaults.severity),
        confidence: severity(rf, item, 'confidence', defaults.confidence),
        technique: techniqueOf(rf, item, defaults.technique),
        description: scalarString(rf, item, 'description', false),
        source: rf.file,
        line: rf.line(item),
      };
    } else {
      rf.fail(item, 'a domain entry is a name or a mapping with "domain"');
    }
    entry.indicator = normaliseDomain(entry.indicator.trim());
    if (!DOMAIN_RE.test(entry.indicator)) rf.fail(domainNode, `"${entry.indicator}" is not a domain name`);
    intel.push(entry);
  }
}

function techniqueOf(rf: RuleFile, map: YAMLMap, fallback: string): string {
  const t = scalarString(rf, map, 'technique', false);
  if (t === '') return fallback;
  if (!TECHNIQUE_RE.test(t)) rf.fail(map.get('technique', true) as Node, `"technique" must be a MITRE ATT&CK id such as T1590.005`);
  return t;
}

function loadPolicy(rf: RuleFile, root: YAMLMap, policy: Policy): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'intel', 'app', 'tunnels', 'fleet']);
  loadAppSettings(rf, root, policy);
  loadTunnels(rf, root, policy);
  const fleet = root.get('fleet', true) as Node | undefined;
  if (fleet !== undefined) {
    if (!isMap(fleet)) rf.fail(fleet, '"fleet" must be a mapping');
    checkAllowedKeys(rf, fleet, ['summary_interval', 'summary_min_targets', 'partitions', 'lease']);
    assignNumbers(rf, fleet, policy.fleet, [
      ['summary_interval', 'summaryInterval', 'duration'], ['summary_min_targets', 'summaryMinTargets', 'count'], ['partitions', 'partitions', 'count'], ['lease', 'lease', 'duration'],
    ]);
    if (policy.fleet.partitions > MAX_PARTITIONS) rf.fail(fleet.get('partitions', true) as Node, `"partitions" is at most ${MAX_PARTITIONS}`);
    if (policy.fleet.lease < 3) rf.fail(fleet.get('lease', true) as Node, '"lease" is at least 3s (renewed every third of it)');
  }
  const intel = root.get('intel', true) as Node | undefined;
  if (intel === undefined) return;
  if (!isMap(intel)) rf.fail(intel, '"intel" must be a mapping');
  checkAllowedKeys(rf, intel, ['repeat_window', 'max_tracked', 'resolved_window', 'max_resolved']);
  assignNumbers(rf, intel, policy.intel, [
    ['repeat_window', 'repeatWindow', 'duration'], ['resolved_window', 'resolvedWindow', 'duration'],
    ['max_tracked', 'maxTracked', 'count'], ['max_resolved', 'maxResolved', 'count'],
  ]);
}

/** `tunnels: { vxlan_ports: [..], geneve_ports: [..], max_depth: N }`: a port carries one kind of tunnel. */
function loadTunnels(rf: RuleFile, root: YAMLMap, policy: Policy): void {
  const node = root.get('tunnels', true) as Node | undefined;
  if (node === undefined) return;
  if (!isMap(node)) rf.fail(node, '"tunnels" must be a mapping');
  checkAllowedKeys(rf, node, ['vxlan_ports', 'geneve_ports', 'max_depth']);
  const t = { ...policy.tunnels };
  for (const [key, field] of [['vxlan_ports', 'vxlanPorts'], ['geneve_ports', 'genevePorts']] as const) {
    if (node.get(key, true) === undefined) continue;
    const ports = stringList(rf, node, key).map(Number);
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) rf.fail(node.get(key, true) as Node, `"tunnels.${key}" must be a list of port numbers (1-65535)`);
    t[field] = ports;
  }
  const both = t.vxlanPorts.find((p) => t.genevePorts.includes(p));
  if (both !== undefined) rf.fail(node, `port ${both} is in both "tunnels.vxlan_ports" and "tunnels.geneve_ports"`);
  assignNumbers(rf, node, t, [['max_depth', 'maxDepth', 'count']]);
  policy.tunnels = t;
}

/** `app: { <protocol>: { <setting>: N } }`: only protocols and settings the analyzers declare. */
function loadAppSettings(rf: RuleFile, root: YAMLMap, policy: Policy): void {
  const app = root.get('app', true) as Node | undefined;
  if (app === undefined) return;
  if (!isMap(app)) rf.fail(app, '"app" must be a mapping of protocol names');
  checkAllowedKeys(rf, app, ANALYZERS.filter((a) => a.settings !== undefined).map((a) => a.name));
  for (const spec of ANALYZERS) {
    const node = app.get(spec.name, true) as Node | undefined;
    if (node === undefined || spec.settings === undefined) continue;
    if (!isMap(node)) rf.fail(node, `"app.${spec.name}" must be a mapping`);
    const settings = Object.entries(spec.settings);
    checkAllowedKeys(rf, node, settings.map(([k]) => k));
    policy.app[spec.name] = { ...policy.app[spec.name] };
    assignNumbers(rf, node, policy.app[spec.name], settings.map(([k, v]) => [k, k, v.kind] as const));
  }
}

function instant(rf: RuleFile, map: YAMLMap, key: string, open: number): number {
  const node = map.get(key, true) as Node | undefined;
  if (node === undefined) return open;
  const v = isScalar(node) ? String(node.value) : '';
  const t = Date.parse(v);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(v) || Number.isNaN(t)) {
    rf.fail(node, `"${key}" must be an ISO 8601 time with a zone, such as 2026-11-01T08:00:00Z`);
  }
  return t / 1000;
}

function loadAllowlist(rf: RuleFile, root: YAMLMap, allow: AllowEntry[]): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'entries']);
  const list = root.get('entries', true) as Node | undefined;
  if (!isSeq(list)) rf.fail(list ?? root, '"entries" must be a list');
  for (const item of list.items as Node[]) {
    if (!isMap(item)) rf.fail(item, 'an allowlist entry is a mapping');
    checkAllowedKeys(rf, item, ['source', 'rules', 'indicators', 'from', 'until', 'reason']);
    const reason = scalarString(rf, item, 'reason', true);
    const sources = stringList(rf, item, 'source');
    const rules = stringList(rf, item, 'rules');
    for (const r of rules) if (!/^[a-z0-9_.]+\*?$|^\*$/.test(r)) rf.fail(item.get('rules', true) as Node, `"${r}" is not a rule id or a prefix pattern such as intel.*`);
    const entry: AllowEntry = {
      sources: sources.length === 0 ? null : parseHomeNet(sources.join(','), `${rf.file}:${rf.line(item.get('source', true) as Node)}`),
      rules: rules.includes('*') ? [] : rules,
      indicators: stringList(rf, item, 'indicators').map(normaliseDomain),
      from: instant(rf, item, 'from', -Infinity),
      until: instant(rf, item, 'until', Infinity),
      reason,
      source: rf.file,
      line: rf.line(item),
    };
    if (entry.sources === null && entry.rules.length === 0 && entry.indicators.length === 0 && !Number.isFinite(entry.from) && !Number.isFinite(entry.until)) {
      rf.fail(item, 'an entry that names no source, rule, indicator or window would allow everything');
    }
    if (entry.from >= entry.until) rf.fail(item, '"from" must be before "until"');
    allow.push(entry);
  }
}

const THRESHOLD_KEYS: ReadonlyArray<readonly [string, keyof ScanThresholds, 'count' | 'duration']> = [
  ['sweep_hosts', 'sweepHosts', 'count'], ['sweep_max_ports', 'sweepMaxPorts', 'count'], ['port_ports', 'portPorts', 'count'],
  ['mixed_hosts', 'mixedHosts', 'count'], ['mixed_ports', 'mixedPorts', 'count'], ['ping_hosts', 'pingHosts', 'count'],
  ['slow_min_targets', 'slowMinTargets', 'count'], ['slow_min_duration', 'slowMinDuration', 'duration'], ['slow_min_interval', 'slowMinInterval', 'duration'],
  ['distributed_sources', 'distributedSources', 'count'], ['distributed_ports', 'distributedPorts', 'count'], ['decoy_min_ports', 'decoyMinPorts', 'count'],
  ['udp_port_ports', 'udpPortPorts', 'count'], ['udp_closed_ports', 'udpClosedPorts', 'count'],
];

function loadScanPolicy(rf: RuleFile, root: YAMLMap, scan: ScanPolicy): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'sensitivity', 'directions', 'presets', 'reply_timeout', 'idle_expiry', 'slow_idle_expiry',
    'max_age', 'max_sources', 'max_targets_per_source', 'max_pending_attempts', 'decoy_window', 'max_target_hosts', 'max_exact_entries',
    'severity_large_hosts', 'severity_large_targets', 'slow_max_quick_share']);
  const sens = scalarString(rf, root, 'sensitivity', false);
  if (sens !== '') {
    if (!(SENSITIVITIES as readonly string[]).includes(sens)) rf.fail(root.get('sensitivity', true) as Node, `"sensitivity" must be one of ${SENSITIVITIES.join(', ')}`);
    scan.sensitivity = sens as Sensitivity;
  }
  const dirs = stringList(rf, root, 'directions');
  for (const d of dirs) if (!(DIRECTIONS as readonly string[]).includes(d)) rf.fail(root.get('directions', true) as Node, `"${d}" is not a network.direction (${DIRECTIONS.join(', ')})`);
  if (dirs.length > 0) scan.directions = dirs;
  const presets = root.get('presets', true) as Node | undefined;
  if (presets !== undefined) {
    if (!isMap(presets)) rf.fail(presets, '"presets" must be a mapping of low, medium, high');
    checkAllowedKeys(rf, presets, [...SENSITIVITIES]);
    for (const level of SENSITIVITIES) {
      const p = presets.get(level, true) as Node | undefined;
      if (p === undefined) continue;
      if (!isMap(p)) rf.fail(p, `"${level}" must be a mapping of thresholds`);
      checkAllowedKeys(rf, p, THRESHOLD_KEYS.map(([k]) => k));
      const t: ScanThresholds = { ...scan.presets[level] };
      assignNumbers(rf, p, t, THRESHOLD_KEYS);
      scan.presets[level] = t;
    }
  }
  assignNumbers(rf, root, scan, [
    ['reply_timeout', 'replyTimeout', 'duration'], ['idle_expiry', 'idleExpiry', 'duration'], ['slow_idle_expiry', 'slowIdleExpiry', 'duration'],
    ['max_age', 'maxAge', 'duration'], ['max_sources', 'maxSources', 'count'], ['max_targets_per_source', 'maxTargetsPerSource', 'count'],
    ['max_pending_attempts', 'maxPending', 'count'], ['decoy_window', 'decoyWindow', 'duration'], ['max_target_hosts', 'maxTargetHosts', 'count'],
    ['max_exact_entries', 'maxExactEntries', 'count'], ['severity_large_hosts', 'severityLargeHosts', 'count'],
    ['severity_large_targets', 'severityLargeTargets', 'count'],
  ]);
  const share = root.get('slow_max_quick_share', true) as Node | undefined;
  if (share !== undefined) {
    const v = isScalar(share) ? Number(share.value) : NaN;
    if (!(v >= 0 && v <= 1)) rf.fail(share, '"slow_max_quick_share" must be a number from 0 to 1');
    scan.slowMaxQuickShare = v;
  }
}

/** rules/research-scanners.yaml (kind: research-scanners): each entry a project, its published ranges, source and date. */
function loadResearchScanners(rf: RuleFile, root: YAMLMap, out: ResearchScanner[]): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'scanners']);
  const list = root.get('scanners', true) as Node | undefined;
  if (!isSeq(list)) rf.fail(list ?? root, '"scanners" must be a list');
  for (const item of list.items as Node[]) {
    if (!isMap(item)) rf.fail(item, 'a research scanner is a mapping (name, ranges, source, date)');
    checkAllowedKeys(rf, item, ['name', 'ranges', 'source', 'date']);
    const ranges = stringList(rf, item, 'ranges');
    if (ranges.length === 0) rf.fail(item, '"ranges" must list the published addresses or CIDRs');
    let net: HomeNet;
    try {
      net = parseHomeNet(ranges.join(','), 'ranges', true);
    } catch (e) {
      rf.fail(item.get('ranges', true) as Node, (e as Error).message.replace(/^ranges: /, ''));
    }
    out.push({
      name: scalarString(rf, item, 'name', true), ranges: net, source: scalarString(rf, item, 'source', true), date: scalarString(rf, item, 'date', true),
      file: rf.file, line: rf.line(item),
    });
  }
}

function loadDnsReconPolicy(rf: RuleFile, root: YAMLMap, p: DnsReconPolicy): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'window', 'max_age', 'ptr_sweep_addresses', 'bruteforce_names', 'axfr_reply_timeout', 'max_tracked', 'ignore_parents', 'tools']);
  const tools = root.get('tools', true) as Node | undefined;
  if (tools !== undefined) {
    if (!isSeq(tools)) rf.fail(tools, '"tools" must be a list');
    p.tools = (tools.items as Node[]).map((item) => {
      if (!isMap(item)) rf.fail(item, 'a tool is a mapping (tool, rule, transaction_ids)');
      checkAllowedKeys(rf, item, ['tool', 'rule', 'transaction_ids', 'min_queries', 'why']);
      const rule = scalarString(rf, item, 'rule', true);
      if (!['dns.axfr', 'dns.ptr_sweep', 'dns.bruteforce'].includes(rule)) rf.fail(item.get('rule', true) as Node, '"rule" must be dns.axfr, dns.ptr_sweep or dns.bruteforce');
      const idsNode = item.get('transaction_ids', true) as Node | undefined;
      let transactionIds: number[] | 'sequential';
      if (isScalar(idsNode) && idsNode.value === 'sequential') transactionIds = 'sequential';
      else {
        transactionIds = stringList(rf, item, 'transaction_ids').map(Number);
        if (transactionIds.length === 0 || transactionIds.some((n) => !Number.isInteger(n) || n < 0 || n > 65535)) rf.fail(idsNode ?? item, '"transaction_ids" must be "sequential" or a list of ids from 0 to 65535');
      }
      return {
        tool: scalarString(rf, item, 'tool', true), rule, transactionIds, minQueries: numberAt(rf, item, 'min_queries', 'count') ?? 1,
        why: scalarString(rf, item, 'why', false), file: rf.file, line: rf.line(item),
      };
    });
  }
  assignNumbers(rf, root, p, [
    ['window', 'window', 'duration'], ['max_age', 'maxAge', 'duration'], ['ptr_sweep_addresses', 'ptrSweepAddresses', 'count'],
    ['bruteforce_names', 'bruteforceNames', 'count'], ['axfr_reply_timeout', 'axfrReplyTimeout', 'duration'], ['max_tracked', 'maxTracked', 'count'],
  ]);
  if (root.has('ignore_parents')) {
    const node = root.get('ignore_parents', true) as Node;
    p.ignoreParents = stringList(rf, root, 'ignore_parents').map((d) => {
      const n = normaliseDomain(d);
      if (!DOMAIN_RE.test(n)) rf.fail(node, `"${d}" in ignore_parents is not a domain name`);
      return n;
    });
  }
}
