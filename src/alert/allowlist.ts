import { isHome4, isHome6, parseIpv4, parseIpv6, type HomeNet } from '../config/homenet';

/** One allowlist entry from rules/: who (source CIDRs), for what (rule ids, intel entries), when (a window). */
export interface AllowEntry {
  sources: HomeNet | null;
  /** rule.id patterns; a trailing * matches a prefix ("intel.*"). Empty: every rule. */
  rules: string[];
  /** Intel indicators (for intel.* alerts). Empty: any. */
  indicators: string[];
  /** Packet-time window in epoch seconds; -Infinity / Infinity when open. */
  from: number;
  until: number;
  reason: string;
  source: string;
  line: number;
}

function ruleMatches(patterns: string[], id: string): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => (p.endsWith('*') ? id.startsWith(p.slice(0, -1)) : p === id));
}

function sourceMatches(set: HomeNet | null, ip: string): boolean {
  if (set === null) return true;
  return ip.includes(':') ? isHome6(set, parseIpv6(ip), 0) : isHome4(set, parseIpv4(ip));
}

/**
 * The first entry that allows an alert, or null. Allowlisted alerts are counted (picket.stats.allowlisted), never
 * written: the seeds' advice for SOC workstations, asset scanners and authorised engagement windows.
 */
export function findAllowing(entries: AllowEntry[], ruleId: string, sourceIp: string, indicator: string | undefined, atSec: number): AllowEntry | null {
  for (const e of entries) {
    if (atSec < e.from || atSec >= e.until) continue;
    if (!ruleMatches(e.rules, ruleId)) continue;
    if (e.indicators.length > 0 && (indicator === undefined || !e.indicators.includes(indicator))) continue;
    if (!sourceMatches(e.sources, sourceIp)) continue;
    return e;
  }
  return null;
}
