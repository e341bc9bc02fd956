import { u16be, u16le, u32be, u32le } from './bytes';
import { MAX_TS_SEC } from './batch';
import { addNote, MAX_CAPLEN, MAX_ORIGLEN, type Framer } from './framer';
import { createDecodeCounters, DecodeEvent } from '../decode/events';

const SHB = 0x0a0d0d0a;
const IDB = 1;
const OPB = 2; // obsolete Packet Block, still written by old tools
const SPB = 3;
const EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
/** Blocks that carry packets must fit the read window; anything larger is corrupt. Other blocks are skipped. */
const MAX_PACKET_BLOCK = MAX_CAPLEN + 64;

export interface Interface {
  linktype: number;
  snaplen: number;
  /** Timestamp units per second: 10^n or 2^n. */
  unitsPerSec: number;
  /** if_tsoffset: seconds added to every timestamp. */
  offsetSec: number;
}

export function isPcapngMagic(head: Buffer): boolean {
  return head.length >= 4 && u32le(head, 0) === SHB;
}

/**
 * pcapng: several sections (each with its own byte order) and several interfaces per section, each with its own
 * link type and timestamp resolution. Unknown block types are skipped by length, as the format intends.
 */
export function createPcapngFramer(): Framer {
  let rd32 = u32le;
  let rd16 = u16le;
  let ifaces: Interface[] = [];
  let skip = 0;
  let sawSection = false;
  const notes = new Map<string, number>();
  const tsOut = { sec: 0, nsec: 0 };
  // The last time that was in range: what a record with an impossible time is given (see below). The epoch before
  // any, as Simple Packet Blocks (no time at all) are given.
  let lastSec = 0;
  let lastNsec = 0;
  const events = createDecodeCounters();

  const framer: Framer = {
    format: 'pcapng',
    error: null,
    bytes: 0,
    notes,
    events,
    linktypes: new Set<number>(),
    skipping: () => skip,
    frame(buf, start, end, batch, flush) {
      let p = start;
      if (skip > 0) {
        const n = Math.min(skip, end - p);
        skip -= n;
        p += n;
        if (skip > 0) return p;
      }
      const cap = batch.offset.length;
      while (p + 12 <= end) {
        const type = u32le(buf, p); // SHB's type reads the same in both orders
        if (type === SHB) {
          const bom = u32le(buf, p + 8);
          if (bom === BYTE_ORDER_MAGIC) {
            rd32 = u32le;
            rd16 = u16le;
          } else if (u32be(buf, p + 8) === BYTE_ORDER_MAGIC) {
            rd32 = u32be;
            rd16 = u16be;
          } else {
            framer.error = 'section header with an unknown byte-order magic: the file is corrupt from here';
            return p;
          }
          ifaces = [];
          sawSection = true;
        } else if (!sawSection) {
          framer.error = 'no section header block at the start';
          return p;
        }
        const len = rd32(buf, p + 4);
        if (len < 12 || len % 4 !== 0) {
          framer.error = `a block claims a length of ${len} bytes: the file is corrupt from here`;
          return p;
        }
        const btype = rd32(buf, p);
        const carriesPackets = btype === EPB || btype === SPB || btype === OPB;
        if (p + len > end) {
          if (carriesPackets || btype === IDB || btype === SHB) {
            if (len > MAX_PACKET_BLOCK + 65536) {
              framer.error = `a block claims a length of ${len} bytes, more than any packet needs: the file is corrupt from here`;
              return p;
            }
            break; // wait for more bytes
          }
          // A large block of another kind (name resolution, custom): skip it without holding it.
          skip = p + len - end;
          return end;
        }
        if (rd32(buf, p + len - 4) !== len) {
          framer.error = 'a block\'s trailing length does not match its leading length: the file is corrupt from here';
          return p;
        }
        if (btype === EPB || btype === OPB) {
          if (len < 32) {
            addNote(notes, 'short_packet_block');
          } else {
            const ifId = btype === EPB ? rd32(buf, p + 8) : rd16(buf, p + 8);
            const iface = ifaces[ifId];
            let incl = rd32(buf, p + 20);
            const orig = rd32(buf, p + 24);
            if (iface === undefined) {
              addNote(notes, 'packet_for_unknown_interface');
            } else {
              if (incl > len - 32) {
                addNote(notes, 'caplen_beyond_block');
                incl = len - 32;
              }
              timestamp(rd32(buf, p + 12), rd32(buf, p + 16), iface, tsOut);
              if (tsOut.sec >= 0 && tsOut.sec <= MAX_TS_SEC) {
                lastSec = tsOut.sec;
                lastNsec = tsOut.nsec;
              } else {
                // A time before 1970 or after 9999 is a damaged record (a flipped high bit, a wild if_tsoffset or
                // tsresol), not a moment. The packet is kept for its bytes, at the previous packet's time rather
                // than a clamped one: packet time drives the flow, scan and repeat windows, and a clamp to 9999
                // would expire all of them at once, a clamp to 1970 would send time back decades and forward
                // again at the next good packet; the previous time leaves them as the good packets set them.
                events[DecodeEvent.TIMESTAMP_OUT_OF_RANGE]++;
                tsOut.sec = lastSec;
                tsOut.nsec = lastNsec;
              }
              const i = batch.count;
              batch.offset[i] = p + 28;
              batch.caplen[i] = incl;
              batch.origlen[i] = orig < incl ? incl : orig < MAX_ORIGLEN ? orig : MAX_ORIGLEN;
              batch.tsSec[i] = tsOut.sec;
              batch.tsNsec[i] = tsOut.nsec;
              batch.linktype[i] = iface.linktype;
              batch.count = i + 1;
              framer.bytes += incl;
              if (batch.count === cap) flush();
            }
          }
        } else if (btype === SPB) {
          const iface = ifaces[0];
          if (iface === undefined) {
            addNote(notes, 'packet_for_unknown_interface');
          } else {
            const orig = rd32(buf, p + 8);
            let incl = Math.min(orig, len - 16);
            if (iface.snaplen > 0 && incl > iface.snaplen) incl = iface.snaplen;
            const i = batch.count;
            batch.offset[i] = p + 12;
            batch.caplen[i] = incl;
            batch.origlen[i] = orig < MAX_ORIGLEN ? orig : MAX_ORIGLEN;
            // Simple Packet Blocks carry no timestamp.
            batch.tsSec[i] = 0;
            batch.tsNsec[i] = 0;
            batch.linktype[i] = iface.linktype;
            batch.count = i + 1;
            framer.bytes += incl;
            if (batch.count === cap) flush();
          }
        } else if (btype === IDB) {
          if (len < 20) {
            framer.error = 'interface description block too short: the file is corrupt from here';
            return p;
          }
          const iface: Interface = { linktype: rd16(buf, p + 8), snaplen: rd32(buf, p + 12), unitsPerSec: 1e6, offsetSec: 0 };
          readInterfaceOptions(buf, p + 16, p + len - 4, iface);
          ifaces.push(iface);
          framer.linktypes.add(iface.linktype);
        }
        p += len;
      }
      return p;
    },
  };

  function readInterfaceOptions(buf: Buffer, p: number, end: number, iface: Interface): void {
    while (p + 4 <= end) {
      const code = rd16(buf, p);
      const olen = rd16(buf, p + 2);
      if (code === 0) return; // opt_endofopt
      const v = p + 4;
      if (v + olen > end) {
        addNote(notes, 'bad_interface_option');
        return;
      }
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const r = buf[v];
        const exp = r & 0x7f;
        // Resolutions past 2^-53 / 10^-15 cannot be represented; keep microseconds and note it.
        if ((r & 0x80) !== 0 ? exp <= 52 : exp <= 15) iface.unitsPerSec = (r & 0x80) !== 0 ? 2 ** exp : 10 ** exp;
        else addNote(notes, 'unsupported_tsresol');
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        // Signed 64-bit seconds; the low word and the sign of the high word are all a real offset uses.
        const lo = rd32(buf, rd32 === u32le ? v : v + 4);
        const hi = rd32(buf, rd32 === u32le ? v + 4 : v) | 0;
        iface.offsetSec = hi * 4294967296 + lo;
      }
      p = v + ((olen + 3) & ~3);
    }
  }

  return framer;
}

