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
  /** Decode events met, one bit per DecodeEvent code (codes 0-31; 32-63 in eventsHi): counted by whoever owns the packet. */
  events: number;
  eventsHi: number;
  /**
   * Tunnels the packet came in (src/decode/tunnel.ts): 0 for a packet captured directly. When not 0, every field
   * above describes the innermost packet, as if captured directly, and the tunnel* fields the outermost tunnel.
   */
  tunnelDepth: number;
  /** TunnelKind of the outermost tunnel. */
  tunnelKind: number;
  /** Its VNI, GRE key, ERSPAN or PPPoE session id, MPLS label; -1 when it has none. */
  tunnelId: number;
  /** The IP version and address offsets of the packet that carried the outermost tunnel (0: none, as for MPLS on Ethernet). */
  tunnelOuterVersion: number;
  tunnelOuterSrcOff: number;
  tunnelOuterDstOff: number;
  /** Where the tunnel decoder that returned TUNNEL_NEXT found its payload, and what it is (src/decode/tunnel.ts INNER_*). */
  innerOff: number;
  innerEnd: number;
  innerType: number;
  /** Policy: UDP destination ports that carry tunnels (TunnelKind by port, 0: none), and the nesting bound. */
  udpTunnelPorts: Uint8Array;
  /** The lowest and highest of those ports (min > max when there are none): the table is read only between them. */
  udpTunnelPortMin: number;
  udpTunnelPortMax: number;
  maxTunnelDepth: number;
}

/** VXLAN's and GENEVE's IANA ports, and the depth bound, until policy says otherwise (rules/policy.yaml tunnels). */
export const DEFAULT_VXLAN_PORT = 4789;
export const DEFAULT_GENEVE_PORT = 6081;
export const DEFAULT_MAX_TUNNEL_DEPTH = 4;
/** TunnelKind codes that udpTunnelPorts holds (the others live in src/decode/tunnel.ts). */
export const TUNNEL_KIND_VXLAN = 1;
export const TUNNEL_KIND_GENEVE = 2;

/** Sets the packet's UDP tunnel ports (udpTunnelPorts and the range around them). */
export function setUdpTunnelPorts(pkt: DecodedPacket, vxlanPorts: readonly number[], genevePorts: readonly number[]): void {
  const t = new Uint8Array(65536);
  for (const p of vxlanPorts) t[p] = TUNNEL_KIND_VXLAN;
  for (const p of genevePorts) t[p] = TUNNEL_KIND_GENEVE;
  pkt.udpTunnelPorts = t;
  [pkt.udpTunnelPortMin, pkt.udpTunnelPortMax] = udpTunnelPortRange(vxlanPorts, genevePorts);
}

/** The lowest and highest UDP tunnel port; min > max when there are none. */
export function udpTunnelPortRange(vxlanPorts: readonly number[], genevePorts: readonly number[]): [number, number] {
  const all = [...vxlanPorts, ...genevePorts];
  return all.length > 0 ? [Math.min(...all), Math.max(...all)] : [1, 0];
}

export function createDecodedPacket(): DecodedPacket {
  // The fields reset on every packet first, together (they share the object's first cache lines). Fields that hold
  // unsigned 32-bit values start as doubles (-0; tunnelId -1.5, then -1): a value past 2^31 would otherwise change
  // the field from small integer to double when it first comes, replacing the object's hidden class and discarding
  // every piece of optimised code that reads the packet (V8 "wrong map" deoptimisations, each followed by a
  // recompile of the engine's loop). Offsets and ports must stay small integers: never store a double into them.
  const pkt: DecodedPacket = {
    events: 0, eventsHi: 0, tunnelDepth: 0, ipVersion: 0, l3Off: 0, srcAddrOff: 0, dstAddrOff: 0, src4: -0, dst4: -0, ttl: 0, ipId: 0, dontFragment: false,
    fragment: 0, proto: 0, ipEnd: 0, l4Off: 0, srcPort: 0, dstPort: 0, tcpFlags: 0, tcpSeq: -0, tcpAck: -0,
    tcpWindow: 0, tcpHeaderLen: 0, tcpOptKindsHi: 0, tcpOptKindsLo: 0, tcpOptCount: 0, tcpMss: -1, tcpWscale: -1,
    icmpType: 0, icmpCode: 0, payloadOff: 0, payloadLen: 0, vlanCount: 0, vlanOuter: -1, snaplenCut: false,
    tunnelKind: 0, tunnelId: -1.5, tunnelOuterVersion: 0, tunnelOuterSrcOff: 0, tunnelOuterDstOff: 0,
    innerOff: 0, innerEnd: 0, innerType: 0, udpTunnelPorts: new Uint8Array(0), udpTunnelPortMin: 0, udpTunnelPortMax: -1,
    maxTunnelDepth: DEFAULT_MAX_TUNNEL_DEPTH,
  };
  pkt.tunnelId = -1;
  setUdpTunnelPorts(pkt, [DEFAULT_VXLAN_PORT], [DEFAULT_GENEVE_PORT]);
  return pkt;
}

/** Before each packet: nothing decoded yet (forgetNetworkLayers is small enough for V8 to inline here). */
export function resetDecodedPacket(p: DecodedPacket): void {
  p.events = 0;
  p.eventsHi = 0;
  p.tunnelDepth = 0;
  p.vlanCount = 0;
  p.vlanOuter = -1;
  forgetNetworkLayers(p);
}

/**
 * Clears what the IP and transport decoders set conditionally, so that a packet is "not IP" until one of them
 * says otherwise: at the start of every packet, and where a tunnel begins (its carrier is not the packet).
 */
export function forgetNetworkLayers(p: DecodedPacket): void {
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
