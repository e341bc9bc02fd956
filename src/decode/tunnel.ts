import { DecodeEvent, markEvent } from './events';
import { forgetNetworkLayers, TUNNEL_KIND_GENEVE, TUNNEL_KIND_VXLAN, type DecodedPacket } from '../core/packet';

/**
 * Tunnels, in the manner of Suricata's decoder layers: a tunnel decoder (vxlan.ts, geneve.ts, gre.ts, erspan.ts,
 * mpls.ts, pppoe.ts) reads its own header, calls enterTunnel, sets where its payload starts and what it is
 * (pkt.innerOff/innerEnd/innerType) and returns TUNNEL_NEXT; decodePacket (decode.ts) then decodes the payload from
 * its link layer on, as if it had been captured directly. The loop is bounded by the packet's maxTunnelDepth
 * (policy tunnels.max_depth), checked here. Returning instead of calling on keeps the decoders free of import
 * cycles (udp -> vxlan -> ethernet -> ipv4 -> udp).
 */
export const TUNNEL_NEXT = -1;

export const TUNNEL_KIND = {
  VXLAN: TUNNEL_KIND_VXLAN,
  GENEVE: TUNNEL_KIND_GENEVE,
  GRE: 3,
  ERSPAN_I: 4,
  ERSPAN_II: 5,
  ERSPAN_III: 6,
  MPLS: 7,
  PPPOE: 8,
} as const;

/** picket.tunnel.kind, by TunnelKind code. */
export const TUNNEL_KIND_NAMES: readonly string[] = ['', 'vxlan', 'geneve', 'gre', 'erspan_i', 'erspan_ii', 'erspan_iii', 'mpls', 'pppoe'];

/** What a tunnel carries (pkt.innerType): an EtherType, or one of these. */
export const INNER_ETHERNET = 0x6558; // transparent Ethernet bridging: a whole Ethernet frame
export const INNER_PPP = 0x880b; // a PPP frame (protocol field first, or 0xff 0x03 before it)
/** An IPv4 or IPv6 packet, told apart by its version nibble (ERSPAN III frame type 2, MPLS). */
export const INNER_IP = 0x10000;

/**
 * Called by a tunnel decoder once its header is whole: checks the depth bound, records the outermost tunnel
 * (kind, id, the endpoints of the packet that carried it) and forgets the carrier's IP and transport facts, so
 * that a payload that turns out not to be IP is not mistaken for the carrier. Returns 0 or TUNNEL_TOO_DEEP.
 */
export function enterTunnel(pkt: DecodedPacket, kind: number, id: number): number {
  if (pkt.tunnelDepth >= pkt.maxTunnelDepth) return failTunnel(pkt, DecodeEvent.TUNNEL_TOO_DEEP);
  if (pkt.tunnelDepth === 0) {
    pkt.tunnelKind = kind;
    pkt.tunnelId = id;
    pkt.tunnelOuterVersion = pkt.ipVersion;
    pkt.tunnelOuterSrcOff = pkt.srcAddrOff;
    pkt.tunnelOuterDstOff = pkt.dstAddrOff;
  }
  pkt.tunnelDepth++;
  markEvent(pkt, DecodeEvent.TUNNEL_VXLAN + kind - 1);
  forgetNetworkLayers(pkt);
  pkt.vlanCount = 0;
  pkt.vlanOuter = -1;
  return 0;
}

/** A tunnel header that is cut or malformed: the packet is left as not IP (its carrier is the mirror's flow). */
export function failTunnel(pkt: DecodedPacket, event: number): number {
  forgetNetworkLayers(pkt);
  return event;
}

/** Sets where the payload is and what it is; returns TUNNEL_NEXT for the decoder to return. */
export function innerPayload(pkt: DecodedPacket, type: number, off: number, end: number): number {
  pkt.innerType = type;
  pkt.innerOff = off;
  pkt.innerEnd = end;
  return TUNNEL_NEXT;
}
