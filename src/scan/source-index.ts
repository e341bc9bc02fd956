import type { AddrKey } from './addr-key';

const EMPTY = -1;
const NONE = -1;

/**
 * The scan aggregator's sources by address: each source is a slot number, found by its key, and the slots are kept
 * in the order they were made (eviction takes the oldest first). What a source holds lives in columns indexed by
 * slot (source-table.ts); this class only names slots. A Map of source objects did this; under a flood of new
 * sources it made four hash operations per source on keys V8 boxes (an IPv4 key past 2^31 is a heap number), and
 * a typed table took 11 % off the aggregator's time (bench/RESULTS.md, "Sources by a typed index"). IPv4 keys sit
 * in an open-addressing table (linear probing, backward-shift deletion) of slot numbers; IPv6 keys (text) stay in
 * a Map; the creation order is a doubly linked list of slots. Grows as needed (max_sources is policy and reloads),
 * and tells its owner, whose columns must cover every slot.
 */
export class SourceIndex {
  size = 0;
  /** Slots the columns must hold: a power of two, doubled when every slot made so far is taken. */
  capacity = 16;
  private made = 0;
  private keys4 = new Float64Array(16);
  /** The key text of an IPv6 slot, null for IPv4. */
  private texts: Array<string | null> = [];
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

  /** onGrow(capacity): called before a slot at or past the old capacity is handed out. */
  constructor(private readonly onGrow: (capacity: number) => void) {}

  /** The source's slot, or -1. */
  slotOf(key: AddrKey): number {
    if (typeof key === 'string') return this.textKeys.get(key) ?? NONE;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.tableKeys[i];
      if (k === key) return this.tableSlots[i];
      if (k === EMPTY) return NONE;
    }
  }

  /** A slot for a key that is not here (callers look it up first), last in order; its columns hold old values. */
  add(key: AddrKey): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.made++;
      this.texts.push(null);
      if (slot >= this.capacity) this.grow();
    }
    this.prev[slot] = this.tail;
    this.next[slot] = NONE;
    if (this.tail === NONE) this.head = slot;
    else this.next[this.tail] = slot;
    this.tail = slot;
    this.size++;
    if (typeof key === 'string') {
      this.texts[slot] = key;
      this.textKeys.set(key, slot);
      return slot;
    }
    this.keys4[slot] = key;
    if (this.size * 2 > this.mask + 1) this.growTable();
    this.place(key, slot);
    return slot;
  }

  keyOf(slot: number): AddrKey {
    return this.texts[slot] ?? this.keys4[slot];
  }

  /** Frees a slot taken by add(). */
  delete(slot: number): void {
    const text = this.texts[slot];
    if (text !== null) {
      this.textKeys.delete(text);
      this.texts[slot] = null;
    } else {
      this.unindex(this.keys4[slot]);
    }
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.free.push(slot);
    this.size--;
  }

  /**
   * Calls f with each slot, oldest first, until f returns false. f may delete the slot at hand (the next one is
   * read before it is given), no other. A callback, not an iterator: a generator made an object for each step, 79 MB
   * on a 2 M-source flood.
   */
  forEachInOrder(f: (slot: number) => boolean | void): void {
    for (let slot = this.head; slot !== NONE;) {
      const after = this.next[slot];
      if (f(slot) === false) return;
      slot = after;
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

  /** Takes an IPv4 key (present) out of the table. */
  private unindex(key: number): void {
    let i = this.home(key);
    while (this.tableKeys[i] !== key) i = (i + 1) & this.mask;
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
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.prev = copied(this.prev, new Int32Array(n));
    this.next = copied(this.next, new Int32Array(n));
    this.keys4 = copied(this.keys4, new Float64Array(n));
    this.capacity = n;
    this.onGrow(n);
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

/** to, with from's values at its start. */
export function copied<T extends Float64Array | Int32Array | Uint8Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
