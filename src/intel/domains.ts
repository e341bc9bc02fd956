import { isIPv4 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
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

/**
 * Domains are found by a hash of each suffix, computed right to left over the name, so a lookup walks the name
 * once, probes a Map keyed by small integers at each label boundary, and builds no substring; a probe that hits
 * is confirmed by comparing the text in place. This is nDPI's suffix walk without its allocations.
 */
export interface DomainIndex {
  entries: IntelEntry[];
  /**
   * Open addressing over typed arrays (linear probing, at most half full): slot -> entry index + 1 (0: empty),
   * and the slot's suffix hash, so a probe that misses touches one cache line and no object.
   */
  slots: Int32Array;
  slotHash: Int32Array;
  mask: number;
  domains: number;
  /** Address indicators: exact IPv4 (as a number), exact IPv6 (canonical text), and CIDRs. */
  addrs4: Map<number, number>;
  addrs6: Map<string, number>;
  subnets: Array<{ cidr: HomeNet; entry: number }>;
  /**
   * Names matched lately and their answers (-1 too): traffic repeats its names (the DNS reader hands back the same
   * string for the same bytes, its hash already computed), and a hit skips the walk. Cleared when full.
   */
  memo: Map<string, number>;
}

/** Names kept in DomainIndex.memo (a few hundred kB at most). */
const MEMO_MAX = 4096;

/** FNV-1a over the characters from the end of `s` back to `from`, folded to a small integer (a V8 Smi key). */
function suffixHash(s: string, from: number): number {
  let h = 0x811c9dc5;
  for (let i = s.length - 1; i >= from; i--) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

export function buildDomainIndex(entries: IntelEntry[]): DomainIndex {
  let cap = 16;
  while (cap < entries.length * 2) cap *= 2;
  const index: DomainIndex = {
    entries: [], slots: new Int32Array(cap), slotHash: new Int32Array(cap), mask: cap - 1, domains: 0, addrs4: new Map(), addrs6: new Map(), subnets: [],
    memo: new Map(),
  };
  for (const e of entries) {
    if (e.type !== 'domain') {
      addAddress(index, e);
      continue;
    }
    const h = suffixHash(e.indicator, 0);
    const known = lookupExact(index, e.indicator, h);
    // A later file overrides an earlier one for the same name: users tune the bundled entries that way.
    if (known >= 0) {
      index.entries[known] = e;
      continue;
    }
    const at = index.entries.length;
    index.entries.push(e);
    index.domains++;
    let i = h & index.mask;
    while (index.slots[i] !== 0) i = (i + 1) & index.mask;
    index.slots[i] = at + 1;
    index.slotHash[i] = h;
  }
  return index;
}

/** The entry whose indicator is exactly name[from..] (given that suffix's hash), or -1. */
function candidate(index: DomainIndex, name: string, from: number, h: number): number {
  const { slots, slotHash, mask } = index;
  const len = name.length - from;
  for (let i = h & mask; slots[i] !== 0; i = (i + 1) & mask) {
    if (slotHash[i] !== h) continue;
    const at = slots[i] - 1;
    const ind = index.entries[at].indicator;
    if (ind.length === len && name.startsWith(ind, from)) return at;
  }
  return -1;
}

function lookupExact(index: DomainIndex, name: string, h: number): number {
  return candidate(index, name, 0, h);
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

/**
 * Lower-cases and drops one trailing dot, as DNS names compare; a name written in Unicode (münchen.de) becomes
 * its punycode form (xn--mnchen-3ya.de), which is what packets carry.
 */
export function normaliseDomain(name: string): string {
  let n = name.toLowerCase();
  if (n.endsWith('.')) n = n.slice(0, -1);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(n)) {
    const ascii = domainToASCII(n);
    if (ascii !== '') n = ascii;
  }
  return n;
}

/** The Unicode form of a name with punycode labels (xn--), or null when it has none or does not decode. */
export function unicodeName(name: string): string | null {
  if (!name.includes('xn--')) return null;
  const u = domainToUnicode(name);
  return u === '' || u === name ? null : u;
}

/**
 * The entry that `name` (already normalised) falls under: itself or its nearest listed parent. "api.shodan.io"
 * matches "shodan.io"; "notshodan.io" does not. Walks the name once, right to left.
 */
export function matchDomain(index: DomainIndex, name: string): number {
  if (index.domains === 0) return -1;
  const known = index.memo.get(name);
  if (known !== undefined) return known;
  const best = walkSuffixes(index, name);
  if (index.memo.size >= MEMO_MAX) index.memo.clear();
  index.memo.set(name, best);
  return best;
}

function walkSuffixes(index: DomainIndex, name: string): number {
  let h = 0x811c9dc5;
  let best = -1;
  for (let i = name.length - 1; i >= 0; i--) {
    const c = name.charCodeAt(i);
    h = Math.imul(h ^ c, 0x01000193);
    // A suffix that starts a label: the whole name, or just after a dot.
    if (i === 0 || name.charCodeAt(i - 1) === 0x2e) {
      const hit = candidate(index, name, i, h & 0x3fffffff);
      if (hit >= 0) best = hit; // keep walking: a longer (more specific) entry wins
    }
  }
  return best;
}
