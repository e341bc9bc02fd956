import * as http from 'node:http';
import * as net from 'node:net';
import { PicketError } from '../errors';

/**
 * Prometheus metrics: a small registry rendered in the text exposition format 0.0.4, and the HTTP endpoint that
 * serves it. No client library: picket needs two metric types, and a pull model keeps the packet path free of
 * any metrics code (the engine bumps its own plain numbers; collectors read them when Prometheus scrapes).
 *
 * Validation (names, label names, HELP, counter rules) happens twice, with different consequences:
 * - at register(), the collector is called once and anything invalid throws: a wrong name is a bug in picket and
 *   shows at start-up, in any test that builds the registry;
 * - at render(), output can differ from the first call (a new label value, a NaN where a count was expected), and
 *   one bad collector must not cost the whole scrape (Prometheus rejects a whole scrape that fails to parse), so
 *   that collector's samples are left out, all of them, and counted in picket_metrics_collector_errors_total,
 *   like a collector that throws.
 *
 * Names are held to the format's grammar and, beyond it, to the conventions `promtool check metrics` lints for:
 * lower-case snake_case without colons (those are for recording rules), a non-empty HELP, counters ending in
 * `_total` with values that never go negative. An exposition picket serves therefore lints clean.
 */

export type MetricType = 'counter' | 'gauge';

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
}

export interface Sample {
  family: MetricFamily;
  labels?: Record<string, string>;
  value: number;
}

/** A collector is called at scrape time and returns current samples: pull model, so the packet path only bumps its own plain numbers. */
export type Collector = () => Sample[];

export interface MetricsRegistry {
  /** Adds a collector; calls it once and throws an Error if what it returns is not valid exposition (or if it throws). */
  register(c: Collector): void;
  /** The text exposition format 0.0.4: every family once (HELP, TYPE, then all its samples), in order of first appearance. */
  render(): string;
}

export interface RegistryOptions {
  /** Told about each collector that threw or returned invalid samples during render(): e.g. to log it once. */
  onCollectorError?: (err: Error) => void;
}

