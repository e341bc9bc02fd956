import { u16be } from '../../capture/bytes';

/** The header and first question of a DNS message; filled in place, the name is the only string built. */
export interface DnsQuestion {
  id: number;
  isResponse: boolean;
  opcode: number;
  rcode: number;
  qdcount: number;
  ancount: number;
  name: string;
  qtype: number;
  qclass: number;
}

export function createDnsQuestion(): DnsQuestion {
  return { id: 0, isResponse: false, opcode: 0, rcode: 0, qdcount: 0, ancount: 0, name: '', qtype: 0, qclass: 0 };
}

const MAX_NAME = 255;
const MAX_POINTER_JUMPS = 16;
/** Presentation form of a name is at most 4 bytes a wire byte (\DDD escapes); built here, turned into one string. */
const scratch = Buffer.alloc(MAX_NAME * 4 + 8);

/**
 * Reads the header and the first question of the DNS message at b[p, end); with queriesOnly, a response's header
 * only (its name is not built). Returns false when the bytes are not a well-formed DNS message (the caller counts
 * it); never throws. The name is lower-cased ASCII without the
 * trailing dot; bytes that are not printable, dots and backslashes inside labels are written as \DDD, as in zone
 * files, so a name can never be confused with another.
 */
export function readDnsQuestion(b: Buffer, p: number, end: number, out: DnsQuestion, queriesOnly: boolean): boolean {
  if (!readDnsHeader(b, p, end, out) || out.qdcount === 0) return false;
  if (queriesOnly && (out.isResponse || out.opcode !== 0)) return true;
  const after = readName(b, p, p + 12, end, out);
  if (after < 0 || after + 4 > end) return false;
  out.qtype = u16be(b, after);
  out.qclass = u16be(b, after + 2);
  return true;
}

/**
 * Reads the 12-byte header only (id, flags, section counts) into out; false when shorter. For multicast DNS, whose
 * responses carry no question (RFC 6762 6: qdcount 0 is the rule there), before readDnsQuestion.
 */
export function readDnsHeader(b: Buffer, p: number, end: number, out: DnsQuestion): boolean {
  if (end - p < 12) return false;
  out.id = u16be(b, p);
  const flags = u16be(b, p + 2);
  out.isResponse = (flags & 0x8000) !== 0;
  out.opcode = (flags >> 11) & 15;
  out.rcode = flags & 15;
  out.qdcount = u16be(b, p + 4);
  out.ancount = u16be(b, p + 6);
  return true;
}

/** Reads a (possibly compressed) name starting at q; msg is the message start for pointers. Returns the offset after the name in place, or -1. */
function readName(b: Buffer, msg: number, q: number, end: number, out: DnsQuestion): number {
  let n = 0; // bytes written to scratch
  let wire = 0; // wire length, bounded by MAX_NAME
  let after = -1;
  let jumps = 0;
  for (;;) {
    if (q >= end) return -1;
    const len = b[q];
    if (len === 0) {
      if (after < 0) after = q + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (q + 1 >= end || ++jumps > MAX_POINTER_JUMPS) return -1;
      if (after < 0) after = q + 2;
      // Pointers may point anywhere in the message before its end, forward too (some encoders write them so);
      // a loop is cut by the jump bound, and every label read is within [msg, end).
      const target = msg + (((len & 0x3f) << 8) | b[q + 1]);
      if (target >= end) return -1;
      q = target;
      continue;
    }
    if ((len & 0xc0) !== 0) return -1; // extended label types (RFC 6891 obsoleted them)
    wire += len + 1;
    if (wire > MAX_NAME || q + 1 + len > end) return -1;
    if (n > 0) scratch[n++] = 0x2e;
    for (let i = q + 1; i <= q + len; i++) {
      let c = b[i];
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      if (c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c) {
        scratch[n++] = c;
      } else {
        scratch[n++] = 0x5c;
        scratch[n++] = 0x30 + Math.floor(c / 100);
        scratch[n++] = 0x30 + (Math.floor(c / 10) % 10);
        scratch[n++] = 0x30 + (c % 10);
      }
    }
    q += 1 + len;
  }
  out.name = n === 0 ? '.' : nameText(n);
  return after;
}

/**
 * Names as text through a small direct-mapped cache of recent names (exact bytes compared): a name comes back in
 * its query and its response, and popular names again and again; each would otherwise be a new string (the largest
 * share of what DNS parsing allocated on the bench mix).
 */
const NAME_SLOTS = 4096;
const NAME_CACHED_MAX = 64;
const cachedBytes = new Uint8Array(NAME_SLOTS * NAME_CACHED_MAX);
const cachedLen = new Uint8Array(NAME_SLOTS);
const cachedText: string[] = new Array<string>(NAME_SLOTS).fill('');

function nameText(n: number): string {
  if (n > NAME_CACHED_MAX) return scratch.toString('latin1', 0, n);
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ scratch[i], 0x01000193);
  const slot = (h >>> 20) & (NAME_SLOTS - 1);
  const at = slot * NAME_CACHED_MAX;
  let same = cachedLen[slot] === n;
  for (let i = 0; same && i < n; i++) same = cachedBytes[at + i] === scratch[i];
  if (same) return cachedText[slot];
  const text = scratch.toString('latin1', 0, n);
  for (let i = 0; i < n; i++) cachedBytes[at + i] = scratch[i];
  cachedLen[slot] = n;
  cachedText[slot] = text;
  return text;
}

export const DNS_TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR',
  43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 251: 'IXFR', 252: 'AXFR', 255: 'ANY',
};

