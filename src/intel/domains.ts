export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** One indicator from a rules file, with where it came from so an alert can name its source. */
export interface IntelEntry {
  indicator: string;
  type: 'domain';
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
}

export function buildDomainIndex(entries: IntelEntry[]): DomainIndex {
  const index: DomainIndex = { entries: [], byName: new Map(), tails: new Set(), singleLabel: new Set() };
  for (const e of entries) {
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
