/**
 * A map bounded by count that forgets its least recently used entry when full and tells the owner which (onEvict):
 * state whose eviction must be acted on, such as an open intel sighting whose repeats are still to be reported.
 *
 * Keys map to slots (one Map, touched only when a key comes or goes); recency is a doubly linked list of slots in
 * typed arrays, so a hit moves two links and allocates nothing. The arrays grow by doubling up to the bound, so a
 * run that tracks little pays little: lru-cache, which this replaces, allocated its whole bound when made (8-9 ms
 * for 100,000, paid at the first intel alert of every run).
 */
export class SlotLru<V> {
  private readonly slots = new Map<string, number>();
  private keys: string[] = [];
  private values: Array<V | undefined> = [];
  /** Links towards the most recent (prev) and the least recent (next) entry; -1 ends the list. */
  private prev: Int32Array;
  private next: Int32Array;
  /** Most and least recently used slots, -1 when empty. */
  private newest = -1;
  private oldest = -1;
  /** Slots freed by delete, reused before new ones. */
  private readonly freed: number[] = [];
  private used = 0;

  constructor(readonly max: number, private readonly onEvict: (value: V, key: string) => void) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`SlotLru: max must be a positive integer, not ${max}`);
    const initial = Math.min(max, 64);
    this.prev = new Int32Array(initial);
    this.next = new Int32Array(initial);
  }

  get size(): number {
    return this.slots.size;
  }

  /** The value, which becomes the most recently used; undefined when absent. */
  get(key: string): V | undefined {
    const s = this.slots.get(key);
    if (s === undefined) return undefined;
    if (s !== this.newest) {
      this.unlink(s);
      this.linkNewest(s);
    }
    return this.values[s];
  }

  /** The value without touching its recency. */
  peek(key: string): V | undefined {
    const s = this.slots.get(key);
    return s === undefined ? undefined : this.values[s];
  }

  /**
   * Sets the value as the most recently used. A new key in a full map first evicts the least recently used entry
   * (onEvict runs before this returns, so what it reports comes before anything the caller reports next).
   */
  set(key: string, value: V): void {
    const known = this.slots.get(key);
    if (known !== undefined) {
      this.values[known] = value;
      if (known !== this.newest) {
        this.unlink(known);
        this.linkNewest(known);
      }
      return;
    }
    const full = this.slots.size >= this.max;
    let evicted: V | undefined;
    let evictedKey = '';
    if (full) {
      const s = this.oldest;
      evicted = this.values[s];
      evictedKey = this.keys[s];
      this.release(s);
    }
    const s = this.take();
    this.keys[s] = key;
    this.values[s] = value;
    this.slots.set(key, s);
    this.linkNewest(s);
    if (full) this.onEvict(evicted as V, evictedKey);
  }

  /** Removes the key (onEvict is not called: the caller chose to) and returns its value. */
  delete(key: string): V | undefined {
    const s = this.slots.get(key);
    if (s === undefined) return undefined;
    const v = this.values[s];
    this.release(s);
    return v;
  }

  /** Entries from the most to the least recently used (a sweep closes them in that order); recency is untouched. */
  forEachNewestFirst(fn: (value: V, key: string) => void): void {
    for (let s = this.newest; s !== -1; s = this.next[s]) fn(this.values[s] as V, this.keys[s]);
  }

  private take(): number {
    const reused = this.freed.pop();
    if (reused !== undefined) return reused;
    const s = this.used++;
    if (s === this.prev.length) {
      const cap = Math.min(this.max, this.prev.length * 2);
      const prev = new Int32Array(cap);
      prev.set(this.prev);
      const next = new Int32Array(cap);
      next.set(this.next);
      this.prev = prev;
      this.next = next;
    }
    return s;
  }

  private release(s: number): void {
    this.slots.delete(this.keys[s]);
    this.unlink(s);
    this.keys[s] = '';
    this.values[s] = undefined;
    this.freed.push(s);
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p === -1) this.newest = n;
    else this.next[p] = n;
    if (n === -1) this.oldest = p;
    else this.prev[n] = p;
  }

  private linkNewest(s: number): void {
    this.prev[s] = -1;
    this.next[s] = this.newest;
    if (this.newest !== -1) this.prev[this.newest] = s;
    this.newest = s;
    if (this.oldest === -1) this.oldest = s;
  }
}