export function dnsTypeName(t: number): string {
  return DNS_TYPE_NAMES[t] ?? `TYPE${t}`;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const MAX_ANSWERS = 64;

/** Skips a (possibly compressed) name; returns the offset after it, or -1. */
function skipName(b: Buffer, q: number, end: number): number {
  for (let labels = 0; labels < 128; labels++) {
    if (q >= end) return -1;
    const len = b[q];
    if (len === 0) return q + 1;
    if ((len & 0xc0) === 0xc0) return q + 2 <= end ? q + 2 : -1;
    if ((len & 0xc0) !== 0) return -1;
    q += 1 + len;
  }
  return -1;
}

/**
 * Calls onAddress for every A and AAAA record in the answer section of the response at b[p, end) (CNAME chains
 * end in them, so the addresses a name resolved to are all here). `question` must hold the header just read
 * by readDnsQuestion. Returns false on malformed records (what was read before stays reported). Never throws.
 */
export function readDnsAnswers(
  b: Buffer, p: number, end: number, question: DnsQuestion, onAddress: (family: 4 | 6, off: number, ttl: number) => void,
): boolean {
  let q = p + 12;
  for (let i = 0; i < question.qdcount; i++) {
    q = skipName(b, q, end);
    if (q < 0 || q + 4 > end) return false;
    q += 4;
  }
  const n = Math.min(question.ancount, MAX_ANSWERS);
  for (let i = 0; i < n; i++) {
    q = skipName(b, q, end);
    if (q < 0 || q + 10 > end) return false;
    const type = u16be(b, q);
    const ttl = ((b[q + 4] << 24) | (b[q + 5] << 16) | (b[q + 6] << 8) | b[q + 7]) >>> 0;
    const rdlen = u16be(b, q + 8);
    const rd = q + 10;
    if (rd + rdlen > end) return false;
    if (type === TYPE_A && rdlen === 4) onAddress(4, rd, ttl);
    else if (type === TYPE_AAAA && rdlen === 16) onAddress(6, rd, ttl);
    q = rd + rdlen;
  }
  return true;
}

/** The answer records whose owner names a response event lists (mDNS responses carry dozens of records). */
export const MAX_ANSWER_NAMES = 16;

/**
 * The owner names and types of the first MAX_ANSWER_NAMES answer records of the response at b[p, end), after its
 * question section (header as read by readDnsHeader into `header`); `scratch` is reused for each name. What was read
 * before a malformed record is kept; returns false then. Never throws.
 */
export function readDnsAnswerNames(
  b: Buffer, p: number, end: number, header: DnsQuestion, scratch: DnsQuestion, out: Array<{ name: string; type: number }>,
): boolean {
  let q = p + 12;
  for (let i = 0; i < header.qdcount; i++) {
    q = skipName(b, q, end);
    if (q < 0 || q + 4 > end) return false;
    q += 4;
  }
  const n = Math.min(header.ancount, MAX_ANSWER_NAMES);
  for (let i = 0; i < n; i++) {
    const after = readName(b, p, q, end, scratch);
    if (after < 0 || after + 10 > end) return false;
    const rdlen = u16be(b, after + 8);
    if (after + 10 + rdlen > end) return false;
    out.push({ name: scratch.name, type: u16be(b, after) });
    q = after + 10 + rdlen;
  }
  return true;
}

/**
 * A DNS UPDATE request (RFC 2136 2): its zone is the question section; the answer section holds the
 * prerequisites, the authority section the updates. Fills the owner names of up to MAX_ANSWER_NAMES records of
 * each (header as read by readDnsHeader into `header`, `scratch` reused for each name); what was read before a
 * malformed record is kept, and false returned. Never throws.
 */
export function readDnsUpdateNames(
  b: Buffer, p: number, end: number, header: DnsQuestion, scratch: DnsQuestion, prerequisites: string[], updates: string[],
): boolean {
  if (end - p < 12) return false;
  const counts = [header.ancount, u16be(b, p + 8)];
  let q = p + 12;
  for (let i = 0; i < header.qdcount; i++) {
    q = skipName(b, q, end);
    if (q < 0 || q + 4 > end) return false;
    q += 4;
  }
  for (let section = 0; section < 2; section++) {
    const out = section === 0 ? prerequisites : updates;
    for (let i = 0; i < counts[section]; i++) {
      // Past the bound the records are skipped, not named: the updates follow the prerequisites.
      const after = out.length < MAX_ANSWER_NAMES ? readName(b, p, q, end, scratch) : skipName(b, q, end);
      if (after < 0 || after + 10 > end) return false;
      const rdlen = u16be(b, after + 8);
      if (after + 10 + rdlen > end) return false;
      if (out.length < MAX_ANSWER_NAMES) out.push(scratch.name);
      q = after + 10 + rdlen;
    }
  }
  return true;
}

export const OPCODE_IQUERY = 1;
export const OPCODE_STATUS = 2;
export const OPCODE_NOTIFY = 4;
export const OPCODE_UPDATE = 5;
export const OPCODE_DSO = 6;

export const QTYPE_PTR = 12;
export const QTYPE_IXFR = 251;
export const QTYPE_AXFR = 252;
export const RCODE_NXDOMAIN = 3;

/** Question types the reconnaissance detectors want to see whatever the name: reverse lookups and zone transfers. */
export function isReconQtype(t: number): boolean {
  return t === QTYPE_PTR || t === QTYPE_AXFR || t === QTYPE_IXFR;
}

const RCODE_NAMES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];

/** ECS dns.response_code: the RFC 1035/2136 mnemonic, or RCODEn. */
export function dnsRcodeName(r: number): string {
  return RCODE_NAMES[r] ?? `RCODE${r}`;
}
