import { batchSlice, type PacketBatch } from '../capture/batch';
import { packetSeconds } from '../core/time';

/**
 * Rules reloads of a live capture, each in force from a packet time a little after SIGHUP came (capture.ts), which
 * every packet already captured precedes. A packet that waited in the kernel ring or a batch while the rules changed is
 * still judged by the rules of its time, and with fanout workers every thread changes rules at the same point of
 * the packet stream, so no observation's rule positions (intel entries, signatures, fingerprints) are read against
 * the other set of rules.
 */
export class ReloadsAt<R> {
  private readonly queue: Array<{ next: R; at: number }> = [];

  /** apply: put `next` in force (called in order, once each). */
  constructor(private readonly apply: (next: R) => void) {}

  add(next: R, at: number): void {
    this.queue.push({ next, at });
  }

  /** Runs the batch through `run`, putting each reload in force before the batch's first packet at or after its time. */
  process(batch: PacketBatch, run: (b: PacketBatch) => void): void {
    let from = 0;
    while (this.queue.length > 0) {
      const at = this.queue[0].at;
      let k = from;
      while (k < batch.count && packetSeconds(batch.tsSec[k], batch.tsNsec[k]) < at) k++;
      if (k === batch.count) break;
      if (k > from) run(batchSlice(batch, from, k));
      from = k;
      this.apply(this.queue.shift()!.next);
    }
    if (from < batch.count) run(from === 0 ? batch : batchSlice(batch, from, batch.count));
  }

  /** Puts in force every reload whose time is at or before `t`: a quiet link brings no packet to do it. */
  applyUpTo(t: number): void {
    while (this.queue.length > 0 && this.queue[0].at <= t) this.apply(this.queue.shift()!.next);
  }
}
