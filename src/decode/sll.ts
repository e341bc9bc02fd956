import { u16be } from '../capture/bytes';
import { decodeEthertype } from './ethernet';
import { DecodeEvent } from './events';
import type { DecodedPacket } from '../core/packet';

/** Linux cooked capture v1 (tcpdump -i any before libpcap 1.10): 16-byte header, protocol at offset 14. */
export function decodeSll(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 16) return DecodeEvent.LINK_TRUNCATED;
  return decodeEthertype(b, u16be(b, p + 14), p + 16, end, pkt);
}

/** Linux cooked capture v2: 20-byte header, protocol first. */
export function decodeSll2(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 20) return DecodeEvent.LINK_TRUNCATED;
  return decodeEthertype(b, u16be(b, p), p + 20, end, pkt);
}
