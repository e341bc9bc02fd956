import type { ScanPolicy, ScanThresholds } from '../config/rules';
import type { ProbeObservation, ReplyObservation, ScanObservation } from '../engine/observation';
import { isoTime, observerFields, SEVERITY_SCORE, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { threatFields } from '../alert/mitre';

/** Public contract: rule.id values of scan alerts and their picket.branch labels. */
const SCAN_RULES = {
  sweep: { id: 'scan.sweep', name: 'Horizontal scan: one source, few ports, many hosts', branch: 'NetworkScanSweep' },
  port: { id: 'scan.port', name: 'Vertical scan: one source, many ports of one host', branch: 'NetworkScanPorts' },
  mixed: { id: 'scan.mixed', name: 'Scan of many hosts and many ports', branch: 'NetworkScanMixed' },
  ping: { id: 'scan.ping_sweep', name: 'Host discovery over many hosts (ping sweep)', branch: 'NetworkScanPingSweep' },
  slow: { id: 'scan.slow', name: 'Slow scan paced to stay under rate thresholds', branch: 'NetworkScanSlow' },
} as const;
type ScanKind = keyof typeof SCAN_RULES;

interface Pending {
  /** The prober's address: looked up when the attempt settles, so that a closed source is not kept alive by it. */
  src: string;
  dst: string;
  target: string;
  port: number;
  proto: string;
  ts: number;
}

/**
 * What one source has done since its scan began; sets are capped (counts go on past the caps) and created on
 * first use, since most sources of a flood or of ordinary traffic make one attempt and never need them.
 */
interface Source {
  ip: string;
  direction: string;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  attempts: number;
  answered: number;
  rejected: number;
  unreachable: number;
  unanswered: number;
  tcp: number;
  udp: number;
  icmp: number;
  /** Failed (host, port) targets, their hosts and ports, and distinct failed ports per host (vertical scans). */
  failed: { targets: Set<string>; hosts: Set<string>; ports: Set<string>; perHost: Map<string, number> } | null;
  maxPortsOneHost: number;
  maxPortsHost: string;
  pingHosts: Set<string> | null;
  learned: Set<string> | null;
  sampleHosts: string[];
  samplePorts: string[];
  /** For each kind alerted: the measure at the last alert (an update goes out when it doubles). */
  alerted: Map<ScanKind, number> | null;
}

const SAMPLES = 10;
const MAX_LEARNED = 256;
const SWEEP_EVERY_SEC = 30;

export interface ScanAggregator {
  observe(o: ScanObservation): void;
  finish(): void;
  /** Sources summarised early because max_sources was reached. */
  evictedSources(): number;
}

/**
 * The scan detector: connection attempts and their replies, from all workers in input order, kept per source
 * (bounded), judged against the policy's thresholds. One alert per source and kind when a threshold is crossed,
 * an update when the scan has doubled, and a summary (picket.final) when the source goes quiet or input ends.
 */
export function createScanAggregator(policy: ScanPolicy, observer: ObserverInfo, emit: (doc: EcsDoc) => void): ScanAggregator {
  const th: ScanThresholds = policy.presets[policy.sensitivity];
  const sources = new Map<string, Source>();
  const pending = new Map<string, Pending>();
  let lastSweep = -Infinity;
  let lastPendingSweep = -Infinity;
  let evicted = 0;

  function source(o: ProbeObservation): Source {
    // Sources are evicted oldest-created first (re-inserting on every probe to keep an exact recency order cost
    // more than it bought: eviction only happens under floods of new sources).
    let s = sources.get(o.srcIp);
    if (s !== undefined) return s;
    if (sources.size >= policy.maxSources) evictOldest();
    s = {
      ip: o.srcIp, direction: o.direction, firstSec: o.tsSec, firstNsec: o.tsNsec, lastSec: o.tsSec, lastNsec: o.tsNsec, attempts: 0,
      answered: 0, rejected: 0, unreachable: 0, unanswered: 0, tcp: 0, udp: 0, icmp: 0, failed: null, maxPortsOneHost: 0, maxPortsHost: '',
      pingHosts: null, learned: null, sampleHosts: [], samplePorts: [], alerted: null,
    };
    sources.set(o.srcIp, s);
    return s;
  }

  function seconds(s: Source): number {
    return s.lastSec - s.firstSec + (s.lastNsec - s.firstNsec) / 1e9;
  }

  function onProbe(o: ProbeObservation): void {
    if (!policy.directions.includes(o.direction)) return;
    const now = o.tsSec + o.tsNsec / 1e9;
    const s = source(o);
    s.attempts++;
    s.lastSec = o.tsSec;
    s.lastNsec = o.tsNsec;
    s[o.proto]++;
    const port = o.proto === 'icmp' ? `icmp/${o.icmpType}` : `${o.proto}/${o.dstPort}`;
    if (s.sampleHosts.length < SAMPLES && !s.sampleHosts.includes(o.dstIp)) s.sampleHosts.push(o.dstIp);
    if (s.samplePorts.length < SAMPLES && !s.samplePorts.includes(port)) s.samplePorts.push(port);
    if (o.proto === 'icmp') {
      s.pingHosts ??= new Set();
      if (s.pingHosts.size < policy.maxTargetsPerSource) s.pingHosts.add(o.dstIp);
      evaluate(s);
    }
    const key = `${o.srcIp}|${o.dstIp}|${o.proto}|${o.srcPort}|${o.dstPort}`;
    if (pending.has(key)) return; // a retransmitted probe
    if (pending.size >= policy.maxPending) expireOldestPending();
    pending.set(key, { src: o.srcIp, dst: o.dstIp, target: `${o.dstIp}|${port}`, port: o.dstPort, proto: o.proto, ts: now });
  }

  function onReply(o: ReplyObservation): void {
    const key = `${o.srcIp}|${o.dstIp}|${o.proto}|${o.srcPort}|${o.dstPort}`;
    const p = pending.get(key);
    if (p === undefined) return;
    settle(key);
    const src = sources.get(p.src);
    if (src === undefined) return;
    if (o.outcome === 'answered') {
      src.answered++;
      if (p.proto === 'icmp') return;
      src.learned ??= new Set();
      if (src.learned.size < MAX_LEARNED) src.learned.add(`${p.dst}:${p.port}/${p.proto}`);
      return;
    }
    failed(p, o.outcome);
  }

  /**
   * At the bounds, a tenth goes at once: a Map keeps deleted slots until it rehashes, so taking the oldest one
   * entry at a time would walk an ever longer run of them on every new source or attempt of a flood.
   */
  function evictOldest(): void {
    const n = Math.max(1, Math.floor(policy.maxSources / 10));
    const victims: Source[] = [];
    for (const s of sources.values()) {
      victims.push(s);
      if (victims.length === n) break;
    }
    for (const s of victims) close(s);
    evicted += victims.length;
  }

  function expireOldestPending(): void {
    const n = Math.max(1, Math.floor(policy.maxPending / 10));
    const victims: Array<[string, Pending]> = [];
    for (const e of pending) {
      victims.push(e);
      if (victims.length === n) break;
    }
    for (const [k, p] of victims) {
      settle(k);
      failed(p, 'unanswered');
    }
  }

  function settle(key: string): void {
    pending.delete(key);
  }

  function failed(p: Pending, outcome: 'rejected' | 'unreachable' | 'unanswered'): void {
    const s = sources.get(p.src);
    if (s === undefined) return; // its source was summarised already
    s[outcome]++;
    if (p.proto === 'icmp') return; // host discovery is judged on hosts probed, not on failures
    const f = (s.failed ??= { targets: new Set(), hosts: new Set(), ports: new Set(), perHost: new Map() });
    if (f.targets.size < policy.maxTargetsPerSource && !f.targets.has(p.target)) {
      f.targets.add(p.target);
      f.hosts.add(p.dst);
      f.ports.add(`${p.proto}/${p.port}`);
      const n = (f.perHost.get(p.dst) ?? 0) + 1;
      f.perHost.set(p.dst, n);
      if (n > s.maxPortsOneHost) {
        s.maxPortsOneHost = n;
        s.maxPortsHost = p.dst;
      }
    }
    evaluate(s);
  }

  /** The measure of a kind of scan that a source's counts amount to now, or 0 when they do not. */
  function measure(s: Source, kind: ScanKind): number {
    const hosts = s.failed?.hosts.size ?? 0;
    const ports = s.failed?.ports.size ?? 0;
    const targets = s.failed?.targets.size ?? 0;
    const pingHosts = s.pingHosts?.size ?? 0;
    const mixed = hosts >= th.mixedHosts && ports >= th.mixedPorts;
    switch (kind) {
      case 'ping':
        return pingHosts >= th.pingHosts ? pingHosts : 0;
      case 'mixed':
        return mixed ? targets : 0;
      case 'port':
        return !mixed && s.maxPortsOneHost >= th.portPorts ? s.maxPortsOneHost : 0;
      case 'sweep':
        // nmap -sn's TCP SYNs to port 443 are part of its host discovery, not a separate sweep.
        return !mixed && s.maxPortsOneHost < th.portPorts && hosts >= th.sweepHosts && ports <= th.sweepMaxPorts && !(pingHosts >= th.pingHosts && ports <= 2) ? hosts : 0;
      case 'slow': {
        const dur = seconds(s);
        return targets >= th.slowMinTargets && dur >= th.slowMinDuration && dur / Math.max(1, s.attempts - 1) >= th.slowMinInterval ? targets : 0;
      }
    }
  }

  const KINDS: readonly ScanKind[] = ['ping', 'mixed', 'port', 'sweep', 'slow'];

  function evaluate(s: Source): void {
    for (const kind of KINDS) {
      const m = measure(s, kind);
      if (m === 0) continue;
      s.alerted ??= new Map();
      const last = s.alerted.get(kind);
      if (last === undefined) {
        s.alerted.set(kind, m);
        emit(alertDoc(s, kind, false, false));
      } else if (m >= 2 * last) {
        s.alerted.set(kind, m);
        emit(alertDoc(s, kind, true, false));
      }
    }
  }

  /** A source that ends (idle, too old, evicted, end of input): a summary of each kind it alerted for. */
  function close(s: Source): void {
    if (s.alerted !== null) for (const kind of s.alerted.keys()) emit(alertDoc(s, kind, true, true));
    sources.delete(s.ip);
  }

  function sweep(now: number): void {
    // Attempts past the reply timeout are unanswered; the map is in arrival order, so stop at the first that is
    // not. Once a second of packet time is precise enough for a timeout of seconds, and keeps floods cheap.
    if (now - lastPendingSweep < 1) return;
    lastPendingSweep = now;
    for (const [k, p] of pending) {
      if (p.ts + policy.replyTimeout > now) break;
      settle(k);
      failed(p, 'unanswered');
    }
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    for (const s of [...sources.values()]) {
      const last = s.lastSec + s.lastNsec / 1e9;
      const slowish = seconds(s) / Math.max(1, s.attempts - 1) >= th.slowMinInterval;
      const idle = now - last >= (slowish ? policy.slowIdleExpiry : policy.idleExpiry);
      if (idle || now - s.firstSec >= policy.maxAge) close(s);
    }
  }

  function alertDoc(s: Source, kind: ScanKind, update: boolean, final: boolean): EcsDoc {
    const r = SCAN_RULES[kind];
    const dur = seconds(s);
    const single = kind === 'port' ? s.maxPortsHost : s.sampleHosts.length === 1 ? s.sampleHosts[0] : undefined;
    const transport = s.tcp >= s.udp && s.tcp >= s.icmp ? 'tcp' : s.udp >= s.icmp ? 'udp' : 'icmp';
    return {
      '@timestamp': isoTime(s.lastSec, s.lastNsec),
      event: {
        kind: 'alert', category: ['network', 'intrusion_detection'], type: ['info'], severity: SEVERITY_SCORE.medium, module: 'picket',
        dataset: 'picket.alert', start: isoTime(s.firstSec, s.firstNsec), end: isoTime(s.lastSec, s.lastNsec),
      },
      rule: {
        id: r.id, name: r.name, category: 'network-scan', ruleset: 'picket',
        description: `${s.ip}: ${s.attempts} attempts to ${(s.failed?.hosts.size ?? 0) || (s.pingHosts?.size ?? 0)} hosts and ${s.failed?.ports.size ?? 0} ports in ${dur.toFixed(0)} s`,
      },
      threat: threatFields('T1595.001'),
      source: { ip: s.ip },
      ...(single !== undefined ? { destination: { ip: single } } : {}),
      network: { transport, direction: s.direction },
      observer: observerFields(observer),
      picket: {
        branch: r.branch, severity: 'medium', update, final,
        scan: {
          attempts: s.attempts,
          outcomes: { answered: s.answered, rejected: s.rejected, unreachable: s.unreachable, unanswered: s.unanswered },
          hosts: s.failed?.hosts.size ?? 0,
          ports: s.failed?.ports.size ?? 0,
          targets: s.failed?.targets.size ?? 0,
          ping_hosts: s.pingHosts?.size ?? 0,
          max_ports_one_host: s.maxPortsOneHost,
          probes_per_second: dur > 0 ? Number((s.attempts / dur).toFixed(3)) : null,
          duration_seconds: Number(dur.toFixed(3)),
          sample_hosts: [...s.sampleHosts],
          sample_ports: [...s.samplePorts],
          learned: [...(s.learned ?? [])],
          protocols: { tcp: s.tcp, udp: s.udp, icmp: s.icmp },
          sensitivity: policy.sensitivity,
        },
      },
    };
  }

  return {
    evictedSources: () => evicted,
    observe(o) {
      const now = o.tsSec + o.tsNsec / 1e9;
      sweep(now);
      if (o.kind === 'probe') onProbe(o);
      else onReply(o);
    },
    finish() {
      // Attempts still waiting at the end of input were not answered.
      for (const [k, p] of [...pending]) {
        settle(k);
        failed(p, 'unanswered');
      }
      for (const s of [...sources.values()].sort((a, b) => a.firstSec - b.firstSec || a.firstNsec - b.firstNsec)) close(s);
    },
  };
}
