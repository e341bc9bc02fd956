/**
 * The fleet's JetStream layout (native-notes/fleet.md): two streams, a KV bucket, a durable consumer per partition. Created when
 * missing, checked when present, at start, with errors that say what is wrong and how to fix it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { ConnectionOptions, JetStreamManager, NatsConnection, StreamConfig } from 'nats';
import { PicketError } from '../errors';
import { partitionDurable, partitionFilter, SUMMARIES_SUBJECT } from './partition';

/**
 * The NATS client, loaded when first needed, not at start-up: a run without --nats never uses it, and loading its
 * ~65 modules cost every picket command ~0.09 s (compiled in each process, each test's too).
 */
function nats(): typeof import('nats') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('nats') as typeof import('nats');
}

export { SUMMARIES_SUBJECT };

export const ALERTS_STREAM = 'PICKET_ALERTS';
export const SUMMARIES_STREAM = 'PICKET_SUMMARIES';
export const ALERTS_SUBJECT = 'picket.alerts';
/** What picket correlate has alerted (restart-safe de-duplication of fleet alerts) and its merged state per source. */
export const CORRELATE_BUCKET = 'PICKET_CORRELATE';
/** The one unpartitioned consumer of the first cut: deleted at start (checkUnpartitioned). */
const LEGACY_DURABLE = 'picket-correlate';
/** A JetStream de-duplication window: a retry within it is stored once. */
const DUPLICATE_WINDOW_NS = 10 * 60 * 1e9;
const DAY_NS = 24 * 3600 * 1e9;

/** A sensor name is a NATS subject token and a KV key part. */
export const SENSOR_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** "nats://h:p,nats://h2:p2" -> list; each must be nats:// or a host:port. */
export function parseServers(flag: string, what = '--nats'): string[] {
  const list = flag.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (list.length === 0) throw new PicketError(`${what} needs at least one server URL (nats://HOST:PORT)`);
  for (const u of list) {
    if (!/^(nats|tls):\/\/[^\s/@]+:\d+$/.test(u)) throw new PicketError(`${what}: "${u}" is not nats://HOST:PORT (credentials go in a file, not the URL)`);
  }
  return list;
}

