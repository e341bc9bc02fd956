import type { EcsDoc } from '../alert/ecs';

function get(doc: EcsDoc, path: string): unknown {
  let cur: unknown = doc;
  for (const k of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function endpoint(doc: EcsDoc, side: 'source' | 'destination'): string {
  const ip = String(get(doc, `${side}.ip`) ?? '?');
  const port = get(doc, `${side}.port`);
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${String(port)}`;
}

/** One readable line per document (--format text): time, what, who, and the facts an analyst reads first. */
export function formatText(doc: EcsDoc): string {
  const time = String(get(doc, '@timestamp'));
  const flow = `${endpoint(doc, 'source')} -> ${endpoint(doc, 'destination')} ${String(get(doc, 'network.transport') ?? '')}`;
  const tool = get(doc, 'threat.software.name');
  const toolText = tool !== undefined ? ` tool=${String(tool)}` : '';
  if (get(doc, 'event.kind') === 'alert' && get(doc, 'picket.scan.outcomes') !== undefined) {
    const sc = get(doc, 'picket.scan') as Record<string, unknown>;
    const o = sc.outcomes as Record<string, number>;
    const state = get(doc, 'picket.final') === true ? ' (summary)' : get(doc, 'picket.update') === true ? ' (update)' : '';
    const learned = (sc.learned as string[]).slice(0, 8).join(',');
    return `${time} ALERT ${String(get(doc, 'rule.id'))} ${String(get(doc, 'picket.severity'))} ${String(get(doc, 'source.ip'))} [${String(get(doc, 'network.direction'))}] ` +
      `attempts=${String(sc.attempts)} hosts=${String(sc.hosts)} ports=${String(sc.ports)} ping_hosts=${String(sc.ping_hosts)} ` +
      `answered=${o.answered} rejected=${o.rejected} unreachable=${o.unreachable} unanswered=${o.unanswered} ` +
      `${String(sc.duration_seconds)}s learned=[${learned}]${toolText} [T1595.001]${state}`;
  }
  if (get(doc, 'event.kind') === 'alert') {
    const count = get(doc, 'picket.count');
    const since = `since ${String(get(doc, 'event.start'))}`;
    const update = get(doc, 'picket.update') !== true ? '' : count !== undefined ? ` (update, ${String(count)} in all ${since})` : ` (update, ${since})`;
    const tech = String(get(doc, 'threat.technique.subtechnique.id') ?? get(doc, 'threat.technique.id') ?? '');
    return `${time} ALERT ${String(get(doc, 'rule.id'))} ${String(get(doc, 'picket.severity'))} ${flow} ${String(get(doc, 'rule.description'))}${toolText} [${tech}]${update}`;
  }
  if (get(doc, 'event.kind') === 'metric') {
    const st = get(doc, 'picket.stats') as Record<string, unknown>;
    return `${time} STATS packets=${String(st.packets)} bytes=${String(st.bytes)} decode_errors=${String(st.decode_errors)} alerts=${JSON.stringify(st.alerts)}`;
  }
  let what: string;
  if (get(doc, 'dns.question.name') !== undefined) {
    what = `dns ${String(get(doc, 'dns.question.type'))} ${String(get(doc, 'dns.question.name'))}`;
  } else if (get(doc, 'tls.client') !== undefined) {
    what = `${String(get(doc, 'network.protocol'))} sni=${String(get(doc, 'tls.client.server_name') ?? '-')} ja4=${String(get(doc, 'picket.tls.ja4'))}`;
  } else if (get(doc, 'http.request.method') !== undefined) {
    what = `http ${String(get(doc, 'http.request.method'))} ${String(get(doc, 'url.domain') ?? '-')} ${String(get(doc, 'url.path'))} ua=${JSON.stringify(get(doc, 'user_agent.original') ?? '')}`;
  } else {
    what = String(get(doc, 'event.dataset'));
  }
  return `${time} EVENT ${flow} ${what}`;
}
