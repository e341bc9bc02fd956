import { createSketch, FNV_START, fnvChar, fnvDecimal, fnvIpv4, fnvText, sketchAdd, sketchAddHash, sketchCount, type Sketch } from '../util/sketch';
import { fmix32 } from '../util/hash';
import { SCAN_PROTOS } from '../core/scan-record';
import { addrText, portText, targetHost, targetKey, targetPort, type AddrKey } from './addr-key';

/**
 * The distinct (host, port) targets a source failed to reach, their hosts and ports, and the most ports of one
 * host: exact while small, then sketched (fixed memory, ~6.5 % error) once the source's own cap or the global
 * budget of exact entries is reached. This is what bounds a slow scan's memory over a day of packet time.
 */
export interface Spread {
  /** Keys (addr-key.ts): no strings while exact. */
  targets: Set<AddrKey> | null;
  hosts: Set<AddrKey> | null;
  ports: Set<number> | null;
  perHost: Map<AddrKey, number> | null;
  sketch: { targets: Sketch; hosts: Sketch; ports: Sketch } | null;
  /** Counts: set sizes while exact, the sketches' estimates (refreshed when a register changes) after. */
  nTargets: number;
  nHosts: number;
  nPorts: number;
  maxPortsOneHost: number;
  maxPortsHost: AddrKey;
}

/** Exact entries held by all spreads together; shared by one aggregator. */
export interface SpreadBudget {
  used: number;
  limit: number;
}

export function createSpread(): Spread {
  return {
    targets: new Set(), hosts: new Set(), ports: new Set(), perHost: new Map(), sketch: null,
    nTargets: 0, nHosts: 0, nPorts: 0, maxPortsOneHost: 0, maxPortsHost: '',
  };
}

/**
 * Adds a failed target (a host key and a portKey); false when it was known already (exact mode) or changed no
 * estimate (sketched).
 */
export function spreadAdd(s: Spread, host: AddrKey, port: number, perSourceCap: number, budget: SpreadBudget): boolean {
  const target = targetKey(host, port);
  if (s.targets !== null && s.hosts !== null && s.ports !== null && s.perHost !== null) {
    if (s.targets.has(target)) return false;
    if (s.targets.size < perSourceCap && budget.used < budget.limit) {
      s.targets.add(target);
      s.hosts.add(host);
      s.ports.add(port);
      budget.used++;
      s.nTargets = s.targets.size;
      s.nHosts = s.hosts.size;
      s.nPorts = s.ports.size;
      const n = (s.perHost.get(host) ?? 0) + 1;
      s.perHost.set(host, n);
      if (n > s.maxPortsOneHost) {
        s.maxPortsOneHost = n;
        s.maxPortsHost = host;
      }
      return true;
    }
    toSketch(s, budget);
  }
  const k = s.sketch;
  if (k === null) return false;
  let changed = false;
  // Sketches hash the text forms ("10.0.0.1|tcp/80": fleet sensors merge their registers), computed from the numbers
  // without making the text: a fast scanner lives in this path, and the strings were half its cost.
  const h = typeof host === 'number' ? fnvIpv4(FNV_START, host) : fnvText(FNV_START, host);
  const p = fnvPortText(FNV_START, port);
  if (sketchAddHash(k.targets, fmix32(fnvPortText(fnvChar(h, BAR), port)))) {
    s.nTargets = Math.max(s.nTargets, sketchCount(k.targets));
    changed = true;
  }
  if (sketchAddHash(k.hosts, fmix32(h))) s.nHosts = Math.max(s.nHosts, sketchCount(k.hosts));
  if (sketchAddHash(k.ports, fmix32(p))) s.nPorts = Math.max(s.nPorts, sketchCount(k.ports));
  // With one host its ports are all the ports: a vertical scan past the cap keeps growing its measure.
  if (s.nHosts <= 1 && s.nPorts > s.maxPortsOneHost) s.maxPortsOneHost = s.nPorts;
  return changed;
}

const BAR = 124; // '|'
const SLASH = 47;
const PROTO_NAMES = SCAN_PROTOS as readonly string[];

/** portText(port) ("tcp/80") as fnvText would hash it. */
function fnvPortText(h: number, port: number): number {
  return fnvDecimal(fnvChar(fnvText(h, PROTO_NAMES[Math.floor(port / 65536)]), SLASH), port % 65536);
}

function toSketch(s: Spread, budget: SpreadBudget): void {
  const k = { targets: createSketch(), hosts: createSketch(), ports: createSketch() };
  for (const t of s.targets ?? []) sketchAdd(k.targets, `${addrText(targetHost(t))}|${portText(targetPort(t))}`);
  for (const h of s.hosts ?? []) sketchAdd(k.hosts, addrText(h));
  for (const p of s.ports ?? []) sketchAdd(k.ports, portText(p));
  budget.used -= s.targets?.size ?? 0;
  s.sketch = k;
  s.targets = s.hosts = s.ports = null;
  s.perHost = null;
}

/** Gives a spread's exact entries back to the budget (its source has ended). */
export function spreadRelease(s: Spread, budget: SpreadBudget): void {
  budget.used -= s.targets?.size ?? 0;
}