/** The host name as a sensor name (a subject token): --sensor-name's and sensor_name's default. */
export function defaultSensorName(): string {
  return os.hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

/** How a fleet connection authenticates and verifies the servers: files only (never secrets on the command line). */
export interface FleetAuth {
  /** --nats-creds / credentials: a NATS .creds file (JWT + NKey seed), or a first line USER:PASSWORD, or a token. */
  credsFile?: string;
  /** tls.ca: PEM CA the servers' certificates are verified against (with tls:// URLs or servers that require TLS). */
  tlsCa?: string;
}

/**
 * The connection options of the credentials file: a NATS .creds file (it holds "-----BEGIN NATS USER JWT-----")
 * goes to the client's credsAuthenticator; else the first non-empty line is USER:PASSWORD when it has a colon, a
 * token when not. Read at start: a missing or empty file stops start-up.
 */
export function fleetAuthOptions(auth: FleetAuth | undefined): Partial<ConnectionOptions> {
  const o: Partial<ConnectionOptions> = {};
  if (auth?.credsFile !== undefined) {
    const file = auth.credsFile;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      throw new PicketError(`NATS credentials ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    }
    if (text.includes('-----BEGIN NATS USER JWT-----')) {
      o.authenticator = nats().credsAuthenticator(new TextEncoder().encode(text));
    } else {
      const line = text.split(/\r?\n/).map((l) => l.trim()).find((l) => l !== '');
      if (line === undefined) throw new PicketError(`NATS credentials ${file}: empty (want USER:PASSWORD, a token, or a .creds file)`);
      const colon = line.indexOf(':');
      if (colon > 0) {
        o.user = line.slice(0, colon);
        o.pass = line.slice(colon + 1);
      } else {
        o.token = line;
      }
    }
  }
  if (auth?.tlsCa !== undefined) {
    if (!fs.existsSync(auth.tlsCa)) throw new PicketError(`NATS TLS CA ${auth.tlsCa}: no such file`);
    o.tls = { caFile: auth.tlsCa };
  }
  return o;
}

/** The server refused the credentials (or asked for some): a configuration error, not an outage. */
export function isAuthError(e: unknown): boolean {
  return /authori[sz]ation|authentication|permissions violation/i.test(String((e as Error).message ?? e));
}

/** The server's certificate was not verified (wrong or missing tls.ca): a configuration error too. */
function isTlsError(e: unknown): boolean {
  return /certificate|self[- ]signed|unable to (get|verify)|CERT_|SSL|handshake/i.test(`${String((e as Error).message ?? e)} ${String((e as { code?: unknown }).code ?? '')}`);
}

/** A connection that failed for a configuration mistake (credentials, CA): start-up stops (exit 2) instead of spilling. */
export function isFleetConfigError(e: unknown): boolean {
  return (e as { fleetConfig?: unknown } | null)?.fleetConfig === true;
}

/** One connection that keeps reconnecting (a sensor never gives up on NATS; its sink buffers and spills). */
export async function connectFleet(servers: string[], name: string, auth?: FleetAuth, timeoutMs = 10_000): Promise<NatsConnection> {
  const options = fleetAuthOptions(auth);
  try {
    return await nats().connect({ servers, name, maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: timeoutMs, pingInterval: 5000, ...options });
  } catch (e) {
    const why = isAuthError(e) ? ': the server refused the credentials' + (auth?.credsFile !== undefined ? ` of ${auth.credsFile}` : ' (none given: --nats-creds FILE)')
      : isTlsError(e) ? ': the server\'s TLS certificate was not verified' + (auth?.tlsCa !== undefined ? ` against the CA of tls.ca ${auth.tlsCa}` : ' (no CA given: the nats output\'s tls: { ca: FILE })')
        : '';
    throw Object.assign(new PicketError(`NATS ${servers.join(',')}: cannot connect (${(e as Error).message})${why}`), { fleetConfig: why !== '' });
  }
}

/** Servers of the cluster as the one connected to advertises them (itself included), at least 1. */
export function clusterSize(nc: NatsConnection): number {
  const info = (nc as unknown as { info?: { connect_urls?: string[] } }).info;
  return Math.max(1, info?.connect_urls?.length ?? 1);
}

function streamConfig(name: string, subject: string, replicas: number): Partial<StreamConfig> {
  return {
    name, subjects: [`${subject}.>`], storage: nats().StorageType.File, retention: nats().RetentionPolicy.Limits, discard: nats().DiscardPolicy.Old,
    num_replicas: replicas, duplicate_window: DUPLICATE_WINDOW_NS, max_age: 7 * DAY_NS, max_bytes: 1024 * 1024 * 1024,
  };
}

/** How long start-up waits out a cluster that is electing a leader (a node just died) before it gives up. */
const SETTLE_MS = 20_000;

/** A JetStream API call, retried while the cluster answers with timeouts or "temporarily unavailable" (bounded). */
export async function settled<T>(f: () => Promise<T>): Promise<T> {
  const end = Date.now() + SETTLE_MS;
  for (;;) {
    try {
      return await f();
    } catch (e) {
      const m = (e as Error).message;
      if (!/timeout|temporarily unavailable|no responders|leader|503/i.test(m) || Date.now() >= end) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function ensureStream(jsm: JetStreamManager, name: string, subject: string, replicas: number): Promise<void> {
  let info;
  try {
    info = await settled(() => jsm.streams.info(name));
  } catch (e) {
    if (!/not found/i.test((e as Error).message)) throw new PicketError(`NATS stream ${name}: ${(e as Error).message} (is JetStream enabled on the servers?)`);
    try {
      await settled(() => jsm.streams.add(streamConfig(name, subject, replicas)));
      return;
    } catch (e2) {
      // Created by another sensor or correlate at the same moment: checked below like any existing stream.
      if (!/already in use/i.test((e2 as Error).message)) throw new PicketError(`NATS stream ${name}: cannot create it with ${replicas} replica(s), file storage: ${(e2 as Error).message}`);
      info = await settled(() => jsm.streams.info(name));
    }
  }
  const c = info.config;
  const want = `${subject}.>`;
  if (!c.subjects.includes(want)) throw new PicketError(`NATS stream ${name} exists with subjects ${JSON.stringify(c.subjects)}, not ${want}: delete it or fix its subjects`);
  if (c.duplicate_window < 60 * 1e9) throw new PicketError(`NATS stream ${name}: duplicate_window ${c.duplicate_window / 1e9} s is under 60 s: retries could be stored twice`);
}

/** Both streams, with replicas = min(3, cluster size); throws a PicketError saying what is wrong. */
export async function ensureStreams(nc: NatsConnection): Promise<{ replicas: number }> {
  const replicas = Math.min(3, clusterSize(nc));
  let jsm: JetStreamManager;
  try {
    jsm = await settled(() => nc.jetstreamManager({ timeout: 5000 }));
  } catch (e) {
    throw new PicketError(`NATS: no JetStream on ${nc.getServer()} (${(e as Error).message}): run nats-server with -js / jetstream {}`);
  }
  await ensureStream(jsm, ALERTS_STREAM, ALERTS_SUBJECT, replicas);
  await ensureStream(jsm, SUMMARIES_STREAM, SUMMARIES_SUBJECT, replicas);
  return { replicas };
}

/** A partition's durable pull consumer of the summaries (its filter subject), explicit acks; created when missing. */
export async function ensurePartitionConsumer(nc: NatsConnection, partition: number): Promise<string> {
  const durable = partitionDurable(partition);
  const jsm = await settled(() => nc.jetstreamManager({ timeout: 5000 }));
  try {
    await settled(() => jsm.consumers.info(SUMMARIES_STREAM, durable));
  } catch {
    await settled(() => jsm.consumers.add(SUMMARIES_STREAM, {
      durable_name: durable, filter_subject: partitionFilter(partition), ack_policy: nats().AckPolicy.Explicit, ack_wait: 30 * 1e9, max_ack_pending: 1000,
    }));
  }
  return durable;
}

/**
 * Summaries of sensors from before partitioning (picket.summaries.<sensor>, one token) are in no partition and no
 * consumer reads them: correlate stops at start, saying how to remove them. The unpartitioned consumer of the first
 * cut (picket-correlate) is deleted: the partition consumers replace it. Returns what it said.
 */
export async function checkUnpartitioned(nc: NatsConnection): Promise<string | null> {
  const jsm = await settled(() => nc.jetstreamManager({ timeout: 5000 }));
  const info = await settled(() => jsm.streams.info(SUMMARIES_STREAM, { subjects_filter: `${SUMMARIES_SUBJECT}.*` }));
  const old = Object.entries(info.state.subjects ?? {});
  if (old.length > 0) {
    const n = old.reduce((a, [, c]) => a + c, 0);
    throw new PicketError(`NATS stream ${SUMMARIES_STREAM} holds ${n} summaries on unpartitioned subjects (${old.slice(0, 3).map(([k]) => k).join(', ')}${old.length > 3 ? ', ...' : ''}) `
      + `from sensors older than partitioning, which no partition consumer reads: upgrade those sensors and purge them (nats stream purge ${SUMMARIES_STREAM} --subject '${SUMMARIES_SUBJECT}.*')`);
  }
  const gone = await jsm.consumers.delete(SUMMARIES_STREAM, LEGACY_DURABLE).catch(() => false);
  return gone ? `the unpartitioned consumer ${LEGACY_DURABLE} of an older correlate was deleted (one consumer per partition replaces it)` : null;
}

/**
 * Whether a partition's consumer is stalled: it has delivered and had acknowledged everything it thinks there is,
 * yet the stream holds a newer summary of its partition. Seen with nats-server 2.9.10 after a node restart (the
 * consumer's leader counting on a replica that lags; nats-server issues 4736, 5679 describe the same symptom). Its
 * leader is then asked to step down, so that a current replica takes over; true when it was.
 */
export async function unstickConsumer(nc: NatsConnection, partition: number): Promise<boolean> {
  const jsm = await nc.jetstreamManager({ timeout: 5000 });
  const durable = partitionDurable(partition);
  const ci = await jsm.consumers.info(SUMMARIES_STREAM, durable);
  if (ci.num_pending > 0 || ci.num_ack_pending > 0) return false;
  const last = await jsm.streams.getMessage(SUMMARIES_STREAM, { last_by_subj: partitionFilter(partition) }).catch(() => null);
  if (last === null || ci.delivered.stream_seq >= last.seq) return false;
  await nc.request(`$JS.API.CONSUMER.LEADER.STEPDOWN.${SUMMARIES_STREAM}.${durable}`, undefined, { timeout: 5000 });
  return true;
}
