/**
 * Connection attempts and their outcomes, as the scan detectors read them. An attempt is the commonest thing a
 * sensor reports (every SYN, every new UDP flow, every ping in a watched direction), so it is never an object:
 * the engine fills one reused ScanRecord and hands it on at once (inline), or appends it to a ScanLog, columns in
 * typed arrays that cross to the main thread as a few buffers rather than as thousands of cloned objects.
 */

export const SCAN_PROBE = 0;
export const SCAN_REPLY = 1;
/** After a SYN-ACK: the prober completed the handshake, sent data or closed with FIN (a connection, not a probe). */
export const SCAN_ESTABLISHED = 2;
/**
 * After a SYN-ACK: the prober reset the connection before any payload went either way: a half-open (SYN scan) or
 * connect-scan probe of an open port, counted as failed as in Zeek's scan policy (is_failed_conn).
 */
export const SCAN_ABORTED = 3;
/** The prober sent payload on an answered connection: what follows a scan when the scanner uses what it found. */
export const SCAN_DATA = 4;

export const PROTO_TCP = 0;
export const PROTO_UDP = 1;
export const PROTO_ICMP = 2;
export const SCAN_PROTOS = ['tcp', 'udp', 'icmp'] as const;

export const OUTCOME_ANSWERED = 0;
export const OUTCOME_REJECTED = 1;
export const OUTCOME_UNREACHABLE = 2;
export const SCAN_OUTCOMES = ['answered', 'rejected', 'unreachable'] as const;

/** Traffic directions as numbers (config/homenet.ts names them); a record carries the index. */
export const DIRECTIONS = ['inbound', 'outbound', 'internal', 'external'] as const;

/**
 * One probe or reply. Ends are always prober -> target (a reply is described from the prober's side, as its
 * probe was), so that the aggregator finds the probe under the same key. Addresses are raw: `addr` holds the
 * prober's 16 bytes then the target's (IPv4 in the first 4 of each), strings are made only for what is kept.
 */
export interface ScanRecord {
  kind: number;
  ordinal: number;
  tsSec: number;
  tsNsec: number;
  proto: number;
  /** For replies: OUTCOME_*. */
  outcome: number;
  /** A 30-bit hash of (proto, prober, target, ports): the key for matching replies (the ends are compared on a match). */
  attemptKey: number;
  ipVersion: number;
  srcPort: number;
  dstPort: number;
  /** Index into DIRECTIONS. */
  direction: number;
  /** Probe traits, for naming the tool: ICMP type (8 echo, 13 timestamp), TTL, IP ID, TCP window and sequence. */
  icmpType: number;
  ttl: number;
  ipId: number;
  tcpWindow: number;
  tcpSeq: number;
  /** Index of the scanner fingerprint (rules' fingerprints) the probe matches, or -1. */
  fingerprint: number;
  addr: Uint8Array;
  /** The outermost tunnel the packet came in (decode/tunnel.ts kind index), 0 deep when none. */
  tunnelDepth: number;
  tunnelKind: number;
  tunnelId: number;
  /** IP version of the packet that carried the tunnel (0: not IP), and its ends in `tunnelAddr` (16 + 16 bytes). */
  tunnelOuterVersion: number;
  tunnelAddr: Uint8Array;
}

export function createScanRecord(): ScanRecord {
  // tcpSeq and tunnelId hold unsigned 32-bit values: they start as doubles (-0, -1.5), as DecodedPacket's do (see
  // createDecodedPacket: a first value past 2^31 would change the record's hidden class mid-run).
  const r: ScanRecord = {
    kind: 0, ordinal: 0, tsSec: 0, tsNsec: 0, proto: 0, outcome: 0, attemptKey: 0, ipVersion: 4, srcPort: 0, dstPort: 0, direction: 0,
    icmpType: 0, ttl: 0, ipId: 0, tcpWindow: 0, tcpSeq: -0, fingerprint: -1, addr: new Uint8Array(32),
    tunnelDepth: 0, tunnelKind: 0, tunnelId: -1.5, tunnelOuterVersion: 0, tunnelAddr: new Uint8Array(32),
  };
  r.tunnelId = -1;
  return r;
}

/** Numeric fields of a record, in this order, in a log's `num` column block. */
const NUM_FIELDS = 21;
/** Address bytes per record: its own ends, then the tunnel's outer ends. */
const ADDR_BYTES = 64;

