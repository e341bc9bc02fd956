import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PacketBatch } from '../capture/batch';
import { pcapFileHeader } from '../capture/pcap';
import { isoTime } from '../alert/ecs';
import { PicketError } from '../errors';

/**
 * --write-pcap: a rolling ring of the raw packets in classic pcap files (ns timestamps), so an analyst can replay
 * what led to an alert. Bounded in size and count: a file is closed at fileBytes and the oldest files beyond
 * `files` are deleted. One ring per link type (a pcap file has one). Writes are synchronous and batched; a write
 * that fails stops the ring (counted, reported) rather than the capture.
 */
export interface PcapRing {
  write(batch: PacketBatch): void;
  close(): void;
  stats(): { packets: number; bytes: number; files: number; error: string | null };
}

export function createPcapRing(dir: string, fileBytes: number, files: number, iface: string): PcapRing {
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new PicketError(`--write-pcap ${dir}: cannot create the directory: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const safe = iface.replace(/[^A-Za-z0-9_.-]/g, '_');
  const written: string[] = [];
  let fd = -1;
  let size = 0;
  let linktype = -1;
  let seq = 0;
  let packets = 0;
  let bytes = 0;
  let error: string | null = null;
  let chunk = Buffer.allocUnsafe(1 << 20);

  function open(lt: number, ts: number): void {
    if (fd >= 0) fs.closeSync(fd);
    // isoTime, not Date's toISOString: it cannot throw on a packet time out of Date's range.
    const name = path.join(dir, `picket-${safe}-${isoTime(ts, 0).replace(/[:.]/g, '-')}-${String(seq++).padStart(6, '0')}.pcap`);
    fd = fs.openSync(name, 'w');
    const h = pcapFileHeader(lt, true, 262144);
    fs.writeSync(fd, h);
    size = h.length;
    linktype = lt;
    written.push(name);
    while (written.length > files) {
      const old = written.shift();
      if (old !== undefined) fs.rmSync(old, { force: true });
    }
  }

  return {
    write(batch) {
      if (error !== null || batch.count === 0) return;
      try {
        let used = 0;
        const flush = (): void => {
          if (used > 0) fs.writeSync(fd, chunk, 0, used);
          size += used;
          used = 0;
        };
        for (let i = 0; i < batch.count; i++) {
          const lt = batch.linktype[i];
          const cap = batch.caplen[i];
          if (fd < 0 || lt !== linktype || size + used + 16 + cap > fileBytes) {
            if (fd >= 0) flush();
            open(lt, batch.tsSec[i]);
          }
          if (used + 16 + cap > chunk.length) {
            flush();
            if (16 + cap > chunk.length) chunk = Buffer.allocUnsafe(16 + cap);
          }
          chunk.writeUInt32LE(batch.tsSec[i] >>> 0, used);
          chunk.writeUInt32LE(batch.tsNsec[i], used + 4);
          chunk.writeUInt32LE(cap, used + 8);
          chunk.writeUInt32LE(batch.origlen[i], used + 12);
          batch.data.copy(chunk, used + 16, batch.offset[i], batch.offset[i] + cap);
          used += 16 + cap;
          packets++;
          bytes += cap;
        }
        flush();
      } catch (e) {
        error = `${(e as NodeJS.ErrnoException).code ?? String(e)}`;
      }
    },
    close() {
      if (fd >= 0) fs.closeSync(fd);
      fd = -1;
    },
    stats: () => ({ packets, bytes, files: written.length, error }),
  };
}
