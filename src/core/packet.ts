/**
 * What the decoders learn about one packet, written into one reused object (no allocation per packet).
 * Offsets are into the batch's buffer; addresses are kept as offsets and, for IPv4, as a 32-bit number.
 */
export interface DecodedPacket {
  ipVersion: number; // 0 when not IP
  l3Off: number;
  srcAddrOff: number;
  dstAddrOff: number;
  src4: number;
  dst4: number;
  ttl: number; // hop limit for IPv6
  ipId: number;
  dontFragment: boolean;
  /** 0: not a fragment; 1: first fragment (L4 header present); 2: later fragment (no L4). */
  fragment: number;
  proto: number; // IP protocol of the transport header (after IPv6 extension headers)
  /** End of the IP datagram within the captured bytes (captured end, or the IP length if shorter: padding). */
  ipEnd: number;
  l4Off: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  tcpSeq: number;
  tcpAck: number;
  tcpWindow: number;
  tcpHeaderLen: number;
  /** TCP option kinds in order, up to 8, one byte each (first in the top byte of hi); 0 past the last. */
  tcpOptKindsHi: number;
  tcpOptKindsLo: number;
  tcpOptCount: number;
  tcpMss: number; // -1 when absent
  tcpWscale: number; // -1 when absent
  icmpType: number;
  icmpCode: number;
  payloadOff: number;
  payloadLen: number;
  vlanCount: number;
  vlanOuter: number; // outermost VLAN id, -1 when untagged
  /** Fewer bytes were captured than were on the wire: lengths past the capture are believed, not checked. */
  snaplenCut: boolean;
  /** Decode events met, one bit per DecodeEvent code: counted by whoever owns the packet. */
  events: number;
}

export function createDecodedPacket(): DecodedPacket {
  return {
    ipVersion: 0, l3Off: 0, srcAddrOff: 0, dstAddrOff: 0, src4: 0, dst4: 0, ttl: 0, ipId: 0, dontFragment: false,
    fragment: 0, proto: 0, ipEnd: 0, l4Off: 0, srcPort: 0, dstPort: 0, tcpFlags: 0, tcpSeq: 0, tcpAck: 0,
    tcpWindow: 0, tcpHeaderLen: 0, tcpOptKindsHi: 0, tcpOptKindsLo: 0, tcpOptCount: 0, tcpMss: -1, tcpWscale: -1,
    icmpType: 0, icmpCode: 0, payloadOff: 0, payloadLen: 0, vlanCount: 0, vlanOuter: -1, snaplenCut: false, events: 0,
  };
}

export function resetDecodedPacket(p: DecodedPacket): void {
  p.events = 0;
  p.ipVersion = 0;
  p.fragment = 0;
  p.proto = 0;
  p.srcPort = 0;
  p.dstPort = 0;
  p.tcpFlags = 0;
  p.tcpOptCount = 0;
  p.tcpOptKindsHi = 0;
  p.tcpOptKindsLo = 0;
  p.tcpMss = -1;
  p.tcpWscale = -1;
  p.payloadOff = 0;
  p.payloadLen = 0;
  p.vlanCount = 0;
  p.vlanOuter = -1;
}

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
