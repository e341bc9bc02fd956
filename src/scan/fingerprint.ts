import type { DecodedPacket } from '../core/packet';

/**
 * Scanner fingerprints from probe headers (mechanism; the traits themselves are data in rules/fingerprints.yaml).
 * The engine matches each probe against the fingerprints as it decodes it, on numbers only; the aggregator
 * tallies a source's matches into a verdict: which tool, with what confidence, from which traits.
 */
export type Confidence = 'high' | 'medium' | 'low';
export const CONFIDENCES: readonly Confidence[] = ['high', 'medium', 'low'];

/** One-packet relations, checked by code and named by rules. */
export const PACKET_RELATIONS = ['masscan-ipid'] as const;
export type PacketRelation = (typeof PACKET_RELATIONS)[number];
/** Relations over several probes of one source, checked by the aggregator; either upgrades a verdict to high. */
export const SOURCE_RELATIONS = ['ttl-jitter', 'shared-seq'] as const;
export type SourceRelation = (typeof SOURCE_RELATIONS)[number];

export const PROBE_KINDS = ['tcp-syn', 'icmp-echo', 'icmp-timestamp', 'udp'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface Fingerprint {
  tool: string;
  versions: string;
  probe: ProbeKind;
  /** Each null means "any". ttl is IPv6's hop limit, df is false for IPv6 (it has no DF bit). */
  ipVersion: number | null;
  windows: number[] | null;
  /** TCP option kinds in order (as decoded: hi/lo bytes and count); null: any. */
  options: { hi: number; lo: number; count: number; text: string } | null;
  mss: number | null;
  df: boolean | null;
  ttlMin: number;
  ttlMax: number;
  ipId: number | null;
  ackNonZero: boolean | null;
  payloadLen: number | null;
  relation: PacketRelation | null;
  sourceRelations: SourceRelation[];
  confidence: Confidence;
  /** Matching probes a source needs before the verdict counts. */
  minProbes: number;
  /** Human-readable traits, for alerts. */
  traits: string[];
  file: string;
  line: number;
}

const OPTION_LETTERS: Record<number, string> = { 0: 'E', 1: 'N', 2: 'M', 3: 'W', 4: 'S', 8: 'T' };
const LETTER_KINDS: Record<string, number> = { E: 0, N: 1, M: 2, W: 3, S: 4, T: 8 };

/** "MSTNW" (MSS, SACK permitted, timestamps, NOP, window scale) -> the packed form the TCP decoder keeps; null if invalid. */
export function parseOptionLayout(text: string): { hi: number; lo: number; count: number; text: string } | null {
  if (text.length > 8) return null;
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < text.length; i++) {
    const kind = LETTER_KINDS[text[i]];
    if (kind === undefined) return null;
    if (i < 4) hi |= kind << (24 - 8 * i);
    else lo |= kind << (24 - 8 * (i - 4));
  }
  return { hi: hi >>> 0, lo: lo >>> 0, count: text.length, text };
}

/** The decoded option kinds as letters (other kinds as their number in brackets), for alerts. */
export function optionLayoutText(hi: number, lo: number, count: number): string {
  let s = '';
  for (let i = 0; i < Math.min(count, 8); i++) {
    const kind = i < 4 ? (hi >>> (24 - 8 * i)) & 255 : (lo >>> (24 - 8 * (i - 4))) & 255;
    s += OPTION_LETTERS[kind] ?? `[${kind}]`;
  }
  return s;
}

function relationHolds(r: PacketRelation, pkt: DecodedPacket): boolean {
  switch (r) {
    // masscan (templ-pkt.c): IP ID = low 16 bits of the target address ^ target port ^ low 16 bits of the
    // SYN cookie it uses as sequence number. Chance of a random packet passing: 1 in 65536.
    case 'masscan-ipid':
      return pkt.ipVersion === 4 && pkt.ipId === ((pkt.dst4 & 0xffff) ^ pkt.dstPort ^ (pkt.tcpSeq & 0xffff));
  }
}

/** Index of the first fingerprint this probe matches, or -1. Numbers only: runs on every probe. */
export function matchFingerprint(fps: readonly Fingerprint[], pkt: DecodedPacket, probe: ProbeKind): number {
  for (let i = 0; i < fps.length; i++) {
    const f = fps[i];
    if (f.probe !== probe) continue;
    if (f.ipVersion !== null && f.ipVersion !== pkt.ipVersion) continue;
    if (pkt.ttl < f.ttlMin || pkt.ttl > f.ttlMax) continue;
    if (f.df !== null && f.df !== pkt.dontFragment) continue;
    if (f.ipId !== null && f.ipId !== pkt.ipId) continue;
    if (f.payloadLen !== null && f.payloadLen !== pkt.payloadLen) continue;
    if (probe === 'tcp-syn') {
      if (f.windows !== null && !f.windows.includes(pkt.tcpWindow)) continue;
      if (f.options !== null && (f.options.count !== pkt.tcpOptCount || f.options.hi !== pkt.tcpOptKindsHi || f.options.lo !== pkt.tcpOptKindsLo)) continue;
      if (f.mss !== null && f.mss !== pkt.tcpMss) continue;
      if (f.ackNonZero !== null && f.ackNonZero !== (pkt.tcpAck !== 0)) continue;
    }
    if (f.relation !== null && !relationHolds(f.relation, pkt)) continue;
    return i;
  }
  return -1;
}

