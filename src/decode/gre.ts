import { u16be, u32be } from '../capture/bytes';
import { decodeErspanII, decodeErspanIII } from './erspan';
import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, INNER_ETHERNET, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

const FLAG_CHECKSUM = 0x80;
const FLAG_ROUTING = 0x40;
const FLAG_KEY = 0x20;
const FLAG_SEQUENCE = 0x10;
/** Enhanced GRE (version 1, PPTP, RFC 2637 4.1): the acknowledgment number is present. */
const FLAG_ACK = 0x80;
const ETHERTYPE_ERSPAN_I_II = 0x88be;
const ETHERTYPE_ERSPAN_III = 0x22eb;

/**
 * GRE (RFC 2784 with RFC 2890's key and sequence number; version 1 is PPTP's, with a call id as key and PPP
 * inside). The protocol field is the payload's EtherType: IPv4, IPv6, transparent Ethernet bridging (0x6558),
 * MPLS, or ERSPAN (remote SPAN, erspan.ts). p: the IP payload.
 */
export function decodeGre(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 4) return failTunnel(pkt, DecodeEvent.GRE_TRUNCATED);
  const flags = b[p];
  const version = b[p + 1] & 7;
  const proto = u16be(b, p + 2);
  let q = p + 4;
  let key = -1;
  if (version === 0) {
    // Source routing (RFC 1701) is historic, and its variable route list is not worth reading.
    if ((flags & FLAG_ROUTING) !== 0) return failTunnel(pkt, DecodeEvent.GRE_ROUTING);
    if ((flags & FLAG_CHECKSUM) !== 0) q += 4;
    if ((flags & FLAG_KEY) !== 0) {
      if (q + 4 > end) return failTunnel(pkt, DecodeEvent.GRE_TRUNCATED);
      key = u32be(b, q);
      q += 4;
    }
  } else if (version === 1) {
    if ((flags & FLAG_KEY) === 0) return failTunnel(pkt, DecodeEvent.GRE_BAD_VERSION);
    if (q + 4 > end) return failTunnel(pkt, DecodeEvent.GRE_TRUNCATED);
    key = u16be(b, q + 2); // the call id; the first half is the payload length
    q += 4;
    if ((b[p + 1] & FLAG_ACK) !== 0) q += 4; // skipped with the sequence number below: neither is read
  } else {
    return failTunnel(pkt, DecodeEvent.GRE_BAD_VERSION);
  }
  const sequenced = (flags & FLAG_SEQUENCE) !== 0;
  if (sequenced) q += 4;
  if (q > end) return failTunnel(pkt, DecodeEvent.GRE_TRUNCATED);
  if (proto === ETHERTYPE_ERSPAN_I_II) {
    // Type I has no ERSPAN header and no sequence number; type II has both (as Wireshark tells them apart).
    if (sequenced) return decodeErspanII(b, q, end, pkt);
    const r = enterTunnel(pkt, TUNNEL_KIND.ERSPAN_I, -1);
    return r !== 0 ? r : innerPayload(pkt, INNER_ETHERNET, q, end);
  }
  if (proto === ETHERTYPE_ERSPAN_III) return decodeErspanIII(b, q, end, pkt);
  const r = enterTunnel(pkt, TUNNEL_KIND.GRE, key);
  return r !== 0 ? r : innerPayload(pkt, proto, q, end);
}