/** Records in columns: the wire form between threads (all of it transferable). */
export interface ScanLog {
  count: number;
  num: Float64Array;
  addr: Uint8Array;
}

export function createScanLog(capacity = 256): ScanLog {
  return { count: 0, num: new Float64Array(capacity * NUM_FIELDS), addr: new Uint8Array(capacity * ADDR_BYTES) };
}

export function scanLogAppend(log: ScanLog, r: ScanRecord): void {
  if ((log.count + 1) * NUM_FIELDS > log.num.length) {
    const num = new Float64Array(log.num.length * 2);
    num.set(log.num);
    const addr = new Uint8Array(log.addr.length * 2);
    addr.set(log.addr);
    log.num = num;
    log.addr = addr;
  }
  const n = log.num;
  const o = log.count * NUM_FIELDS;
  n[o] = r.kind;
  n[o + 1] = r.ordinal;
  n[o + 2] = r.tsSec;
  n[o + 3] = r.tsNsec;
  n[o + 4] = r.proto;
  n[o + 5] = r.outcome;
  n[o + 6] = r.attemptKey;
  n[o + 7] = r.ipVersion;
  n[o + 8] = r.srcPort;
  n[o + 9] = r.dstPort;
  n[o + 10] = r.direction;
  n[o + 11] = r.icmpType;
  n[o + 12] = r.ttl;
  n[o + 13] = r.ipId;
  n[o + 14] = r.tcpWindow;
  n[o + 15] = r.tcpSeq;
  n[o + 16] = r.fingerprint;
  n[o + 17] = r.tunnelDepth;
  n[o + 18] = r.tunnelKind;
  n[o + 19] = r.tunnelId;
  n[o + 20] = r.tunnelOuterVersion;
  log.addr.set(r.addr, log.count * ADDR_BYTES);
  if (r.tunnelDepth > 0) log.addr.set(r.tunnelAddr, log.count * ADDR_BYTES + 32);
  log.count++;
}

/** The ordinal of the log's i-th record, without reading the rest of it (for merging logs by packet order). */
export function scanLogOrdinal(log: ScanLog, i: number): number {
  return log.num[i * NUM_FIELDS + 1];
}

/** The packet time of the log's i-th record (for merging logs by time), without reading the rest of it. */
export function scanLogTsSec(log: ScanLog, i: number): number {
  return log.num[i * NUM_FIELDS + 2];
}

export function scanLogTsNsec(log: ScanLog, i: number): number {
  return log.num[i * NUM_FIELDS + 3];
}

export function scanLogRead(log: ScanLog, i: number, r: ScanRecord): void {
  const n = log.num;
  const o = i * NUM_FIELDS;
  r.kind = n[o];
  r.ordinal = n[o + 1];
  r.tsSec = n[o + 2];
  r.tsNsec = n[o + 3];
  r.proto = n[o + 4];
  r.outcome = n[o + 5];
  r.attemptKey = n[o + 6];
  r.ipVersion = n[o + 7];
  r.srcPort = n[o + 8];
  r.dstPort = n[o + 9];
  r.direction = n[o + 10];
  r.icmpType = n[o + 11];
  r.ttl = n[o + 12];
  r.ipId = n[o + 13];
  r.tcpWindow = n[o + 14];
  r.tcpSeq = n[o + 15];
  r.fingerprint = n[o + 16];
  r.tunnelDepth = n[o + 17];
  r.tunnelKind = n[o + 18];
  r.tunnelId = n[o + 19];
  r.tunnelOuterVersion = n[o + 20];
  // Byte by byte: a subarray() view per record would be an allocation per attempt.
  const src = log.addr;
  const a = i * ADDR_BYTES;
  const addr = r.addr;
  for (let k = 0; k < 32; k++) addr[k] = src[a + k];
  if (r.tunnelDepth === 0) return;
  const t = r.tunnelAddr;
  for (let k = 0; k < 32; k++) t[k] = src[a + 32 + k];
}

/** The log's used part, trimmed, for postMessage with its buffers transferred; the sender starts a new log. */
export function scanLogSeal(log: ScanLog): ScanLog {
  return { count: log.count, num: log.num.slice(0, log.count * NUM_FIELDS), addr: log.addr.slice(0, log.count * ADDR_BYTES) };
}
