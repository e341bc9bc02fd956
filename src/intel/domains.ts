import { isIPv4 } from 'node:net';
import { isHome4, isHome6, parseHomeNet, parseIpv4, parseIpv6, type HomeNet } from '../config/homenet';
import { ipv6ToString } from '../decode/addr';

export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** One indicator from a rules file, with where it came from so an alert can name its source. */
export interface IntelEntry {
  indicator: string;
  /** domain: the name and its subdomains; addr: one address; subnet: a CIDR. */
  type: 'domain' | 'addr' | 'subnet';
  category: string;
  severity: Severity;
  confidence: Severity;
  technique: string;
  description: string;
  source: string;
  line: number;
}

/** Exact names to entries; a lookup walks the name's suffixes, so every subdomain of an entry matches it. */
export interface DomainIndex {
  entries: IntelEntry[];
  byName: Map<string, number>;
  /**
   * The last two labels of every entry (the whole entry when it has one or two). A name whose last two labels
   * are not here cannot match, which settles most names with one lookup instead of one per label.
   */
  tails: Set<string>;
  /** Entries of one label (a whole TLD listed): checked against a name's last label. */
  singleLabel: Set<string>;
  /** Address indicators: exact IPv4 (as a number), exact IPv6 (canonical text), and CIDRs. */
  addrs4: Map<number, number>;
  addrs6: Map<string, number>;
  subnets: Array<{ cidr: HomeNet; entry: number }>;
}

export function buildDomainIndex(entries: IntelEntry[]): DomainIndex {
  const index: DomainIndex = { entries: [], byName: new Map(), tails: new Set(), singleLabel: new Set(), addrs4: new Map(), addrs6: new Map(), subnets: [] };
  for (const e of entries) {
    if (e.type !== 'domain') {
      addAddress(index, e);
      continue;
    }
    const known = index.byName.get(e.indicator);
    // A later file overrides an earlier one for the same name: users tune the bundled entries that way.
    if (known !== undefined) index.entries[known] = e;
    else {
      index.byName.set(e.indicator, index.entries.length);
      index.entries.push(e);
      const last = e.indicator.lastIndexOf('.');
      if (last < 0) index.singleLabel.add(e.indicator);
      else index.tails.add(e.indicator.slice(e.indicator.lastIndexOf('.', last - 1) + 1));
    }
  }
  return index;
}

function addAddress(index: DomainIndex, e: IntelEntry): void {
  const at = index.entries.length;
  if (e.type === 'subnet') {
    index.subnets.push({ cidr: parseHomeNet(e.indicator, `${e.source}:${e.line}`), entry: at });
  } else if (isIPv4(e.indicator)) {
    index.addrs4.set(parseIpv4(e.indicator), at);
  } else {
    index.addrs6.set(ipv6ToString(parseIpv6(e.indicator), 0), at);
  }
  index.entries.push(e);
}

/** The entry an IPv4 address falls under (exact address first, then CIDRs), or -1. */
export function matchAddress4(index: DomainIndex, a: number): number {
  const hit = index.addrs4.get(a);
  if (hit !== undefined) return hit;
  for (const s of index.subnets) if (isHome4(s.cidr, a)) return s.entry;
  return -1;
}

/** The entry an IPv6 address (16 bytes at b[p]) falls under, or -1. */
export function matchAddress6(index: DomainIndex, b: Uint8Array, p: number): number {
  if (index.addrs6.size > 0) {
    const hit = index.addrs6.get(ipv6ToString(b, p));
    if (hit !== undefined) return hit;
  }
  for (const s of index.subnets) if (isHome6(s.cidr, b, p)) return s.entry;
  return -1;
}

/** Lower-cases and drops one trailing dot, as DNS names compare. */
export function normaliseDomain(name: string): string {
  const n = name.toLowerCase();
  return n.endsWith('.') ? n.slice(0, -1) : n;
}

/**
 * The entry that `name` (already normalised) falls under: itself, else its parent, and so on up to the last
 * label (nDPI's suffix walk). "api.shodan.io" matches "shodan.io"; "notshodan.io" does not.
 */
export function matchDomain(index: DomainIndex, name: string): number {
  const last = name.lastIndexOf('.');
  if (last < 0) return index.byName.get(name) ?? -1;
  if (!index.tails.has(name.slice(name.lastIndexOf('.', last - 1) + 1))) {
    return index.singleLabel.size > 0 ? index.byName.get(name.slice(last + 1)) ?? -1 : -1;
  }
  let at = 0;
  for (;;) {
    const hit = index.byName.get(at === 0 ? name : name.slice(at));
    if (hit !== undefined) return hit;
    const dot = name.indexOf('.', at);
    if (dot < 0) return -1;
    at = dot + 1;
  }
}