/**
 * A source's fingerprint matches so far (small and bounded: a count per fingerprint, a few TTLs and sequence
 * numbers), made at its first matching probe: the sources of a flood that match nothing cost nothing here. The
 * first fingerprint matched is held inline and the rest in a Map made at the second (a NAT mixing tools), and the
 * TTLs in a short array: a spoofed flood makes a tally for every packet, and a Map and a Set each were most of it.
 */
export interface ToolTally {
  /** The first fingerprint matched (-1 before any) and its count. */
  fp: number;
  n: number;
  /** Other fingerprints matched, in the order first matched. */
  more: Map<number, number> | null;
  /** Distinct TTLs, up to MAX_TTLS. */
  ttls: number[];
  /** Sequence number of the source's first SYN, its attempt, and how many SYNs of other attempts carried it again. */
  firstSeq: number;
  firstAttempt: number;
  sameSeq: number;
}

const MAX_TTLS = 8;

export function createToolTally(): ToolTally {
  return { fp: -1, n: 0, more: null, ttls: [], firstSeq: -1, firstAttempt: -1, sameSeq: 0 };
}

/** Each fingerprint matched and its count, in the order first matched. */
function forEachMatch(t: ToolTally, f: (fp: number, n: number) => void): void {
  if (t.n > 0) f(t.fp, t.n);
  if (t.more !== null) for (const [fp, n] of t.more) f(fp, n);
}

/**
 * nmap sends the first try of every probe of a scan phase with one sequence number (scan_engine's seqmask), to
 * other ports and hosts; an OS stack picks a new one per connection and repeats it only when it retransmits.
 */
export function tallyProbe(t: ToolTally, fp: number, ttl: number, seq: number, attempt: number, isSyn: boolean): void {
  if (t.n === 0 || t.fp === fp) {
    t.fp = fp;
    t.n++;
  } else {
    t.more ??= new Map();
    t.more.set(fp, (t.more.get(fp) ?? 0) + 1);
  }
  if (t.ttls.length < MAX_TTLS && !t.ttls.includes(ttl)) t.ttls.push(ttl);
  if (!isSyn) return;
  if (t.firstSeq < 0) {
    t.firstSeq = seq;
    t.firstAttempt = attempt;
  } else if (seq === t.firstSeq && attempt !== t.firstAttempt) {
    t.sameSeq++;
  }
}

export interface ToolVerdict {
  fingerprint: Fingerprint;
  confidence: Confidence;
  matched: number;
  probes: number;
  /** Source relations that held (they raise a medium verdict to high). */
  relations: SourceRelation[];
}

/** Most of a source's probes must match the same fingerprint for a verdict: a NAT can mix tools and stacks. */
const MIN_SHARE = 0.8;

/**
 * The tool most of a source's probes match (a tool may have several fingerprints: nmap's SYN and its ICMP echo),
 * described by its most matched fingerprint; null while no tool has enough of them.
 */
export function toolVerdict(fps: readonly Fingerprint[], t: ToolTally | null, probes: number): ToolVerdict | null {
  if (t === null || t.n === 0) return null;
  // One fingerprint matched so far (every source of a spoofed flood, and most scanners): a verdict it cannot reach is
  // known without the tally by tool below, a Map made on each call.
  if (t.more === null && (t.n < MIN_SHARE * probes || t.n < fps[t.fp].minProbes)) return null;
  const byTool = new Map<string, number>();
  forEachMatch(t, (fp, n) => byTool.set(fps[fp].tool, (byTool.get(fps[fp].tool) ?? 0) + n));
  let tool = '';
  let toolCount = 0;
  for (const [name, n] of byTool) if (n > toolCount) [tool, toolCount] = [name, n];
  if (toolCount === 0 || toolCount < MIN_SHARE * probes) return null;
  let best = -1;
  let bestCount = 0;
  forEachMatch(t, (fp, n) => {
    if (fps[fp].tool === tool && n > bestCount) [best, bestCount] = [fp, n];
  });
  const f = fps[best];
  if (bestCount < f.minProbes) return null;
  const relations = f.sourceRelations.filter((r) => (r === 'ttl-jitter' ? t.ttls.length >= 3 : t.sameSeq >= 2));
  const confidence: Confidence = relations.length > 0 ? 'high' : f.confidence;
  // A low-confidence fingerprint names nothing on its own: only with a relation across the source's probes.
  if (confidence === 'low') return null;
  return { fingerprint: f, confidence, matched: toolCount, probes, relations };
}
