import type { ObserverInfo, EcsDoc } from '../alert/ecs';
import type { ScanPolicy, ScanThresholds } from '../config/rules';
import { createSketch, sketchAdd, sketchCount, type Sketch } from '../util/sketch';
import { growthDecision, scanAlertEnvelope, SCAN_RULES, type ScanKind } from './scan-alert';
import { addrText, portText, type AddrKey } from './addr-key';
import type { SpreadBudget } from './spread';
import { packetSeconds, spanSeconds } from '../core/time';

/** One source's failed probes of one targeted host: kept for the first few sources only (decoys come together). */
interface SourceOnTarget {
  key: AddrKey;
  firstTs: number;
  attempts: number;
  /** Most sources of a flood probe one port once: a set is made only for a second port (portKey values). */
  firstPort: number;
  ports: Set<number> | null;
}

/** A host inside the watched directions that sources failed to reach: scan.distributed is judged per host. */
interface TargetHost {
  key: AddrKey;
  direction: string;
  first: [number, number];
  last: [number, number];
  lastTs: number;
  attempts: number;
  sources: Map<AddrKey, SourceOnTarget>;
  /** Distinct sources past the exact map. */
  sourceSketch: Sketch | null;
  nSources: number;
  /** portKey values. */
  ports: Set<number>;
  alerted: Map<ScanKind, number> | null;
  /** The tool of its top source as last known (that source may have ended before the host does). */
  tool: { software: EcsDoc; fingerprint: EcsDoc } | null;
}

const EXACT_SOURCES = 64;
const PORTS_PER_SOURCE = 256;
const MAX_PORTS = 4096;
const SAMPLES = 10;

export interface DistributedDetector {
  /** A source failed against a target: addresses as AddrKeys, the port as a portKey (text only for alerts). */
  failed(src: AddrKey, dst: AddrKey, port: number, direction: string, tsSec: number, tsNsec: number): void;
  /** Summarises hosts idle for the policy's idle_expiry (called now and then with packet time). */
  expire(now: number): void;
  finish(): void;
  reload(policy: ScanPolicy, th: ScanThresholds): void;
}

/**
 * scan.distributed: many sources failing against the ports of one host (a scan split across sources so that
 * each stays under the per-source thresholds), and decoy scans (nmap -D): several sources probing the same ports
 * of one host within a short time. Works on the same failed attempts as the per-source detectors.
 */
