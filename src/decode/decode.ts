import { decodeEthernet, decodeEthertype } from './ethernet';
import { DecodeEvent, markEvent } from './events';
import { decodeRadiotap } from './ieee80211';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { decodeLoopback } from './loopback';
import { decodeNflog } from './nflog';
import { decodeCiscoHdlc, decodePpp, decodePppHdlc } from './ppp';
import { IPPROTO_UDP, resetDecodedPacket, type DecodedPacket } from '../core/packet';
import { decodeSll, decodeSll2 } from './sll';
import { INNER_ETHERNET, INNER_IP, INNER_PPP, TUNNEL_NEXT } from './tunnel';
import { decodeUdpTunnel } from './udp';

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;
export const LINKTYPE_PPP = 9;
export const LINKTYPE_PPP_HDLC = 50;
export const LINKTYPE_C_HDLC = 104;
export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_NFLOG = 239;
/** DLT_RAW's value on some BSDs, found in files written there. */
export const LINKTYPE_RAW_BSD_A = 12;
export const LINKTYPE_RAW_BSD_B = 14;

export const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'EN10MB', 9: 'PPP', 12: 'RAW', 14: 'RAW', 50: 'PPP_HDLC', 101: 'RAW', 104: 'C_HDLC', 108: 'LOOP', 113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIO', 228: 'IPV4', 229: 'IPV6', 239: 'NFLOG', 276: 'LINUX_SLL2',
};

/**
 * Decodes one packet from its link layer to its transport header into pkt. Returns 0 or the decode event that
 * stopped it; every event met, that one included, is set as a bit in pkt.events. Never throws.
 */
export function decodePacket(
  b: Buffer, off: number, caplen: number, origlen: number, linktype: number, pkt: DecodedPacket,
): number {
  resetDecodedPacket(pkt);
  pkt.snaplenCut = caplen < origlen;
  if (pkt.snaplenCut) pkt.events |= 1 << DecodeEvent.SNAPLEN_CUT;
  const end = off + caplen;
  // Ethernet first and the rest out of line: decodePacket stays small enough for the engine's loop to inline.
  let r = linktype === LINKTYPE_ETHERNET ? decodeEthernet(b, off, end, pkt) : decodeOtherLink(b, off, end, caplen, linktype, pkt);
  if (r === 0 && pkt.proto === IPPROTO_UDP && pkt.dstPort >= pkt.udpTunnelPortMin && pkt.dstPort <= pkt.udpTunnelPortMax) r = decodeUdpTunnel(b, pkt);
  if (r === TUNNEL_NEXT) r = decodeTunnelled(b, pkt);
  if (r !== 0) markEvent(pkt, r);
  return r;
}

function decodeOtherLink(b: Buffer, off: number, end: number, caplen: number, linktype: number, pkt: DecodedPacket): number {
  let r: number;
  switch (linktype) {
    case LINKTYPE_LINUX_SLL:
      r = decodeSll(b, off, end, pkt);
      break;
    case LINKTYPE_LINUX_SLL2:
      r = decodeSll2(b, off, end, pkt);
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_BSD_A:
    case LINKTYPE_RAW_BSD_B:
      r = caplen > 0 && b[off] >> 4 === 6 ? decodeIpv6(b, off, end, pkt) : decodeIpv4(b, off, end, pkt);
      break;
    case LINKTYPE_IPV4:
      r = decodeIpv4(b, off, end, pkt);
      break;
    case LINKTYPE_IPV6:
      r = decodeIpv6(b, off, end, pkt);
      break;
    case LINKTYPE_NULL:
      r = decodeLoopback(b, off, end, pkt, false);
      break;
    case LINKTYPE_LOOP:
      r = decodeLoopback(b, off, end, pkt, true);
      break;
    case LINKTYPE_PPP:
      r = decodePpp(b, off, end, pkt);
      break;
    case LINKTYPE_PPP_HDLC:
      r = decodePppHdlc(b, off, end, pkt);
      break;
    case LINKTYPE_C_HDLC:
      r = decodeCiscoHdlc(b, off, end, pkt);
      break;
    case LINKTYPE_IEEE802_11_RADIOTAP:
      r = decodeRadiotap(b, off, end, pkt);
      break;
    case LINKTYPE_NFLOG:
      r = decodeNflog(b, off, end, pkt);
      break;
    default:
      r = DecodeEvent.LINKTYPE_UNSUPPORTED;
  }
  return r;
}

/**
 * A tunnel decoder returned TUNNEL_NEXT with its payload located; each pass is one tunnel deeper, and enterTunnel
 * stops the nesting at the policy's depth, so this loop is bounded.
 */
function decodeTunnelled(b: Buffer, pkt: DecodedPacket): number {
  let r = TUNNEL_NEXT;
  while (r === TUNNEL_NEXT) {
    r = decodeInner(b, pkt.innerType, pkt.innerOff, pkt.innerEnd, pkt);
    if (r === 0 && pkt.proto === IPPROTO_UDP) r = decodeUdpTunnel(b, pkt);
  }
  return r;
}

/** A tunnel's payload, decoded from its own link layer on. */
function decodeInner(b: Buffer, type: number, p: number, end: number, pkt: DecodedPacket): number {
  if (type === INNER_ETHERNET) return decodeEthernet(b, p, end, pkt);
  if (type === INNER_IP) return end > p && b[p] >> 4 === 6 ? decodeIpv6(b, p, end, pkt) : decodeIpv4(b, p, end, pkt);
  if (type === INNER_PPP) return decodePpp(b, p, end, pkt);
  return decodeEthertype(b, type, p, end, pkt);
}