/** Content type of the text format, as Prometheus asks for it and as its client libraries answer. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

// The format allows [a-zA-Z_:][a-zA-Z0-9_:]* for metric names and [a-zA-Z_][a-zA-Z0-9_]* for label names; picket
// keeps to the lower-case, colon-free subset (see above). Label names starting with __ are reserved for Prometheus.
const METRIC_NAME_RE = /^[a-z_][a-z0-9_]*$/;
const LABEL_NAME_RE = /^[a-z_][a-z0-9_]*$/;

const ERRORS_FAMILY: MetricFamily = {
  name: 'picket_metrics_collector_errors_total',
  help: 'Collector calls that threw or returned invalid samples; their samples were left out of that scrape.',
  type: 'counter',
};

function checkFamily(f: MetricFamily): string | null {
  if (typeof f !== 'object' || f === null) return 'a sample without a family';
  if (typeof f.name !== 'string' || !METRIC_NAME_RE.test(f.name)) return `metric name ${JSON.stringify(f.name)} is not lower-case snake_case ([a-z_][a-z0-9_]*)`;
  if (f.type !== 'counter' && f.type !== 'gauge') return `${f.name}: type ${JSON.stringify(f.type)} is neither counter nor gauge`;
  if (f.type === 'counter' && !f.name.endsWith('_total')) return `${f.name}: a counter's name must end in _total`;
  if (typeof f.help !== 'string' || f.help.trim() === '') return `${f.name}: empty HELP text`;
  return null;
}

function checkSample(s: Sample): string | null {
  const bad = checkFamily(s.family);
  if (bad !== null) return bad;
  const name = s.family.name;
  if (typeof s.value !== 'number') return `${name}: value ${JSON.stringify(s.value)} is not a number`;
  // A counter only goes up from zero; +Inf is allowed (the format has it), NaN and negatives are a broken count.
  if (s.family.type === 'counter' && !(s.value >= 0)) return `${name}: counter value ${s.value} is not >= 0`;
  if (s.labels !== undefined) {
    if (typeof s.labels !== 'object' || s.labels === null) return `${name}: labels is not an object`;
    for (const [k, v] of Object.entries(s.labels)) {
      if (!LABEL_NAME_RE.test(k)) return `${name}: label name ${JSON.stringify(k)} is not lower-case snake_case ([a-z_][a-z0-9_]*)`;
      if (k.startsWith('__')) return `${name}: label name ${JSON.stringify(k)} starts with __ (reserved for Prometheus)`;
      if (typeof v !== 'string') return `${name}: label ${k} has a value that is not a string`;
    }
  }
  return null;
}

/** HELP text escapes backslash and newline; label values also escape the double quote. */
function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Values as Prometheus parses them (Go's ParseFloat): NaN, +Inf, -Inf spelled out; everything else as JavaScript's
 * shortest round-trip form, which writes integers below 1e21 as plain digits and others as 1.5e-7 or 1e+21, all of
 * which Go reads back to the same double.
 */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '';
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Identity of a series within its family, independent of the order the labels were written in. */
function seriesKey(labels: Record<string, string> | undefined): string {
  if (labels === undefined) return '';
  return JSON.stringify(Object.entries(labels).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

interface FamilyOut {
  family: MetricFamily;
  lines: string[];
  series: Set<string>;
}

/**
 * Checks one collector's samples against the families seen so far in this render; returns the first problem, or
 * null and leaves `families` untouched so a rejected collector contributes nothing.
 */
function admit(samples: Sample[], families: Map<string, FamilyOut>): string | null {
  if (!Array.isArray(samples)) return 'a collector returned something that is not an array';
  const declared = new Map<string, MetricFamily>();
  const seriesHere = new Set<string>();
  for (const s of samples) {
    if (typeof s !== 'object' || s === null) return 'a sample that is not an object';
    const bad = checkSample(s);
    if (bad !== null) return bad;
    const name = s.family.name;
    if (name === ERRORS_FAMILY.name) return `${name} is picket's own metric`;
    const prev = families.get(name);
    const known = prev?.family ?? declared.get(name);
    if (known === undefined) declared.set(name, s.family);
    else if (known.type !== s.family.type || known.help !== s.family.help) return `${name}: declared twice with different TYPE or HELP`;
    const key = seriesKey(s.labels);
    const full = `${name} ${key}`;
    if (seriesHere.has(full) || (prev !== undefined && prev.series.has(key))) return `${name}${labelText(s.labels)}: the same series twice`;
    seriesHere.add(full);
  }
  for (const s of samples) {
    let out = families.get(s.family.name);
    if (out === undefined) {
      out = { family: s.family, lines: [], series: new Set() };
      families.set(s.family.name, out);
    }
    out.series.add(seriesKey(s.labels));
    out.lines.push(`${s.family.name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }
  return null;
}

function familyText(out: FamilyOut): string {
  const f = out.family;
  return `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n${out.lines.join('\n')}\n`;
}

export function createRegistry(opts: RegistryOptions = {}): MetricsRegistry {
  const collectors: Collector[] = [];
  let collectorErrors = 0;
  return {
    register(c) {
      const samples = c();
      const problem = admit(samples, new Map());
      // A plain Error, not a PicketError: an invalid metric is picket's bug, and its stack says where.
      if (problem !== null) throw new Error(`invalid metrics collector: ${problem}`);
      collectors.push(c);
    },
    render() {
      const families = new Map<string, FamilyOut>();
      for (const c of collectors) {
        let problem: Error | null = null;
        try {
          const why = admit(c(), families);
          if (why !== null) problem = new Error(`invalid metrics collector output: ${why}`);
        } catch (e) {
          problem = e instanceof Error ? e : new Error(String(e));
        }
        if (problem !== null) {
          collectorErrors++;
          opts.onCollectorError?.(problem);
        }
      }
      // Last, so that it already counts this scrape's failures.
      families.set(ERRORS_FAMILY.name, { family: ERRORS_FAMILY, lines: [`${ERRORS_FAMILY.name} ${collectorErrors}`], series: new Set(['']) });
      let text = '';
      for (const out of families.values()) text += familyText(out);
      return text;
    },
  };
}

const LISTEN_FORMS = 'expected HOST:PORT, [IPv6]:PORT or :PORT (all interfaces)';

/**
 * "127.0.0.1:9464", "[::1]:0", ":9464" (host "" = all interfaces, IPv4 and IPv6), "localhost:9464". Port 0 asks
 * the system for a free port (tests use it; the bound port is in MetricsServer.address).
 */
export function parseListen(s: string): { host: string; port: number } {
  const fail = (why: string): never => {
    throw new PicketError(`metrics listen address "${s}": ${why}`);
  };
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) fail(`no closing "]" (${LISTEN_FORMS})`);
    host = s.slice(1, close);
    if (s[close + 1] !== ':') fail(`no ":PORT" after "]" (${LISTEN_FORMS})`);
    portText = s.slice(close + 2);
    if (!net.isIPv6(host)) fail(`"${host}" inside brackets is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) fail(`no port (${LISTEN_FORMS})`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) fail(`an IPv6 address needs brackets, as in [::1]:9464`);
    if (host !== '' && !net.isIPv4(host)) {
      // Dotted digits that are not a valid IPv4 address are a typo, not a host name.
      if (/^[0-9.]+$/.test(host)) fail(`"${host}" is not a valid IPv4 address`);
      if (!/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(host)) {
        fail(`"${host}" is neither an IP address nor a host name`);
      }
    }
  }
  if (!/^\d{1,5}$/.test(portText)) fail(portText === '' ? `no port (${LISTEN_FORMS})` : `port "${portText}" is not a number from 0 to 65535`);
  const port = Number(portText);
  if (port > 65535) fail(`port ${port} is above 65535`);
  return { host, port };
}

export interface MetricsServer {
  /** host:port actually bound ("[::1]:41234" for IPv6), with the real port when 0 was asked for. */
  readonly address: string;
  close(): Promise<void>;
}

function bindError(listen: string, e: NodeJS.ErrnoException): PicketError {
  const why: Record<string, string> = {
    EADDRINUSE: 'the port is already in use',
    EACCES: 'permission denied (ports below 1024 need privileges)',
    EADDRNOTAVAIL: 'no interface of this host has that address',
    ENOTFOUND: 'the host name does not resolve',
    EAI_AGAIN: 'the host name could not be resolved now',
  };
  return new PicketError(`metrics listen address ${listen}: cannot listen: ${why[e.code ?? ''] ?? e.code ?? e.message}`);
}

/**
 * Serves the registry at GET/HEAD /metrics. Other paths are 404 whatever the method; other methods on /metrics are
 * 405 with an Allow header. The caller closes the server (it keeps the process alive until then).
 */
export async function serveMetrics(listen: string, registry: MetricsRegistry): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      const bytes = Buffer.from(body, 'utf8');
      res.writeHead(status, { 'Content-Length': String(bytes.length), ...headers });
      res.end(req.method === 'HEAD' ? undefined : bytes);
    };
    if (path !== '/metrics') {
      send(404, 'not found: metrics are at /metrics\n', { 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, `method ${req.method ?? ''} not allowed: GET or HEAD\n`, { 'Content-Type': 'text/plain; charset=utf-8', Allow: 'GET, HEAD' });
      return;
    }
    let text: string;
    try {
      text = registry.render();
    } catch (e) {
      // render() contains collector failures itself; anything else is a bug that should not kill the sensor.
      send(500, `metrics could not be rendered: ${e instanceof Error ? e.message : String(e)}\n`, { 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    send(200, text, { 'Content-Type': EXPOSITION_CONTENT_TYPE });
  });
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => reject(bindError(listen, e));
    server.once('error', onError);
    // No host: Node listens on :: with IPv4 mapped in (or 0.0.0.0 without IPv6), i.e. every interface.
    server.listen({ port, host: host === '' ? undefined : host }, () => {
      server.off('error', onError);
      const a = server.address() as net.AddressInfo;
      const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
      resolve({
        address,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err === undefined ? done() : fail(err)));
            // Prometheus keeps its connection open between scrapes; close does not wait for it.
            server.closeAllConnections();
          }),
      });
    });
  });
}
