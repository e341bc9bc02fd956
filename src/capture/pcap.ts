import { u32be, u32le } from './bytes';
import { addNote, MAX_CAPLEN, MAX_ORIGLEN, type Framer } from './framer';
import { createDecodeCounters } from '../decode/events';

export const PCAP_HEADER_LEN = 24;
const RECORD_HEADER_LEN = 16;

const MAGIC_USEC = 0xa1b2c3d4;
const MAGIC_NSEC = 0xa1b23c4d;

/** A little-endian classic pcap global header, version 2.4: for the files picket (--write-pcap) and its benchmarks write. */
export function pcapFileHeader(linktype: number, nanosecond: boolean, snaplen = 65535): Buffer {
  const h = Buffer.alloc(PCAP_HEADER_LEN);
  h.writeUInt32LE(nanosecond ? MAGIC_NSEC : MAGIC_USEC, 0);
  h.writeUInt16LE(2, 4);
  h.writeUInt16LE(4, 6);
  h.writeUInt32LE(snaplen, 16);
  h.writeUInt32LE(linktype, 20);
  return h;
}

/** Whether the first bytes are a classic pcap magic number, in either byte order. */
export function isPcapMagic(head: Buffer): boolean {
  if (head.length < 4) return false;
  const le = u32le(head, 0);
  const be = u32be(head, 0);
  return le === MAGIC_USEC || le === MAGIC_NSEC || be === MAGIC_USEC || be === MAGIC_NSEC;
}

/**
 * Classic pcap, both byte orders, microsecond and nanosecond magic. `header` holds the 24-byte global header;
 * frame() is then fed the bytes after it.
 */
export function createPcapFramer(header: Buffer): Framer {
  const le = u32le(header, 0) === MAGIC_USEC || u32le(header, 0) === MAGIC_NSEC;
  const rd = le ? u32le : u32be;
  // Little-endian files (nearly all) read record headers with an inlined read, not through `rd`.
  const rdRec = le ? (b: Buffer, p: number): number => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0 : u32be;
  const magic = rd(header, 0);
  const nsec = magic === MAGIC_NSEC;
  // The upper bits of the link-type field carry FCS flags (pcap-savefile(5)); the type is the low 16 bits.
  const linktype = rd(header, 20) & 0xffff;
  const notes = new Map<string, number>();
  const framer: Framer = {
    format: `pcap (${le ? 'little' : 'big'}-endian, ${nsec ? 'ns' : 'µs'})`,
    error: null,
    bytes: 0,
    notes,
    events: createDecodeCounters(),
    linktypes: new Set([linktype]),
    skipping: () => 0,
    frame(buf, start, end, batch, flush) {
      let p = start;
      const cap = batch.offset.length;
      while (p + RECORD_HEADER_LEN <= end) {
        const sec = rdRec(buf, p);
        const frac = rdRec(buf, p + 4);
        const incl = rdRec(buf, p + 8);
        const orig = rdRec(buf, p + 12);
        if (incl > MAX_CAPLEN) {
          framer.error = `a record claims ${incl} captured bytes, more than any capture holds: the file is corrupt from here`;
          return p;
        }
        if (p + RECORD_HEADER_LEN + incl > end) break;
        const i = batch.count;
        batch.offset[i] = p + RECORD_HEADER_LEN;
        batch.caplen[i] = incl;
        batch.origlen[i] = orig < incl ? incl : orig < MAX_ORIGLEN ? orig : MAX_ORIGLEN;
        if (orig < incl) addNote(notes, 'origlen_below_caplen');
        // Unsigned 32-bit seconds end in 2106: always within [0, MAX_TS_SEC], so no range check is needed here.
        batch.tsSec[i] = sec;
        batch.tsNsec[i] = nsec ? (frac < 1e9 ? frac : 999999999) : (frac < 1e6 ? frac * 1000 : 999999000);
        batch.linktype[i] = linktype;
        batch.count = i + 1;
        framer.bytes += incl;
        p += RECORD_HEADER_LEN + incl;
        if (batch.count === cap) flush();
      }
      return p;
    },
  };
  return framer;
}
