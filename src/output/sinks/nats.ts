import { type JetStreamClient, type NatsConnection } from 'nats';
import type { EcsDoc } from '../../alert/ecs';
import { DEFAULT_PARTITIONS, partitionOf, summarySubject } from '../../fleet/partition';
import { ALERTS_SUBJECT, connectFleet, ensureStreams, type FleetAuth } from '../../fleet/streams';
import { encodeAll, type Outcome, type Transport } from './queue';

/**
 * A fleet sensor's JetStream publisher: alert documents to picket.alerts.<sensor>, scan summaries (kind
 * scan_summary, fleet-summary.ts) to picket.summaries.<partition>.<sensor> (partition.ts: by source). Every message carries a Nats-Msg-Id (event.id;
 * sensor:source:first:seq for a summary), so a batch sent again after a lost acknowledgement is stored once.
 * It runs in the main thread: the queue around it (queue.ts) buffers, spills and retries while NATS is away.
 */
export function natsTransport(cfg: { servers: string[]; sensor: string; auth?: FleetAuth; partitions?: number }): Transport {
  const partitions = cfg.partitions ?? DEFAULT_PARTITIONS;
  const name = `nats ${cfg.servers.join(',')}`;
  let nc: NatsConnection | null = null;
  let js: JetStreamClient | null = null;
  let connecting: Promise<JetStreamClient> | null = null;
  const client = (): Promise<JetStreamClient> => {
    if (js !== null) return Promise.resolve(js);
    // The streams are checked on every new connection: NATS may have been unreachable when picket started.
    connecting ??= connectFleet(cfg.servers, `picket sensor ${cfg.sensor}`, cfg.auth).then(async (c) => {
      try {
        await ensureStreams(c);
      } catch (e) {
        await c.close();
        throw e;
      }
      nc = c;
      js = c.jetstream({ timeout: 5000 });
      return js;
    }).finally(() => {
      connecting = null;
    });
    return connecting;
  };
  const route = (doc: EcsDoc): { subject: string; id: string } => {
    if (doc.kind === 'scan_summary') {
      const first = doc.first as [number, number];
      return { subject: summarySubject(partitionOf(String(doc.source), partitions), cfg.sensor), id: `${cfg.sensor}:${String(doc.source)}:${first[0]}.${first[1]}:${String(doc.seq)}` };
    }
    return { subject: `${ALERTS_SUBJECT}.${cfg.sensor}`, id: String((doc.event as { id?: unknown } | undefined)?.id ?? '') };
  };
  return {
    name,
    batchDocs: 256,
    batchMs: 20,
    maxInFlight: 1,
    async send(docs): Promise<Outcome> {
      const { sent, lines, failed } = encodeAll(docs, (d) => JSON.stringify(d));
      const c = await client();
      // All of the batch in flight at once; any failure sends the whole batch again, which the ids make harmless.
      await Promise.all(sent.map((d, i) => {
        const r = route(d);
        // msgID is sent as the Nats-Msg-Id header.
        return c.publish(r.subject, Buffer.from(lines[i], 'utf8'), { msgID: r.id === '' ? undefined : r.id, timeout: 5000 });
      }));
      return { retry: [], failed };
    },
    async close() {
      const c = nc as NatsConnection | null;
      if (c !== null) await c.drain().catch(() => undefined);
    },
    abort() {
      const c = nc as NatsConnection | null;
      if (c !== null) void c.close();
    },
  };
}
