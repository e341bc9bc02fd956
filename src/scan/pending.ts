import type { ScanRecord } from '../core/scan-record';
import { RecentKeys } from '../util/recent-keys';
import { addrKey, type AddrKey } from './addr-key';

/**
 * Attempts waiting for their reply, by attemptKey (a 30-bit hash: the ends are compared on every match), oldest
 * first. A busy link makes thousands a second and most are answered within milliseconds, so an attempt is a slot
 * of columns allocated once for max attempts (plus a scratch slot), and the order lives in a RecentKeys: the churn
 * makes no garbage (a Map of pooled objects grew and rehashed under it). The ends are kept raw and turned into
 * text only if the attempt fails or is learned.
 *
 * Order is a Map's: a new attempt goes last, and one requeued (answered, waiting for the prober) moves last.
 * Callers make room (the oldest attempts counted as unanswered) before adding beyond max.
 */
export class PendingAttempts {
  readonly max: number;
  /** attemptKey -> slot. */
  private readonly order: RecentKeys;
  readonly ipVersion: Uint8Array;
  /** 32 bytes a slot: the prober's 16, then the target's (as in ScanRecord). */
  readonly addr: Uint8Array;
  readonly srcPort: Int32Array;
  readonly port: Int32Array;
  readonly proto: Uint8Array;
  /** Packet time of the probe, or of its SYN-ACK once answered. */
  readonly ts: Float64Array;
  /** 1: a TCP attempt answered by a SYN-ACK, waiting to see whether the prober makes a connection of it. */
  readonly answered: Uint8Array;
  /** A slot outside the table, for a reset that comes after its attempt was settled. */
  readonly scratch: number;
  private readonly free: Int32Array;
  private nFree: number;

  constructor(max: number) {
    this.max = max;
    this.order = new RecentKeys(max);
    const slots = max + 1;
    this.ipVersion = new Uint8Array(slots);
    this.addr = new Uint8Array(slots * 32);
    this.srcPort = new Int32Array(slots);
    this.port = new Int32Array(slots);
    this.proto = new Uint8Array(slots);
    this.ts = new Float64Array(slots);
    this.answered = new Uint8Array(slots);
    this.scratch = max;
    // Free slots are taken from the end: slot 0 first.
    this.free = new Int32Array(max);
    for (let i = 0; i < max; i++) this.free[i] = max - 1 - i;
    this.nFree = max;
  }

  get size(): number {
    return this.order.size;
  }

  /** The attempt's slot, or -1. */
  slotOf(key: number): number {
    return this.order.get(key);
  }

  /** The oldest attempt's key, or -1 when none waits. */
  oldestKey(): number {
    return this.order.oldest();
  }

  /** A new attempt of the probe r, last in order (the caller has made room and given up any attempt under key). */
  add(key: number, r: ScanRecord, ts: number): number {
    const slot = this.free[--this.nFree];
    this.fill(slot, r);
    this.ts[slot] = ts;
    this.answered[slot] = 0;
    this.order.set(key, slot);
    return slot;
  }

  /** Writes the ends of r into a slot (the scratch slot for a settled attempt). */
  fill(slot: number, r: ScanRecord): void {
    this.ipVersion[slot] = r.ipVersion;
    this.addr.set(r.addr, slot * 32);
    this.srcPort[slot] = r.srcPort;
    this.port[slot] = r.dstPort;
    this.proto[slot] = r.proto;
  }

  /** Whether r is the same attempt as the slot's (not only the same hash). */
  same(slot: number, r: ScanRecord): boolean {
    if (this.port[slot] !== r.dstPort || this.srcPort[slot] !== r.srcPort || this.proto[slot] !== r.proto || this.ipVersion[slot] !== r.ipVersion) return false;
    const a = this.addr;
    const at = slot * 32;
    for (let i = 0; i < 32; i++) if (a[at + i] !== r.addr[i]) return false;
    return true;
  }

  /** Takes the attempt out of the order; its slot stays readable until released or requeued. */
  remove(key: number): void {
    this.order.delete(key);
  }

  /** A removed attempt goes back, last. */
  requeue(key: number, slot: number): void {
    this.order.set(key, slot);
  }

  /** The slot of a removed attempt is free again (read what is needed of it before the next add). */
  release(slot: number): void {
    this.free[this.nFree++] = slot;
  }

  targetOf(slot: number): AddrKey {
    return addrKey(this.ipVersion[slot], this.addr, slot * 32 + 16);
  }

  /** The same attempts in the same order in a table for `max` (at least size) attempts; this one is emptied. */
  movedTo(max: number): PendingAttempts {
    const to = new PendingAttempts(Math.max(max, this.size));
    for (let key = this.oldestKey(); key >= 0; key = this.oldestKey()) {
      const slot = this.order.get(key);
      this.order.delete(key);
      const t = to.free[--to.nFree];
      to.ipVersion[t] = this.ipVersion[slot];
      to.addr.set(this.addr.subarray(slot * 32, slot * 32 + 32), t * 32);
      to.srcPort[t] = this.srcPort[slot];
      to.port[t] = this.port[slot];
      to.proto[t] = this.proto[slot];
      to.ts[t] = this.ts[slot];
      to.answered[t] = this.answered[slot];
      to.order.set(key, t);
      this.release(slot);
    }
    return to;
  }
}
