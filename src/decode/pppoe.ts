import { u16be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { enterTunnel, failTunnel, innerPayload, INNER_PPP, TUNNEL_KIND } from './tunnel';
import type { DecodedPacket } from '../core/packet';

const PPPOE_HEADER = 6;
const VERSION_TYPE = 0x11;
const CODE_SESSION = 0x00;

/**
 * A PPPoE session frame (RFC 2516 4, EtherType 0x8864): version and type 1, code 0, the session id and the
 * payload length, then a PPP frame (its protocol field first). Discovery frames (0x8863) carry no IP.
 */
export function decodePppoe(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < PPPOE_HEADER) return failTunnel(pkt, DecodeEvent.PPPOE_TRUNCATED);
  if (b[p] !== VERSION_TYPE || b[p + 1] !== CODE_SESSION) return failTunnel(pkt, DecodeEvent.PPPOE_MALFORMED);
  const len = u16be(b, p + 4);
  let payloadEnd = p + PPPOE_HEADER + len;
  if (payloadEnd > end) {
    if (!pkt.snaplenCut) return failTunnel(pkt, DecodeEvent.PPPOE_MALFORMED);
    payloadEnd = end;
  }
  const r = enterTunnel(pkt, TUNNEL_KIND.PPPOE, u16be(b, p + 2));
  return r !== 0 ? r : innerPayload(pkt, INNER_PPP, p + PPPOE_HEADER, payloadEnd);
}
