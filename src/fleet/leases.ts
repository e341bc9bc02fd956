/**
 * Correlate instances share the partitions (partition.ts) through leases in the KV bucket (native-notes/fleet.md,
 * "How it scales"). A lease is the key lease.<partition>, written with compare-and-set only: created when absent,
 * renewed by its holder (a new revision every third of fleet.lease), deleted by its holder when it gives it up. No
 * clocks are compared between machines: an instance takes a lease held by another only after it has watched its
 * revision stay the same for a whole lease period by its own clock. The holder counts its lease valid until a lease
 * period after it sent its last successful renewal, less a margin, and stops consuming the partition then: since the
 * renewal was stored after it was sent, and watched after it was stored, the holder stops before anyone may take it.
 *
 * The key members holds every instance's heartbeat counter; an instance whose counter stays the same for a lease
 * period is taken for gone. With k instances alive each holds at most ceil(P / k) partitions: one with more gives the
 * extra ones up (stops consuming, then deletes the lease), one with fewer claims free or expired ones.
 */
import type { KV } from 'nats';

const enc = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v), 'utf8');
const dec = <T>(b: Uint8Array): T => JSON.parse(Buffer.from(b).toString('utf8')) as T;

/** A compare-and-set that lost: another instance wrote the key first. */
export function isCasConflict(e: unknown): boolean {
  return /wrong last sequence|exists/i.test(String((e as Error).message ?? e));
}

export const leaseKey = (partition: number): string => `lease.${partition}`;
const MEMBERS_KEY = 'members';

export interface LeaseCounts {
  claimed: number;
  released: number;
  lost: number;
}

export interface Leases {
  /** Heartbeat, renewals, then rebalancing: called every third of the lease period. */
  tick(): Promise<void>;
  /** Whether this instance may still consume the partition (its lease is held and not past its validity). */
  valid(partition: number): boolean;
  /** Partitions held, ascending. */
  held(): number[];
  /** Gives every lease up (workers stopped first) and leaves the members: a clean stop. */
  leave(): Promise<void>;
  counts: LeaseCounts;
}

interface Held {
  revision: number;
  /** Local clock: the lease's renewal was sent at this minus the period, plus the margin. */
  validUntil: number;
}

/** What another instance's key looked like when first seen at this revision (local clock). */
interface Seen {
  revision: number;
  since: number;
}

