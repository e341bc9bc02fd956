/**
 * Decode events, in the manner of Suricata's: a decoder that meets bytes it cannot use records one of these and
 * returns; it never throws on packet data. Counters are indexed by the code.
 */
export const DecodeEvent = {
  OK: 0,
  // informational: the packet is fine, but not everything in it is decoded
  NON_IP: 1,
  SNAPLEN_CUT: 2,
  IPV4_FRAGMENT: 3,
  IPV6_FRAGMENT: 4,
  IPV4_OPTIONS: 5,
  OTHER_L4: 6,
  // errors: the packet is damaged or lies about its lengths
  LINKTYPE_UNSUPPORTED: 7,
  LINK_TRUNCATED: 8,
  VLAN_TOO_DEEP: 9,
  NULL_UNKNOWN_FAMILY: 10,
  IPV4_TRUNCATED: 11,
  IPV4_BAD_IHL: 12,
  IPV4_BAD_TOTAL_LEN: 13,
  IP_BAD_VERSION: 14,
  IPV6_TRUNCATED: 15,
  IPV6_EXT_TRUNCATED: 16,
  IPV6_TOO_MANY_EXT: 17,
  TCP_TRUNCATED: 18,
  TCP_BAD_OFFSET: 19,
  TCP_BAD_OPTION: 20,
  UDP_TRUNCATED: 21,
  UDP_BAD_LEN: 22,
  ICMP_TRUNCATED: 23,
  DNS_MALFORMED: 24,
  IPV6_BAD_PAYLOAD_LEN: 25,
  // Counted by the file framers, not by decodePacket: a record's time is read before any packet decoding, and a
  // framer's counts are per file, so they are counted once however many threads share the packets out.
  TIMESTAMP_OUT_OF_RANGE: 26,
  // informational, added after the errors (codes are stable): an 802.11 data frame with the Protected bit, whose
  // payload is encrypted (WEP/CCMP/GCMP) and cannot be read without the keys.
  WIFI_PROTECTED: 27,
  // Tunnels (src/decode/tunnel.ts). Informational: one per tunnel kind a packet was carried in (a packet inside a
  // VXLAN inside a GRE tunnel counts once under each); the inner packet is decoded as if captured directly.
  TUNNEL_VXLAN: 28,
  TUNNEL_GENEVE: 29,
  TUNNEL_GRE: 30,
  TUNNEL_ERSPAN_I: 31,
  TUNNEL_ERSPAN_II: 32,
  TUNNEL_ERSPAN_III: 33,
  TUNNEL_MPLS: 34,
  TUNNEL_PPPOE: 35,
  // Tunnel errors: the tunnel header is cut or malformed, or tunnels nest past policy's tunnels.max_depth. The
  // packet is then not decoded further and is not seen as IP (its outer flow is the mirror's, not a connection).
  TUNNEL_TOO_DEEP: 36,
  VXLAN_TRUNCATED: 37,
  VXLAN_BAD_FLAGS: 38,
  GENEVE_TRUNCATED: 39,
  GENEVE_BAD_VERSION: 40,
  GENEVE_BAD_OPTIONS: 41,
  GRE_TRUNCATED: 42,
  GRE_BAD_VERSION: 43,
  GRE_ROUTING: 44,
  ERSPAN_TRUNCATED: 45,
  ERSPAN_BAD_VERSION: 46,
  MPLS_TRUNCATED: 47,
  MPLS_TOO_DEEP: 48,
  MPLS_UNKNOWN_PAYLOAD: 49,
  PPPOE_TRUNCATED: 50,
  PPPOE_MALFORMED: 51,
} as const;

export type DecodeEventCode = (typeof DecodeEvent)[keyof typeof DecodeEvent];

export const DECODE_EVENT_COUNT = 52;
/** Codes below this are not errors, nor are the informational ones added later (isDecodeError). */
export const FIRST_ERROR_EVENT = DecodeEvent.LINKTYPE_UNSUPPORTED;

/** Whether a decode event is an error (the packet is damaged or lies), not a fact about what was not decoded. */
export function isDecodeError(code: number): boolean {
  return code >= FIRST_ERROR_EVENT && code !== DecodeEvent.WIFI_PROTECTED && !(code >= DecodeEvent.TUNNEL_VXLAN && code <= DecodeEvent.TUNNEL_PPPOE);
}

/** Stable names, used in the summary and under picket.decode.* (lower_snake, as in Suricata's decoder events). */
export const DECODE_EVENT_NAMES: readonly string[] = (() => {
  const names: string[] = new Array<string>(DECODE_EVENT_COUNT).fill('');
  for (const [k, v] of Object.entries(DecodeEvent)) names[v] = k.toLowerCase();
  return names;
})();

export function createDecodeCounters(): Float64Array {
  return new Float64Array(DECODE_EVENT_COUNT);
}

/** Adds a packet's event bits to the counters: codes 0-31 in events, 32-63 in eventsHi. */
export function countDecodeEvents(counters: Float64Array, events: number, eventsHi: number): void {
  for (let e = events, code = 0; e !== 0; e >>>= 1, code++) if ((e & 1) !== 0) counters[code]++;
  for (let e = eventsHi, code = 32; e !== 0; e >>>= 1, code++) if ((e & 1) !== 0) counters[code]++;
}

/** Sets an event's bit on a packet (codes past 31 go in the second word). */
export function markEvent(pkt: { events: number; eventsHi: number }, code: number): void {
  if (code < 32) pkt.events |= 1 << code;
  else pkt.eventsHi |= 1 << (code - 32);
}

/**
 * The run's decode counts: the engines' per-packet counts plus the framers' per-file ones (FileReport.decode).
 * A worker reads every file but only worker 0's reports are kept, so a file's counts are added once.
 */
export function withFileEvents(engine: readonly number[], files: ReadonlyArray<{ decode: readonly number[] }>): number[] {
  const out = Array.from({ length: DECODE_EVENT_COUNT }, (_, code) => engine[code] ?? 0);
  for (const f of files) f.decode.forEach((n, code) => { if (code < DECODE_EVENT_COUNT) out[code] += n; });
  return out;
}
