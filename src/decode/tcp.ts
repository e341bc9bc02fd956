import { u16be, u32be } from '../capture/bytes';
import { DecodeEvent } from './events';
import { TCP_SYN, type DecodedPacket } from '../core/packet';

const OPT_EOL = 0;
const OPT_NOP = 1;
const OPT_MSS = 2;
const OPT_WSCALE = 3;
const MAX_KINDS_KEPT = 8;

export function decodeTcp(b: Buffer, p: number, end: number, pkt: DecodedPacket): number {
  if (end - p < 20) return DecodeEvent.TCP_TRUNCATED;
  pkt.srcPort = u16be(b, p);
  pkt.dstPort = u16be(b, p + 2);
  pkt.tcpSeq = u32be(b, p + 4);
  pkt.tcpAck = u32be(b, p + 8);
  const doff = (b[p + 12] >> 4) * 4;
  pkt.tcpFlags = b[p + 13];
  pkt.tcpWindow = u16be(b, p + 14);
  pkt.tcpHeaderLen = doff;
  if (doff < 20) return DecodeEvent.TCP_BAD_OFFSET;
  if (p + doff > end) return pkt.snaplenCut ? DecodeEvent.TCP_TRUNCATED : DecodeEvent.TCP_BAD_OFFSET;
  // Options are read on SYN and SYN-ACK only: there they describe the host's stack (fingerprints); on the rest of a
  // connection they are timestamps and SACK blocks that nothing downstream uses, read at a cost on every segment.
  if (doff > 20 && (pkt.tcpFlags & TCP_SYN) !== 0) readTcpOptions(b, p + 20, p + doff, pkt);
  pkt.payloadOff = p + doff;
  pkt.payloadLen = end - pkt.payloadOff;
  return DecodeEvent.OK;
}

/** Keeps the option layout (scanners differ in it) and the MSS and window scale values. */
function readTcpOptions(b: Buffer, p: number, end: number, pkt: DecodedPacket): void {
  let hi = 0;
  let lo = 0;
  let n = 0;
  while (p < end) {
    const kind = b[p];
    if (n < MAX_KINDS_KEPT) {
      if (n < 4) hi |= kind << (24 - 8 * n);
      else lo |= kind << (24 - 8 * (n - 4));
    }
    n++;
    if (kind === OPT_EOL) break;
    if (kind === OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) {
      pkt.events |= 1 << DecodeEvent.TCP_BAD_OPTION;
      break;
    }
    const len = b[p + 1];
    if (len < 2 || p + len > end) {
      pkt.events |= 1 << DecodeEvent.TCP_BAD_OPTION;
      break;
    }
    if (kind === OPT_MSS && len === 4) pkt.tcpMss = u16be(b, p + 2);
    else if (kind === OPT_WSCALE && len === 3) pkt.tcpWscale = b[p + 2];
    p += len;
  }
  pkt.tcpOptKindsHi = hi >>> 0;
  pkt.tcpOptKindsLo = lo >>> 0;
  pkt.tcpOptCount = n;
}
