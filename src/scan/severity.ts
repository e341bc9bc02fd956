import type { ResearchScanner, ScanPolicy } from '../config/rules';
import { isHome4, isHome6, parseIpv6 } from '../config/homenet';
import { SEVERITIES, type Severity } from '../intel/domains';
import { ipv4At, type AddrKey } from './addr-key';

/**
 * What a scan incident's severity is judged on. The sensor's aggregator fills it from a source's state; picket
 * correlate from the merged summaries of several sensors (it knows no access nor intel lookups: those stay null).
 * One function for both, so that a fleet incident goes up a level exactly where a sensor's would.
 */
export interface SeverityFacts {
  /** The incident's kinds so far, as the sensor names them: 'sweep', 'slow', ... ('tool' is left out of the reason). */
  kinds: readonly string[];
  /** A tool named with high confidence, else null. */
  tool: string | null;
  /** The larger of failed hosts and ICMP-probed hosts, and failed (host, port) targets. */
  hosts: number;
  targets: number;
  access: { ip: string; port: number } | null;
  lookedUp: ReadonlyArray<{ ip: string; indicator: string }> | null;
  research: ResearchScanner | null;
}

/**
 * How much the incident matters, and why: medium for a scan; one level up for each of a tool named with high
 * confidence, a large target set (policy), an access with data to a service found by the scan and a target that
 * had looked an intel service up first; low for a source in a research scanner's published ranges, whatever
 * else. The reasons' text is made only when `reasons` is given (a document goes out); the level is numbers only.
 */
export function scanSeverity(f: SeverityFacts, policy: ScanPolicy, reasons: string[] | null): Severity {
  let level = 1;
  if (reasons !== null) {
    const shapes = f.kinds.filter((k) => k !== 'tool');
    reasons.push(shapes.length > 0 ? `${shapes.join(', ')} scan` : 'scanning tool identified from its probes');
  }
  if (f.tool !== null) {
    level++;
    reasons?.push(`tool named with high confidence: ${f.tool}`);
  }
  if (f.hosts >= policy.severityLargeHosts || f.targets >= policy.severityLargeTargets) {
    level++;
    reasons?.push(`large target set: ${f.hosts} hosts, ${f.targets} targets`);
  }
  if (f.access !== null) {
    level++;
    reasons?.push(`then connected with data to ${f.access.ip}:${f.access.port}/tcp, a service the scan found`);
  }
  if (f.lookedUp !== null) {
    level++;
    reasons?.push(`a target had looked up an IP-intelligence service first: ${f.lookedUp.map((l) => `${l.ip} (${l.indicator})`).join(', ')}`);
  }
  if (f.research !== null) {
    level = 0;
    reasons?.push(`research scanner: ${f.research.name} (${f.research.source})`);
  }
  return SEVERITIES[Math.min(level, SEVERITIES.length - 1)];
}

/**
 * The research-scanner entry whose published ranges hold the address (rules/research-scanners.yaml), or null.
 * An IPv6 address is read from `bytes` (16 bytes at `off`) when the caller has them, else parsed from its key.
 */
export function researchOf(policy: ScanPolicy, key: AddrKey): ResearchScanner | null {
  return typeof key === 'number' ? researchOf4(policy, key) : researchOf6(policy, parseIpv6(key), 0);
}

/** researchOf for the address at addr[off] (16 bytes, IPv4 in the first 4): no text made. */
export function researchOfBytes(policy: ScanPolicy, ipVersion: number, addr: Uint8Array, off: number): ResearchScanner | null {
  if (ipVersion === 6) return researchOf6(policy, addr, off);
  return researchOf4(policy, ipv4At(addr, off));
}

// Loops, not find(): called for every new source, and a closure each time is garbage.
function researchOf4(policy: ScanPolicy, a: number): ResearchScanner | null {
  const list = policy.research;
  for (let i = 0; i < list.length; i++) if (isHome4(list[i].ranges, a)) return list[i];
  return null;
}

function researchOf6(policy: ScanPolicy, v6: Uint8Array, at: number): ResearchScanner | null {
  const list = policy.research;
  for (let i = 0; i < list.length; i++) if (isHome6(list[i].ranges, v6, at)) return list[i];
  return null;
}
