import { ipv6ToString } from '../decode/addr';

/**
 * Which addresses each client has just resolved an intel name to, from DNS answers: the link from a name to a
 * later connection that carries no name (an IP-literal request, ECH, QUIC without SNI). Numbers key IPv4 so the
 * per-SYN check allocates nothing; IPv6 uses text keys (rarer). Bounded: the oldest client is dropped first.
 */
export interface ResolvedEntry {
  entry: number;
  name: string;
  expires: number;
}

export interface ResolvedCache {
  v4: Map<number, Map<number, ResolvedEntry>>;
  v6: Map<string, ResolvedEntry>;
  size: number;
  max: number;
  windowSec: number;
}

export function createResolvedCache(max: number, windowSec: number): ResolvedCache {
  return { v4: new Map(), v6: new Map(), size: 0, max, windowSec };
}

/** When full, the oldest tenth of the ties goes (oldest clients first), in one pass: see util/bounded.ts. */
function makeRoom(c: ResolvedCache): void {
  if (c.size < c.max) return;
  let drop = Math.max(1, Math.floor(c.max / 10));
  for (const [client, m] of c.v4) {
    if (drop <= 0) break;
    drop -= m.size;
    c.size -= m.size;
    c.v4.delete(client);
  }
  for (const k of c.v6.keys()) {
    if (drop <= 0) break;
    c.v6.delete(k);
    c.size--;
    drop--;
  }
}

export function rememberV4(c: ResolvedCache, client: number, addr: number, entry: number, name: string, now: number): void {
  let m = c.v4.get(client);
  if (m === undefined) {
    makeRoom(c);
    m = new Map();
    c.v4.set(client, m);
  }
  if (!m.has(addr)) c.size++;
  m.set(addr, { entry, name, expires: now + c.windowSec });
}

export function rememberV6(c: ResolvedCache, b: Uint8Array, clientOff: number, addrOff: number, entry: number, name: string, now: number): void {
  rememberV6Key(c, v6Key(b, clientOff, addrOff), entry, name, now);
}

function v6Key(b: Uint8Array, clientOff: number, addrOff: number): string {
  return `${ipv6ToString(b, clientOff)}|${ipv6ToString(b, addrOff)}`;
}

function rememberV6Key(c: ResolvedCache, key: string, entry: number, name: string, now: number): void {
  if (!c.v6.has(key)) {
    makeRoom(c);
    c.size++;
  }
  c.v6.set(key, { entry, name, expires: now + c.windowSec });
}

/**
 * After a rules reload: each tie keeps the entry its name matches under the new rules (entries are positions, and
 * positions change), or goes when no entry matches it any more. New bounds apply from here on.
 */
export function remapResolved(c: ResolvedCache, entryOf: (name: string) => number, max: number, windowSec: number): void {
  c.max = max;
  c.windowSec = windowSec;
  for (const [client, m] of c.v4) {
    for (const [addr, e] of m) {
      e.entry = entryOf(e.name);
      if (e.entry >= 0) continue;
      m.delete(addr);
      c.size--;
    }
    if (m.size === 0) c.v4.delete(client);
  }
  for (const [key, e] of c.v6) {
    e.entry = entryOf(e.name);
    if (e.entry >= 0) continue;
    c.v6.delete(key);
    c.size--;
  }
}

export function lookupV4(c: ResolvedCache, client: number, addr: number, now: number): ResolvedEntry | undefined {
  const e = c.v4.get(client)?.get(addr);
  return e !== undefined && e.expires > now ? e : undefined;
}

export function lookupV6(c: ResolvedCache, b: Uint8Array, clientOff: number, addrOff: number, now: number): ResolvedEntry | undefined {
  if (c.v6.size === 0) return undefined;
  const e = c.v6.get(v6Key(b, clientOff, addrOff));
  return e !== undefined && e.expires > now ? e : undefined;
}

/**
 * One tie of a client to an address an intel name resolved to, as it crosses threads: with one capture socket per
 * worker (PACKET_FANOUT) the DNS answer and the later connection may land on different workers, so the worker
 * that read the answer shares it and every other one remembers it too. IPv4 as numbers; IPv6 as its cache key.
 */
export interface SharedAnswer {
  client4: number;
  addr4: number;
  /** '' for IPv4. */
  key6: string;
  entry: number;
  name: string;
  /** Packet time of the answer (seconds): the tie expires windowSec after it, as on the thread that read it. */
  ts: number;
}

export function sharedV4(client: number, addr: number, entry: number, name: string, ts: number): SharedAnswer {
  return { client4: client, addr4: addr, key6: '', entry, name, ts };
}

export function sharedV6(b: Uint8Array, clientOff: number, addrOff: number, entry: number, name: string, ts: number): SharedAnswer {
  return { client4: 0, addr4: 0, key6: v6Key(b, clientOff, addrOff), entry, name, ts };
}

export function rememberShared(c: ResolvedCache, a: SharedAnswer): void {
  if (a.key6 === '') rememberV4(c, a.client4, a.addr4, a.entry, a.name, a.ts);
  else rememberV6Key(c, a.key6, a.entry, a.name, a.ts);
}