/**
 * Splits a 64-bit count of interface units into whole seconds and nanoseconds without BigInt: by 16-bit limbs,
 * so that every intermediate stays below 2^53 for any divisor below 2^37.
 */
export function timestamp(hi: number, lo: number, iface: Interface, out: { sec: number; nsec: number }): void {
  const div = iface.unitsPerSec;
  let sec: number;
  let rem: number;
  if (hi < 0x200000) {
    const units = hi * 4294967296 + lo;
    sec = Math.floor(units / div);
    rem = units - sec * div;
    if (rem < 0) {
      sec -= 1;
      rem += div;
    } else if (rem >= div) {
      sec += 1;
      rem -= div;
    }
  } else {
    rem = 0;
    sec = 0;
    for (let k = 0; k < 4; k++) {
      const limb = k === 0 ? hi >>> 16 : k === 1 ? hi & 0xffff : k === 2 ? lo >>> 16 : lo & 0xffff;
      const cur = rem * 65536 + limb;
      const q = Math.floor(cur / div);
      rem = cur - q * div;
      sec = sec * 65536 + q;
    }
  }
  out.sec = sec + iface.offsetSec;
  out.nsec = div === 1e9 ? rem : div < 1e9 && 1e9 % div === 0 ? rem * (1e9 / div) : Math.floor((rem / div) * 1e9);
}
