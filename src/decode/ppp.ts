import { u16be } from '../capture/bytes';
import { decodeEthertype } from './ethernet';
import { DecodeEvent } from './events';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import type { DecodedPacket } from '../core/packet';

const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const HDLC_ALL_STATIONS = 0xff;
const HDLC_UI = 0x03;
/** Cisco HDLC's address byte: unicast and broadcast (RFC 1547 4.3.1); an EtherType follows the control byte. */
const CISCO_UNICAST = 0x0f;
const CISCO_BROADCAST = 0x8f;

/**
 * The PPP protocol field at p (RFC 1661 2) and what it carries. The field is one byte when protocol field
 * compression was negotiated (its low bit is then set: protocol numbers are odd in their last byte, even before).
 */
function decodePppProtocol(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 1) return DecodeEvent.LINK_TRUNCATED;
  let proto: number;
  if ((b[p] & 1) === 1) {
    proto = b[p];
    p += 1;
  } else {
    if (end - p < 2) return DecodeEvent.LINK_TRUNCATED;
    proto = u16be(b, p);
    p += 2;
  }
  if (proto === PPP_IPV4) return decodeIpv4(b, p, end, pkt);
  if (proto === PPP_IPV6) return decodeIpv6(b, p, end, pkt);
  // LCP, IPCP, CHAP...: the link's own control traffic, no IP in it.
  pkt.events |= 1 << DecodeEvent.NON_IP;
  return DecodeEvent.OK;
}

/**
 * DLT_PPP (9): the PPP protocol field first, or, when the frame starts with 0xff 0x03, PPP in HDLC-like framing
 * (RFC 1662) with address and control before it (libpcap's definition of the link type).
 */
export function decodePpp(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p >= 2 && b[p] === HDLC_ALL_STATIONS && b[p + 1] === HDLC_UI) return decodePppProtocol(b, p + 2, end, pkt);
  return decodePppProtocol(b, p, end, pkt);
}

/**
 * DLT_PPP_HDLC (50, also DLT_PPP_SERIAL): PPP in HDLC-like framing (address 0xff, control 0x03, protocol), or Cisco
 * HDLC (address 0x0f or 0x8f, control 0x00, an EtherType), as libpcap defines the link type.
 */
export function decodePppHdlc(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 2) return DecodeEvent.LINK_TRUNCATED;
  const address = b[p];
  if (address === HDLC_ALL_STATIONS) return decodePppProtocol(b, p + 2, end, pkt);
  if (address === CISCO_UNICAST || address === CISCO_BROADCAST) return decodeCiscoHdlc(b, p, end, pkt);
  pkt.events |= 1 << DecodeEvent.NON_IP;
  return DecodeEvent.OK;
}

/**
 * DLT_C_HDLC (104): Cisco HDLC, address (0x0f unicast, 0x8f broadcast), control 0x00, then an EtherType (RFC 1547
 * 4.3.1). SLARP keepalives (0x8035) and CDP are the link's own traffic, not IP, and end as NON_IP there.
 */
export function decodeCiscoHdlc(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 4) return DecodeEvent.LINK_TRUNCATED;
  return decodeEthertype(b, u16be(b, p + 2), p + 4, end, pkt);
}