export function createLeases(o: {
  kv: KV;
  id: string;
  partitions: number;
  leaseMs: number;
  /** Start consuming a partition just claimed. */
  start(partition: number): void;
  /** Stop consuming a partition (resolves when its batch in hand is done or given back). */
  stop(partition: number): Promise<void>;
  say(line: string): void;
}): Leases {
  const { kv, id, partitions, leaseMs } = o;
  // The holder stops this long before anyone else may take its lease: room for a batch's last writes.
  const margin = Math.min(2000, leaseMs / 5);
  const held = new Map<number, Held>();
  const seen = new Map<number, Seen>();
  const memberSeen = new Map<string, { n: number; since: number }>();
  const counts: LeaseCounts = { claimed: 0, released: 0, lost: 0 };
  let beat = 0;
  /** This tick's leases taken over, by their former holder (said once). */
  const takenFrom = new Map<string, number[]>();
  // Instances start their claims at different partitions, so that they rarely race for the same one.
  let offset = 0;
  for (let i = 0; i < id.length; i++) offset = (offset * 31 + id.charCodeAt(i)) % partitions;

  const value = (): Uint8Array => enc({ holder: id, n: ++beat });

  async function lose(p: number, why: string): Promise<void> {
    held.delete(p);
    counts.lost++;
    o.say(`partition ${p}: lease lost (${why}); stopped consuming it`);
    await o.stop(p);
  }

  /** The heartbeat written (compare-and-set), gone members dropped; how many instances are alive, this one included. */
  async function members(now: number): Promise<number> {
    for (let i = 0; i < 10; i++) {
      const e = await kv.get(MEMBERS_KEY);
      const map = e === null || e.operation !== 'PUT' ? {} : dec<Record<string, number>>(e.value);
      for (const [m, n] of Object.entries(map)) {
        if (m === id) continue;
        const s = memberSeen.get(m);
        if (s === undefined || s.n !== n) memberSeen.set(m, { n, since: now });
        else if (now - s.since >= leaseMs) {
          delete map[m];
          memberSeen.delete(m);
        }
      }
      map[id] = ++beat;
      try {
        if (e === null || e.operation !== 'PUT') await kv.create(MEMBERS_KEY, enc(map));
        else await kv.update(MEMBERS_KEY, enc(map), e.revision);
        return Object.keys(map).length;
      } catch (err) {
        if (!isCasConflict(err)) throw err;
      }
    }
    return 1 + memberSeen.size;
  }

  async function claim(p: number, now: number): Promise<void> {
    const e = await kv.get(leaseKey(p));
    try {
      if (e === null || e.operation !== 'PUT') {
        const t0 = Date.now();
        held.set(p, { revision: await kv.create(leaseKey(p), value()), validUntil: t0 + leaseMs - margin });
      } else {
        const s = seen.get(p);
        if (s === undefined || s.revision !== e.revision) {
          seen.set(p, { revision: e.revision, since: now });
          return;
        }
        if (now - s.since < leaseMs) return;
        const holder = dec<{ holder?: string }>(e.value).holder;
        const t0 = Date.now();
        held.set(p, { revision: await kv.update(leaseKey(p), value(), e.revision), validUntil: t0 + leaseMs - margin });
        const from = holder ?? '?';
        takenFrom.set(from, [...(takenFrom.get(from) ?? []), p]);
      }
    } catch (err) {
      if (isCasConflict(err)) return; // another instance was first
      throw err;
    }
    seen.delete(p);
    counts.claimed++;
    o.start(p);
  }

  return {
    counts,
    valid: (p) => {
      const h = held.get(p);
      return h !== undefined && Date.now() < h.validUntil;
    },
    held: () => [...held.keys()].sort((a, b) => a - b),
    async tick() {
      const now = Date.now();
      await Promise.all([...held].map(async ([p, h]) => {
        if (now >= h.validUntil) return lose(p, 'not renewed in time');
        const t0 = Date.now();
        try {
          h.revision = await kv.update(leaseKey(p), value(), h.revision);
          h.validUntil = t0 + leaseMs - margin;
        } catch (err) {
          // A conflict: another instance took it (this one was too slow); else NATS did not answer: try again next
          // tick, and stop at validUntil if it never does.
          if (isCasConflict(err)) await lose(p, 'taken by another instance');
        }
      }));
      const fair = Math.ceil(partitions / await members(now));
      // The extra ones given up together (each worker finishes its batch in hand, about a second): renewals of the
      // others must not wait behind them one by one.
      const given = [...held.keys()].sort((a, b) => b - a).slice(0, Math.max(0, held.size - fair));
      await Promise.all(given.map(async (p) => {
        // Its batch in hand finished while the lease is still valid, then the lease deleted for the others.
        await o.stop(p);
        const h = held.get(p)!;
        held.delete(p);
        await kv.delete(leaseKey(p), { previousSeq: h.revision }).catch(() => undefined);
        counts.released++;
      }));
      if (given.length > 0) o.say(`partitions ${given.join(' ')} given up (at most ${fair} each for the instances alive)`);
      const before = counts.claimed;
      takenFrom.clear();
      for (let i = 0; i < partitions && held.size < fair; i++) {
        const p = (offset + i) % partitions;
        if (!held.has(p)) await claim(p, now);
      }
      for (const [from, list] of takenFrom) o.say(`partitions ${list.join(' ')} taken over from ${from} (its leases not renewed for ${leaseMs / 1000} s)`);
      if (counts.claimed > before) o.say(`partitions held: ${[...held.keys()].sort((a, b) => a - b).join(' ')} (at most ${fair} each for the instances alive)`);
    },
    async leave() {
      await Promise.all([...held].map(async ([p, h]) => {
        await o.stop(p);
        held.delete(p);
        await kv.delete(leaseKey(p), { previousSeq: h.revision }).catch(() => undefined);
        counts.released++;
      }));
      for (let i = 0; i < 10; i++) {
        const e = await kv.get(MEMBERS_KEY);
        if (e === null || e.operation !== 'PUT') return;
        const map = dec<Record<string, number>>(e.value);
        if (!(id in map)) return;
        delete map[id];
        try {
          await kv.update(MEMBERS_KEY, enc(map), e.revision);
          return;
        } catch (err) {
          if (!isCasConflict(err)) throw err;
        }
      }
    },
  };
}
