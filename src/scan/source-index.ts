import { hash16, ipv4At, type AddrKey } from './addr-key';
import { fillsHole } from '../util/recent-keys';
import { parseIpv6 } from '../config/homenet';
import { ipv6ToString } from '../decode/addr';

const EMPTY = -1;
const NONE = -1;

/**
 * The scan aggregator's sources by address: each source is a slot number, found by its key, and the slots are kept
 * in the order they were made (eviction takes the oldest first). What a source holds lives in columns indexed by
 * slot (source-table.ts); this class only names slots. A Map of source objects did this; under a flood of new
 * sources it made four hash operations per source on keys V8 boxes (an IPv4 key past 2^31 is a heap number), and
 * a typed table took 11 % off the aggregator's time (bench/RESULTS.md, "Sources by a typed index"). Addresses sit
 * in open-addressing tables (linear probing, backward-shift deletion) of slot numbers: IPv4 by its number, IPv6 by
 * a hash of its 16 bytes, which each slot keeps to tell two apart. An IPv6 address is found from its bytes (a
 * packet's or an attempt's) without its text, which is made only when asked for (keyOf): an IPv6 flood of new
 * sources made it two or three times a packet (bench/RESULTS.md, "IPv6 addresses as text"). The creation order is
 * a doubly linked list of slots. Grows as needed (max_sources is policy and reloads), and tells its owner, whose
 * columns must cover every slot.
 */
export class SourceIndex {
  size = 0;
  /** Slots the columns must hold: a power of two, doubled when every slot made so far is taken. */
  capacity = 16;
  private made = 0;
  private keys4 = new Float64Array(16);
  /** 1 for an IPv6 slot; its 16 bytes, their hash, and its text once made. */
  private isV6 = new Uint8Array(16);
  private bytes6 = new Uint8Array(16 * 16);
  private hash6 = new Int32Array(16);
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
  /** IPv6 slots by hash: the table holds slot + 1 (0: empty); at most half full. */
  private table6 = new Int32Array(32);
  private mask6 = 31;
  private size6 = 0;

  /** onGrow(capacity): called before a slot at or past the old capacity is handed out. */
  constructor(private readonly onGrow: (capacity: number) => void) {}

  /** The source's slot, or -1. */
  slotOf(key: AddrKey): number {
    if (typeof key === 'string') return this.slotOfBytes(6, parseIpv6(key), 0);
    return this.slotOf4(key);
  }

  /** The slot of the address at addr[off] (16 bytes, IPv4 in the first 4), or -1. */
  slotOfBytes(ipVersion: number, addr: Uint8Array, off: number): number {
    if (ipVersion !== 6) return this.slotOf4(ipv4At(addr, off));
    const h = hash16(addr, off);
    for (let i = h & this.mask6; ; i = (i + 1) & this.mask6) {
      const e = this.table6[i];
      if (e === 0) return NONE;
      if (this.hash6[e - 1] === h && this.sameBytes(e - 1, addr, off)) return e - 1;
    }
  }

  private slotOf4(key: number): number {
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = this.tableKeys[i];
      if (k === key) return this.tableSlots[i];
      if (k === EMPTY) return NONE;
    }
  }

  /** A slot for a key that is not here (callers look it up first), last in order; its columns hold old values. */
  add(key: AddrKey): number {
    if (typeof key === 'string') return this.addBytes(6, parseIpv6(key), 0);
    const slot = this.take();
    this.isV6[slot] = 0;
    this.keys4[slot] = key;
    if (this.size * 2 > this.mask + 1) this.growTable();
    this.place(key, slot);
    return slot;
  }

  /** add() for the address at addr[off] (16 bytes, IPv4 in the first 4). */
  addBytes(ipVersion: number, addr: Uint8Array, off: number): number {
    if (ipVersion !== 6) return this.add(ipv4At(addr, off));
    const slot = this.take();
    this.isV6[slot] = 1;
    for (let i = 0; i < 16; i++) this.bytes6[slot * 16 + i] = addr[off + i];
    const h = hash16(addr, off);
    this.hash6[slot] = h;
    this.texts[slot] = null;
    if (++this.size6 * 2 > this.mask6 + 1) this.growTable6();
    this.place6(h, slot);
    return slot;
  }

  /** A free slot, last in the creation order. */
  private take(): number {
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
    return slot;
  }

  /** The slot's address as a key (addr-key.ts): IPv6 as its text, made at the first call. */
  keyOf(slot: number): AddrKey {
    if (this.isV6[slot] === 0) return this.keys4[slot];
    return (this.texts[slot] ??= ipv6ToString(this.bytes6, slot * 16));
  }

  /** Frees a slot taken by add(). */
  delete(slot: number): void {
    if (this.isV6[slot] === 1) {
      this.unindex6(slot);
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
      if (fillsHole(i, j, h)) {
        this.tableKeys[i] = k;
        this.tableSlots[i] = this.tableSlots[j];
        i = j;
      }
    }
    this.tableKeys[i] = EMPTY;
  }

  private sameBytes(slot: number, addr: Uint8Array, off: number): boolean {
    const b = this.bytes6;
    const at = slot * 16;
    for (let i = 0; i < 16; i++) if (b[at + i] !== addr[off + i]) return false;
    return true;
  }

  private place6(h: number, slot: number): void {
    let i = h & this.mask6;
    while (this.table6[i] !== 0) i = (i + 1) & this.mask6;
    this.table6[i] = slot + 1;
  }

  /** Takes an IPv6 slot (present) out of its table, with backward-shift deletion as unindex. */
  private unindex6(slot: number): void {
    const t = this.table6;
    const mask = this.mask6;
    let i = this.hash6[slot] & mask;
    while (t[i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const e = t[j];
      if (e === 0) break;
      const h = this.hash6[e - 1] & mask;
      if (fillsHole(i, j, h)) {
        t[i] = e;
        i = j;
      }
    }
    t[i] = 0;
    this.size6--;
  }

  private growTable6(): void {
    const old = this.table6;
    const n = old.length * 2;
    this.table6 = new Int32Array(n);
    this.mask6 = n - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.place6(this.hash6[old[i] - 1], old[i] - 1);
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.prev = copied(this.prev, new Int32Array(n));
    this.next = copied(this.next, new Int32Array(n));
    this.keys4 = copied(this.keys4, new Float64Array(n));
    this.isV6 = copied(this.isV6, new Uint8Array(n));
    this.bytes6 = copied(this.bytes6, new Uint8Array(n * 16));
    this.hash6 = copied(this.hash6, new Int32Array(n));
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
