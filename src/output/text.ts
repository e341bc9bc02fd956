import type { EcsDoc } from '../alert/ecs';

/** A field of a document by its dotted ECS path (undefined when absent). */
export function docField(doc: EcsDoc, path: string): unknown {
  let cur: unknown = doc;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function endpoint(doc: EcsDoc, side: 'source' | 'destination'): string {
  const ip = String(docField(doc, `${side}.ip`) ?? '?');
  const port = docField(doc, `${side}.port`);
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${String(port)}`;
}

/** One readable line per document (--format text): time, what, who, and the facts an analyst reads first. */
export function formatText(doc: EcsDoc): string {
  const time = String(docField(doc, '@timestamp'));
  const flow = `${endpoint(doc, 'source')} -> ${endpoint(doc, 'destination')} ${String(docField(doc, 'network.transport') ?? '')}`;
  const tool = docField(doc, 'threat.software.name');
  const toolText = tool !== undefined ? ` tool=${String(tool)}` : '';
  if (docField(doc, 'event.kind') === 'alert' && docField(doc, 'picket.scan.outcomes') !== undefined) {
    const sc = docField(doc, 'picket.scan') as Record<string, unknown>;
    const o = sc.outcomes as Record<string, number>;
    const state = docField(doc, 'picket.final') === true ? ' (summary)' : docField(doc, 'picket.update') === true ? ' (update)' : '';
    const learned = (sc.learned as string[]).slice(0, 8).join(',');
    const list = (v: unknown): string => (Array.isArray(v) ? v.slice(0, 5).map(String).join(',') + (v.length > 5 ? ',...' : '') : '');
    const incident = docField(doc, 'picket.incident.id');
    return `${time} ALERT ${String(docField(doc, 'rule.id'))} ${String(docField(doc, 'picket.severity'))} ${String(docField(doc, 'source.ip'))} [${String(docField(doc, 'network.direction'))}] ` +
      `attempts=${String(sc.attempts)} hosts=${String(sc.hosts)} ports=${String(sc.ports)} ping_hosts=${String(sc.ping_hosts)} ` +
      `targets=[${list(sc.sample_hosts)}] target_ports=[${list(sc.sample_ports)}] ` +
      `answered=${o.answered} half_open=${o.half_open ?? 0} rejected=${o.rejected} unreachable=${o.unreachable} unanswered=${o.unanswered} ` +
      `${String(sc.duration_seconds)}s learned=[${learned}]${toolText} [T1595.001]${state}` +
      `${incident !== undefined ? ` incident=${String(incident)}` : ''}${list(docField(doc, 'picket.severity_reasons')) !== '' ? ` why=${JSON.stringify(docField(doc, 'picket.severity_reasons'))}` : ''}`;
  }
  if (docField(doc, 'event.kind') === 'alert') {
    const count = docField(doc, 'picket.count');
    const since = `since ${String(docField(doc, 'event.start'))}`;
    const update = docField(doc, 'picket.update') !== true ? '' : count !== undefined ? ` (update, ${String(count)} in all ${since})` : ` (update, ${since})`;
    const tech = String(docField(doc, 'threat.technique.subtechnique.id') ?? docField(doc, 'threat.technique.id') ?? '');
    return `${time} ALERT ${String(docField(doc, 'rule.id'))} ${String(docField(doc, 'picket.severity'))} ${flow} ${String(docField(doc, 'rule.description'))}${toolText} [${tech}]${update}`;
  }
  if (docField(doc, 'event.kind') === 'metric') {
    const st = docField(doc, 'picket.stats') as Record<string, unknown>;
    return `${time} STATS packets=${String(st.packets)} bytes=${String(st.bytes)} decode_errors=${String(st.decode_errors)} alerts=${JSON.stringify(st.alerts)}`;
  }
  let what: string;
  if (docField(doc, 'dns.question.name') !== undefined) {
    what = `dns ${String(docField(doc, 'dns.question.type'))} ${String(docField(doc, 'dns.question.name'))}`;
  } else if (docField(doc, 'tls.client') !== undefined) {
    what = `${String(docField(doc, 'network.protocol'))} sni=${String(docField(doc, 'tls.client.server_name') ?? '-')} ja4=${String(docField(doc, 'picket.tls.ja4'))}`;
  } else if (docField(doc, 'http.request.method') !== undefined) {
    what = `http ${String(docField(doc, 'http.request.method'))} ${String(docField(doc, 'url.domain') ?? '-')} ${String(docField(doc, 'url.path'))} ua=${JSON.stringify(docField(doc, 'user_agent.original') ?? '')}`;
  } else {
    what = String(docField(doc, 'event.dataset'));
  }
  return `${time} EVENT ${flow} ${what}`;
}
