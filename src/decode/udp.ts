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
  // A tunnel's port (policy tunnels.vxlan_ports, geneve_ports). The range test comes first: it reads two numbers
  // on the packet, where the 64 KB table read cost a cache miss on most datagrams (ephemeral ports) and made the
  // replay of the bench mix several per cent slower.
  const port = pkt.dstPort;
  if (port < pkt.udpTunnelPortMin || port > pkt.udpTunnelPortMax) return DecodeEvent.OK;
  const tunnel = pkt.udpTunnelPorts[port];
  return tunnel === 0 ? DecodeEvent.OK : decodeUdpTunnel(b, tunnel, p + 8, udpEnd, pkt);
}

function decodeUdpTunnel(b: Buffer, tunnel: number, p: number, end: number, pkt: DecodedPacket): number {
  return tunnel === TUNNEL_KIND_VXLAN ? decodeVxlan(b, p, end, pkt) : decodeGeneve(b, p, end, pkt);
}
