/**
 * A bounded, insertion-ordered map from small non-negative integers (the engine's 30-bit flow hashes), each with an
 * optional 30-bit check, to small non-negative integers, for the "remember the last N flows" tables read on every
 * packet. It behaves as a Set or Map bounded by makeRoom (util/bounded.ts) does: insertion order, a re-set key keeps
 * its place, and makeRoom drops the oldest tenth when full; but it lives in typed arrays allocated once, so that
 * churn makes no garbage and no rehashing (V8's ordered hash tables reallocate as keys come and go: a quarter of the
 * engine's allocation on the bench mix was in three such Sets).
 *
 * An entry is the pair (key, check): two flows whose hashes share the key but not the check are two entries. The
 * engine passes a second hash of the flow's ends as the check, so that a table tells flows apart by 60 bits instead
 * of 30 (a collision of the 30 bits alone made one flow's first datagram pass as another's; with workers the two
 * flows sat on different threads and the counts differed from an inline run's). Callers without one pass 0.
 *
 * Layout: entries sit in insertion order in a ring (key, check, value; -1 marks an entry since deleted), indexed by an
 * open-addressing table (linear probing, backward-shift deletion) of ring positions. When the ring's end is
 * reached, the live entries move to its start and the index is rebuilt (amortised O(1): the ring is twice the bound).
 */
export class RecentKeys {
  size = 0;
  private readonly ringKey: Int32Array;
  private readonly ringCheck: Int32Array;
  private readonly ringVal: Int32Array;
  private head = 0;
  private tail = 0;
  /** Ring position + 1 of the entry in each slot; 0: empty. */
  private readonly index: Int32Array;
  private readonly mask: number;

  constructor(readonly max: number) {
    this.ringKey = new Int32Array(2 * max + 2).fill(-1);
    this.ringCheck = new Int32Array(2 * max + 2);
    this.ringVal = new Int32Array(2 * max + 2);
    let slots = 16;
    while (slots < 2 * max) slots *= 2;
    this.index = new Int32Array(slots);
    this.mask = slots - 1;
  }

  has(key: number, check = 0): boolean {
    return this.slotOf(key, check) >= 0;
  }

  /** The entry's value, or -1 when it is not here. */
  get(key: number, check = 0): number {
    const i = this.slotOf(key, check);
    return i < 0 ? -1 : this.ringVal[this.index[i] - 1];
  }

  /** Sets an entry's value (a new entry goes last; callers make room first, as with makeRoom). */
  set(key: number, value = 0, check = 0): void {
    const i = this.slotOf(key, check);
    if (i >= 0) {
      this.ringVal[this.index[i] - 1] = value;
      return;
    }
    if (this.size >= this.max) this.makeRoom();
    if (this.tail === this.ringKey.length) this.compact();
    const r = this.tail++;
    this.ringKey[r] = key;
    this.ringCheck[r] = check;
    this.ringVal[r] = value;
    let s = key & this.mask;
    while (this.index[s] !== 0) s = (s + 1) & this.mask;
    this.index[s] = r + 1;
    this.size++;
  }

  delete(key: number, check = 0): boolean {
    const i = this.slotOf(key, check);
    if (i < 0) return false;
    this.ringKey[this.index[i] - 1] = -1;
    this.unindex(i);
    this.size--;
    return true;
  }

  /**
   * The oldest entry's key (the first makeRoom would drop, the first a Map's iteration gives), or -1 when empty; for
   * tables used with checks, oldestCheck() gives its check.
   */
  oldest(): number {
    while (this.head < this.tail && this.ringKey[this.head] < 0) this.head++;
    return this.head < this.tail ? this.ringKey[this.head] : -1;
  }

  /** The check of the entry oldest() names (0 when empty). */
  oldestCheck(): number {
    return this.oldest() < 0 ? 0 : this.ringCheck[this.head];
  }

  /** When full, drops the oldest tenth (makeRoom's rule); returns how many went. */
  makeRoom(): number {
    if (this.size < this.max) return 0;
    const n = Math.max(1, Math.floor(this.max / 10));
    let dropped = 0;
    while (dropped < n && this.head < this.tail) {
      const r = this.head++;
      const key = this.ringKey[r];
      if (key < 0) continue;
      this.unindex(this.slotOf(key, this.ringCheck[r]));
      this.size--;
      dropped++;
    }
    return dropped;
  }

  clear(): void {
    this.ringKey.fill(-1);
    this.index.fill(0);
    this.head = this.tail = this.size = 0;
  }

  private slotOf(key: number, check: number): number {
    for (let s = key & this.mask; ; s = (s + 1) & this.mask) {
      const r = this.index[s];
      if (r === 0) return -1;
      if (this.ringKey[r - 1] === key && this.ringCheck[r - 1] === check) return s;
    }
  }

  /** Empties index slot `hole`, moving later entries of its probe run back so that every key stays findable. */
  private unindex(hole: number): void {
    const ix = this.index;
    const mask = this.mask;
    for (let j = hole; ;) {
      ix[hole] = 0;
      for (;;) {
        j = (j + 1) & mask;
        const r = ix[j];
        if (r === 0) return;
        const home = this.ringKey[r - 1] & mask;
        if (!fillsHole(hole, j, home)) continue;
        ix[hole] = r;
        hole = j;
        break;
      }
    }
  }

  /** Moves the live entries to the ring's start, in order, and rebuilds the index. */
  private compact(): void {
    const k = this.ringKey;
    const c = this.ringCheck;
    const v = this.ringVal;
    let w = 0;
    for (let r = this.head; r < this.tail; r++) {
      if (k[r] < 0) continue;
      k[w] = k[r];
      c[w] = c[r];
      v[w] = v[r];
      w++;
    }
    k.fill(-1, w);
    this.head = 0;
    this.tail = w;
    this.index.fill(0);
    for (let r = 0; r < w; r++) {
      let s = k[r] & this.mask;
      while (this.index[s] !== 0) s = (s + 1) & this.mask;
      this.index[s] = r + 1;
    }
  }
}

/**
 * Backward-shift deletion in a linear-probing table: whether the entry at slot j, whose home slot is home, may move
 * back into the hole (it may unless its home lies cyclically in (hole, j], where it would no longer be found).
 */
export function fillsHole(hole: number, j: number, home: number): boolean {
  return hole <= j ? !(hole < home && home <= j) : !(hole < home || home <= j);
}
