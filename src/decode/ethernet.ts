import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { decodeIpv4 } from './ipv4';
import { decodeIpv6 } from './ipv6';
import { decodeMpls } from './mpls';
import { decodePppoe } from './pppoe';
import type { DecodedPacket } from '../core/packet';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const MAX_VLAN_DEPTH = 4;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
const ETHERTYPE_PPPOE_SESSION = 0x8864;

/** 802.1Q, 802.1ad and the pre-standard 0x9100 QinQ tag. */
export function isVlanEthertype(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
}

export function decodeEthernet(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 14) return DecodeEvent.LINK_TRUNCATED;
  return decodeEthertype(b, u16be(b, p + 12), p + 14, end, pkt);
}

/** Dispatches on an EtherType, peeling 802.1Q / 802.1ad tags first; shared by Ethernet and Linux cooked captures. */
export function decodeEthertype(b: Buffer, type: number, p: number, end: number, pkt: DecodedPacket): number {
  while (isVlanEthertype(type)) {
    if (end - p < 4) return DecodeEvent.LINK_TRUNCATED;
    if (pkt.vlanCount === MAX_VLAN_DEPTH) return DecodeEvent.VLAN_TOO_DEEP;
    if (pkt.vlanCount === 0) pkt.vlanOuter = u16be(b, p) & 0x0fff;
    pkt.vlanCount++;
    type = u16be(b, p + 2);
    p += 4;
  }
  if (type === ETHERTYPE_IPV4) return decodeIpv4(b, p, end, pkt);
  if (type === ETHERTYPE_IPV6) return decodeIpv6(b, p, end, pkt);
  return decodeOtherEthertype(b, type, p, end, pkt);
}

/** EtherTypes other than IP, out of the common path: MPLS and PPPoE sessions carry IP; the rest is counted. */
function decodeOtherEthertype(b: Buffer, type: number, p: number, end: number, pkt: DecodedPacket): number {
  if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MULTICAST) return decodeMpls(b, p, end, pkt);
  if (type === ETHERTYPE_PPPOE_SESSION) return decodePppoe(b, p, end, pkt);
  pkt.events |= 1 << DecodeEvent.NON_IP;
  return DecodeEvent.OK;
}