export function createDistributedDetector(
  policy: ScanPolicy, th: ScanThresholds, budget: SpreadBudget, observer: ObserverInfo, emit: (doc: EcsDoc) => void,
  /** The tool fields (threat.software, picket.fingerprint) of a source, when it has been identified. */
  toolOf: (source: AddrKey) => { software: EcsDoc; fingerprint: EcsDoc } | null,
): DistributedDetector {
  const hosts = new Map<AddrKey, TargetHost>();

  function host(dst: AddrKey, direction: string, tsSec: number, tsNsec: number): TargetHost {
    let h = hosts.get(dst);
    if (h !== undefined) return h;
    if (hosts.size >= policy.maxTargetHosts) {
      const victims = [...takeFirst(hosts.values(), Math.max(1, Math.floor(policy.maxTargetHosts / 10)))];
      for (const v of victims) close(v);
    }
    h = { key: dst, direction, first: [tsSec, tsNsec], last: [tsSec, tsNsec], lastTs: 0, attempts: 0, sources: new Map(), sourceSketch: null, nSources: 0, ports: new Set(), alerted: null, tool: null };
    hosts.set(dst, h);
    return h;
  }

  function failed(src: AddrKey, dst: AddrKey, port: number, direction: string, tsSec: number, tsNsec: number): void {
    const h = host(dst, direction, tsSec, tsNsec);
    const ts = packetSeconds(tsSec, tsNsec);
    h.attempts++;
    h.last[0] = tsSec;
    h.last[1] = tsNsec;
    h.lastTs = ts;
    if (h.ports.size < MAX_PORTS && budget.used < budget.limit && !h.ports.has(port)) {
      h.ports.add(port);
      budget.used++;
    }
    let s = h.sources.get(src);
    if (s === undefined) {
      if (h.sources.size < EXACT_SOURCES && h.sourceSketch === null) {
        s = { key: src, firstTs: ts, attempts: 0, firstPort: port, ports: null };
        h.sources.set(src, s);
        h.nSources = h.sources.size;
      } else {
        if (h.sourceSketch === null) {
          h.sourceSketch = createSketch();
          // The sketch hashes addresses as text (as fleet summaries do).
          for (const k of h.sources.keys()) sketchAdd(h.sourceSketch, addrText(k));
        }
        if (sketchAdd(h.sourceSketch, addrText(src))) h.nSources = Math.max(h.nSources, sketchCount(h.sourceSketch));
      }
    }
    let crossed = false;
    if (s !== undefined) {
      s.attempts++;
      if (s.ports === null && port !== s.firstPort) s.ports = new Set([s.firstPort]);
      if (s.ports !== null && s.ports.size < PORTS_PER_SOURCE && budget.used < budget.limit && !s.ports.has(port)) {
        s.ports.add(port);
        budget.used++;
        crossed = s.ports.size === th.decoyMinPorts;
      }
    }
    evaluate(h, crossed);
  }

  /**
   * Decoys: sources that each probed at least decoy_min_ports ports of the host, started within decoy_window of
   * the first of them, and share most of their ports with it (nmap -D sends every probe from every decoy).
   */
  function decoyGroup(h: TargetHost): SourceOnTarget[] {
    const big = [...h.sources.values()].filter((s) => (s.ports?.size ?? 1) >= th.decoyMinPorts);
    for (const lead of big) {
      const group = big.filter((s) => Math.abs(s.firstTs - lead.firstTs) <= policy.decoyWindow && overlap(lead.ports ?? new Set(), s.ports ?? new Set()) >= 0.5);
      if (group.length >= 2) return group;
    }
    return [];
  }

  function evaluate(h: TargetHost, crossedDecoySize: boolean): void {
    const spread = h.nSources >= th.distributedSources && h.ports.size >= th.distributedPorts;
    // Decoy groups change only when a source reaches the decoy size: look for one only then.
    const decoys = !spread && crossedDecoySize && h.sources.size >= 2 ? decoyGroup(h) : [];
    if (!spread && decoys.length < 2) return;
    h.alerted ??= new Map();
    const decision = growthDecision(h.alerted, 'distributed', Math.max(h.nSources, decoys.length));
    if (decision !== null) emit(alertDoc(h, decision === 'update', false));
  }

  function close(h: TargetHost): void {
    if (h.alerted !== null) emit(alertDoc(h, true, true));
    for (const s of h.sources.values()) budget.used -= s.ports?.size ?? 0;
    budget.used -= h.ports.size;
    hosts.delete(h.key);
  }

  function alertDoc(h: TargetHost, update: boolean, final: boolean): EcsDoc {
    const decoys = decoyGroup(h);
    const bySize = [...h.sources.values()].sort((a, b) => b.attempts - a.attempts);
    const top = decoys.length >= 2 ? decoys[0] : bySize[0];
    const samples = (decoys.length >= 2 ? decoys : bySize).slice(0, decoys.length >= 2 ? EXACT_SOURCES : SAMPLES).map((s) => addrText(s.key));
    const ip = addrText(h.key);
    const topIp = addrText(top.key);
    const dur = spanSeconds(h.first[0], h.first[1], h.last[0], h.last[1]);
    const description = decoys.length >= 2
      ? `${ip}: the same probes of ${h.ports.size} ports from ${decoys.length} sources (decoy scan)`
      : `${ip}: ${h.attempts} failed attempts from ${h.nSources} sources on ${h.ports.size} ports`;
    const doc = scanAlertEnvelope('distributed', h.first, h.last, description, observer);
    const tool = toolOf(top.key) ?? h.tool;
    h.tool = tool;
    return {
      ...doc,
      ...(tool !== null ? { threat: { ...(doc.threat as EcsDoc), software: tool.software } } : {}),
      source: { ip: topIp },
      destination: { ip },
      related: { ip: [...new Set([...samples, ip])] },
      network: { direction: h.direction },
      picket: {
        branch: SCAN_RULES.distributed.branch, severity: 'medium', update, final,
        scan: {
          attempts: h.attempts,
          sources: h.nSources,
          sources_exact: h.sourceSketch === null,
          ports: h.ports.size,
          decoy: decoys.length >= 2,
          sample_sources: samples,
          sample_ports: [...h.ports].slice(0, SAMPLES).map(portText),
          duration_seconds: Number(dur.toFixed(3)),
          probes_per_second: dur > 0 ? Number((h.attempts / dur).toFixed(3)) : null,
          sensitivity: policy.sensitivity,
        },
        ...(tool !== null ? { fingerprint: tool.fingerprint } : {}),
      },
    };
  }

  return {
    failed,
    expire(now) {
      for (const h of [...hosts.values()]) if (now - h.lastTs >= policy.idleExpiry || now - h.first[0] >= policy.maxAge) close(h);
    },
    finish() {
      for (const h of [...hosts.values()]) close(h);
    },
    reload(p, t) {
      policy = p;
      th = t;
    },
  };
}

function overlap(a: Set<number>, b: Set<number>): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let n = 0;
  for (const x of small) if (large.has(x)) n++;
  return small.size === 0 ? 0 : n / small.size;
}

function* takeFirst<T>(it: Iterable<T>, n: number): Iterable<T> {
  if (n <= 0) return;
  let i = 0;
  for (const x of it) {
    yield x;
    if (++i >= n) return;
  }
}
