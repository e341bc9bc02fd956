import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { decodeGeneve } from './geneve';
import { TUNNEL_KIND_VXLAN, type DecodedPacket } from '../core/packet';
import { decodeVxlan } from './vxlan';

export function decodeUdp(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 8) return DecodeEvent.UDP_TRUNCATED;
  pkt.srcPort = u16be(b, p);
  pkt.dstPort = u16be(b, p + 2);
  const len = u16be(b, p + 4);
  if (len < 8) return DecodeEvent.UDP_BAD_LEN;
  let udpEnd = p + len;
  if (udpEnd > end) {
    if (!pkt.snaplenCut) pkt.events |= 1 << DecodeEvent.UDP_BAD_LEN;
    udpEnd = end;
  }
  pkt.payloadOff = p + 8;
  pkt.payloadLen = udpEnd - pkt.payloadOff;
  return DecodeEvent.OK;
}

/**
 * A UDP datagram to a tunnel's port (policy tunnels.vxlan_ports, geneve_ports) is a tunnel: decoded from
 * decodePacket after the transport, not from decodeUdp (which stays as small as before tunnels, so that V8 still
 * inlines the decoders into the engine's loop; with the check in it the bench mix replayed 5 % slower). The range
 * test reads two numbers on the packet before the 64 KB table, whose reads were cache misses on most datagrams.
 */
export function decodeUdpTunnel(b: Buffer, pkt: DecodedPacket): number {
  const port = pkt.dstPort;
  if (port < pkt.udpTunnelPortMin || port > pkt.udpTunnelPortMax || pkt.fragment === 2) return DecodeEvent.OK;
  const tunnel = pkt.udpTunnelPorts[port];
  if (tunnel === 0) return DecodeEvent.OK;
  const p = pkt.payloadOff;
  const end = p + pkt.payloadLen;
  return tunnel === TUNNEL_KIND_VXLAN ? decodeVxlan(b, p, end, pkt) : decodeGeneve(b, p, end, pkt);
}
