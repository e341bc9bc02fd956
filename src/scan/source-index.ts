import type { AddrKey } from './addr-key';

const EMPTY = -1;
const NONE = -1;

/**
 * The scan aggregator's sources by address, in the order they were made (eviction takes the oldest first). A Map
 * did this; under a flood of new sources it made four hash operations per source (look up, add, look up at the
 * failure, delete) on keys V8 boxes (an IPv4 key past 2^31 is a heap number), and this table took 11 % off the
 * aggregator's time (bench/RESULTS.md, "Sources by a typed index"). Here IPv4 keys sit in a typed open-addressing
 * table (linear probing, backward-shift deletion) of slot numbers; IPv6 keys (text) stay in a Map; the values and
 * the creation order (a doubly linked list of slots) are arrays indexed by slot. Grows as needed (max_sources is
 * policy and reloads).
 */
export class SourceIndex<T> {
  size = 0;
  private values: Array<T | undefined> = [];
  private prev = new Int32Array(16);
  private next = new Int32Array(16);
  private head = NONE;
  private tail = NONE;
  private free: number[] = [];
  /** IPv4 keys (EMPTY where none) and their slots; the table is a power of two, at most half full. */
  private tableKeys = new Float64Array(32).fill(EMPTY);
  private tableSlots = new Int32Array(32);
  private mask = 31;
  private readonly textKeys = new Map<string, number>();

  get(key: AddrKey): T | undefined {
    const slot = this.slotOf(key);
    return slot < 0 ? undefined : this.values[slot];
  }

  /** Adds a source under a key that is not here (callers look it up first). */
  add(key: AddrKey, value: T): void {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.values.length;
      this.values.push(undefined);
      if (slot >= this.prev.length) this.growLinks();
    }
    this.values[slot] = value;
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
    this.size++;
    if (typeof key === 'string') {
      this.textKeys.set(key, slot);
      return;
    }
    if (this.size * 2 > this.mask + 1) this.growTable();
    this.place(key, slot);
  }

  delete(key: AddrKey): void {
    const slot = typeof key === 'string' ? (this.textKeys.get(key) ?? NONE) : this.unindex(key);
    if (slot === NONE) return;
    if (typeof key === 'string') this.textKeys.delete(key);
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.values[slot] = undefined;
    this.free.push(slot);
    this.size--;
  }

  /**
   * Calls f with each source, oldest first, until f returns false. The source at hand may be deleted meanwhile (the
   * next one is read before it is given). A callback, not an iterator: a generator made an object for each step,
   * 79 MB on a 2 M-source flood.
   */
  forEachInOrder(f: (v: T) => boolean | void): void {
    for (let slot = this.head; slot !== NONE;) {
      const after = this.next[slot];
      const v = this.values[slot];
      if (v !== undefined && f(v) === false) return;
      slot = after;
    }
  }

  private slotOf(key: AddrKey): number {
    if (typeof key === 'string') return this.textKeys.get(key) ?? NONE;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.tableKeys[i];
      if (k === key) return this.tableSlots[i];
      if (k === EMPTY) return NONE;
    }
  }

  private home(key: number): number {
    return (Math.imul(key | 0, 0x9e3779b1) >>> 0) & this.mask;
  }

  private place(key: number, slot: number): void {
    let i = this.home(key);
    while (this.tableKeys[i] !== EMPTY) i = (i + 1) & this.mask;
    this.tableKeys[i] = key;
    this.tableSlots[i] = slot;
  }

  /** Takes an IPv4 key out of the table; its slot, or NONE. */
  private unindex(key: number): number {
    let i = this.home(key);
    for (; ; i = (i + 1) & this.mask) {
      const k = this.tableKeys[i];
      if (k === key) break;
      if (k === EMPTY) return NONE;
    }
    const slot = this.tableSlots[i];
    // Backward-shift deletion: later entries of the run move up into the hole where their home allows.
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const k = this.tableKeys[j];
      if (k === EMPTY) break;
      const h = this.home(k);
      if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
        this.tableKeys[i] = k;
        this.tableSlots[i] = this.tableSlots[j];
        i = j;
      }
    }
    this.tableKeys[i] = EMPTY;
    return slot;
  }

  private growLinks(): void {
    const n = this.prev.length * 2;
    const prev = new Int32Array(n);
    prev.set(this.prev);
    const next = new Int32Array(n);
    next.set(this.next);
    this.prev = prev;
    this.next = next;
  }

  private growTable(): void {
    const oldKeys = this.tableKeys;
    const oldSlots = this.tableSlots;
    const n = oldKeys.length * 2;
    this.tableKeys = new Float64Array(n).fill(EMPTY);
    this.tableSlots = new Int32Array(n);
    this.mask = n - 1;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== EMPTY) this.place(oldKeys[i], oldSlots[i]);
  }
}
