/**
 * Every command's flags, in one table each: the parsers (parseArgsOptions), --help, the man page and the bash
 * completion (src/cli/docs.ts, scripts/gen-docs.js) are all made from these, so they cannot disagree.
 * Flag names, types, short forms, repeatability and defaults are a public contract: change them only on purpose.
 */
import { BATCH_MAX_PACKETS } from '../capture/batch';
import { DEFAULT_HOME_NET } from '../config/homenet';
import type { CommandSpec, OptionTable } from './option-table';

const SENSITIVITY = ['low', 'medium', 'high'] as const;
const FORMATS = ['ndjson', 'text'] as const;
const SUMMARY_LEVELS = ['none', 'brief', 'full'] as const;
const SUMMARY_SHOWN = 'full when stderr is a terminal, else brief; none with --quiet';
const SUMMARY_HELP = 'end-of-run summary on stderr: none; brief (files, decode counts, alerts per rule); full (also tables of scanners, intel lookups, research scanners, decode and capture health)';

export const MAIN_OPTIONS = {
  help: { type: 'boolean', short: 'h', help: 'this help' },
  version: { type: 'boolean', short: 'V', help: 'print the version' },
} as const satisfies OptionTable;

const CAPTURE = 'Capture';
const DETECTION = 'Detection (as in replay)';
const OUTPUTS = 'Outputs (several at once; none given: stdout)';
const SERVICE = 'Service';

/**
 * The sinks' flags: one set of entries in both commands' tables, so that replay and capture write to the same
 * outputs the same way. TLS and credential flags apply to every sink given on the command line that uses them
 * (https:// and tls:// URLs); picket.yaml sets them per sink. Credentials come from files, never from the command
 * line, where every user of the machine can read them in the process list.
 */
export const SINK_OPTIONS = {
  syslog: {
    type: 'string', multiple: true, default: [] as string[], value: 'URL', group: OUTPUTS, complete: 'none',
    help: 'RFC 5424 syslog: udp://HOST:PORT, tcp://HOST:PORT or tls://HOST[:PORT] (RFC 5425, port 6514 if none given) (repeatable)',
  },
  'http-out': { type: 'string', multiple: true, default: [] as string[], value: 'URL', group: OUTPUTS, complete: 'none', help: 'POST NDJSON batches (repeatable); with --bulk-index as Elasticsearch _bulk' },
  'bulk-index': { type: 'string', value: 'NAME', group: OUTPUTS, complete: 'none', help: '--http-out batches are Elasticsearch _bulk requests into index NAME ("create" actions, _id = event.id: a resend is not indexed twice)' },
  'http-gzip': { type: 'boolean', group: OUTPUTS, help: 'gzip --http-out request bodies (Content-Encoding: gzip)' },
  'http-basic-auth-file': { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: '--http-out basic authentication: FILE holds USER:PASSWORD on its first line' },
  'http-api-key-file': { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: '--http-out Elasticsearch API key: FILE holds the encoded key (sent as "Authorization: ApiKey KEY")' },
  'tls-ca': { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: 'PEM CA certificates that https:// and tls:// sinks verify the server against (default: the system\'s)' },
  'tls-cert': { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: 'PEM client certificate for https:// and tls:// sinks (with --tls-key)' },
  'tls-key': { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: 'PEM private key of --tls-cert' },
  'tls-insecure': { type: 'boolean', group: OUTPUTS, help: 'do not verify the server\'s certificate (testing only: anyone on the path can read and change the alerts)' },
  'spill-dir': { type: 'string', value: 'DIR', group: OUTPUTS, complete: 'dir', help: 'where a sink that is down spills what it cannot hold (sent first when it is back, also by the next run)' },
  nats: {
    type: 'string', value: 'URL[,URL...]', group: OUTPUTS, complete: 'none',
    help: 'fleet sensor: publish alerts and per-source scan summaries to NATS JetStream (streams PICKET_ALERTS, PICKET_SUMMARIES, created or checked at start) for picket correlate',
  },
  'sensor-name': { type: 'string', value: 'NAME', shown: 'the host name', group: OUTPUTS, complete: 'none', help: 'this sensor\'s name in the fleet (letters, digits, - and _): observer.name and the NATS subjects' },
  'nats-creds': {
    type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file',
    help: '--nats credentials: a NATS .creds file (user JWT and NKey seed), or a first line USER:PASSWORD, or a token; credentials the server refuses stop start-up (exit 2)',
  },
} as const satisfies OptionTable;

export const REPLAY_OPTIONS = {
  metadata: {
    type: 'boolean',
    help: 'also write a protocol event (event.kind: event) for every DNS query, TLS or QUIC ClientHello and HTTP request (the last document of a run is always the sensor\'s counters: event.kind metric)',
  },
  config: {
    type: 'string', value: 'FILE', complete: 'file',
    help: 'picket.yaml: home_net, rules, sensitivity, metadata, workers and outputs (sinks: file with rotation, syslog, HTTP/Elasticsearch _bulk); flags given here win over the file',
  },
  rules: { type: 'string', multiple: true, default: [] as string[], value: 'DIR', help: 'add the rule files under DIR to the bundled ones (repeatable; later files override)', complete: 'dir' },
  'home-net': { type: 'string', value: 'CIDRS', shown: DEFAULT_HOME_NET, help: 'the protected network, comma-separated IPv4/IPv6 CIDRs (a CIDR with host bits set, 10.0.0.1/8, is an error)', complete: 'none' },
  sensitivity: {
    type: 'string', value: 'LEVEL', shown: 'the policy file\'s "sensitivity", medium as bundled', complete: SENSITIVITY,
    help: 'scan thresholds preset: low (fewest alerts), medium, high (rules/scan.yaml)',
  },
  workers: {
    type: 'string', value: 'N', shown: '0: on small machines one thread is fastest, see bench/RESULTS.md', complete: 'none',
    help: 'N worker threads, each owning a shard of the flows; 0 = all work in this thread',
  },
  'batch-packets': { type: 'string', value: 'N', shown: String(BATCH_MAX_PACKETS), help: `most packets handed on at once, at most ${BATCH_MAX_PACKETS}; for tuning and tests`, complete: 'none' },
  quiet: { type: 'boolean', default: false, help: 'no summary on stderr' },
  summary: { type: 'string', value: 'none|brief|full', shown: SUMMARY_SHOWN, complete: SUMMARY_LEVELS, help: SUMMARY_HELP },
  help: { type: 'boolean', short: 'h', default: false, help: 'this help' },
  out: { type: 'string', value: 'FILE', group: OUTPUTS, help: 'write documents to FILE (appended) instead of stdout', complete: 'file' },
  format: { type: 'string', default: 'ndjson', value: 'ndjson|text', group: OUTPUTS, help: 'ndjson: one ECS JSON object per line; text: one readable line per document', complete: FORMATS },
  ...SINK_OPTIONS,
} as const satisfies OptionTable;

export const CAPTURE_OPTIONS = {
  interface: { type: 'string', short: 'i', multiple: true, default: [] as string[], value: 'IFACE', group: CAPTURE, complete: 'interface', help: 'capture on IFACE (repeatable; "picket interfaces" lists them)' },
  bpf: { type: 'string', value: 'FILTER', group: CAPTURE, complete: 'none', help: 'libpcap filter expression' },
  snaplen: { type: 'string', value: 'N', shown: '65535', group: CAPTURE, complete: 'none', help: 'bytes kept of each packet' },
  'buffer-mb': { type: 'string', value: 'N', shown: '64', group: CAPTURE, complete: 'none', help: 'kernel capture buffer per interface, MiB' },
  promisc: { type: 'boolean', group: CAPTURE, help: 'promiscuous mode (needs CAP_NET_ADMIN; a span port delivers to the NIC anyway)' },
  backend: { type: 'string', value: 'B', shown: 'auto: the addon, else cap', group: CAPTURE, complete: ['auto', 'addon', 'cap'], help: 'auto, addon (picket\'s libpcap addon) or cap (the npm package)' },
  count: { type: 'string', value: 'N', group: CAPTURE, complete: 'none', help: 'stop after N packets' },
  duration: { type: 'string', value: 'D', group: CAPTURE, complete: 'none', help: 'stop after D (90s, 15m, 1h)' },
  workers: { type: 'string', value: 'N', shown: '0', group: CAPTURE, complete: 'none', help: 'N worker threads, each with its own socket in a PACKET_FANOUT group (the kernel spreads whole flows over them; needs the addon); 0 = one socket, inline' },
  config: { type: 'string', value: 'FILE', group: DETECTION, complete: 'file', help: 'picket.yaml: every flag here, sinks, metrics, pcap ring (flags win over the file)' },
  rules: { type: 'string', multiple: true, default: [] as string[], value: 'DIR', group: DETECTION, complete: 'dir', help: 'add rule files (repeatable)' },
  'home-net': { type: 'string', value: 'CIDRS', shown: DEFAULT_HOME_NET, group: DETECTION, complete: 'none', help: 'the protected network' },
  sensitivity: { type: 'string', value: 'LEVEL', group: DETECTION, complete: SENSITIVITY, help: 'low, medium, high' },
  metadata: { type: 'boolean', group: DETECTION, help: 'also write protocol events' },
  out: { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: 'NDJSON file (appended)' },
  format: { type: 'string', value: 'ndjson|text', shown: 'ndjson', group: OUTPUTS, complete: FORMATS, help: 'what goes to stdout when no other output is given' },
  ...SINK_OPTIONS,
  'metrics-listen': { type: 'string', value: 'ADDR:PORT', group: SERVICE, complete: 'none', help: 'Prometheus metrics on http://ADDR:PORT/metrics' },
  'write-pcap': { type: 'string', value: 'DIR', group: SERVICE, complete: 'dir', help: 'keep a rolling ring of raw packets in DIR' },
  'pcap-file-mb': { type: 'string', value: 'N', shown: '64', group: SERVICE, complete: 'none', help: 'size of each file of the --write-pcap ring, MiB' },
  'pcap-files': { type: 'string', value: 'N', shown: '16', group: SERVICE, complete: 'none', help: 'files in the --write-pcap ring' },
  'stats-interval': { type: 'string', value: 'D', shown: '60s', group: SERVICE, complete: 'none', help: 'counters on stderr every D; 0 = never' },
  quiet: { type: 'boolean', default: false, group: SERVICE, help: 'no start, periodic or final lines on stderr' },
  summary: { type: 'string', value: 'none|brief|full', shown: SUMMARY_SHOWN, group: SERVICE, complete: SUMMARY_LEVELS, help: SUMMARY_HELP.replace('files, decode counts, alerts per rule', 'packets, drops, alerts per rule') },
  help: { type: 'boolean', short: 'h', default: false, group: SERVICE, help: 'this help' },
} as const satisfies OptionTable;

export const REPLAY: CommandSpec = {
  name: 'replay',
  usage: 'picket replay [options] <file|dir>...',
  synopsis: 'picket replay [options] <file|dir>...',
  summary: 'read pcap / pcapng (optionally gzip) captures and report',
  description: [
    'Reads captures (pcap in either byte order with µs or ns timestamps, pcapng, either gzip-compressed; a directory is read recursively; - reads standard input, and a FIFO is read as it comes, before the files) in the order of their first packets, and writes ECS alerts as NDJSON.',
  ],
  options: REPLAY_OPTIONS,
  positionals: 'file',
  footer: ['Exit status: 0 when the replay finished (damaged packets are counted, not fatal), 2 on a usage, input, rules or output error, 3 when the replay finished but a sink did not deliver every document (stderr says, per sink, how many were delivered, spilled to which file, dropped or refused).'],
};

export const REPORT_OPTIONS = {
  output: { type: 'string', short: 'o', value: 'FILE', shown: 'report.html', complete: 'file', help: 'write the HTML report to FILE' },
  title: { type: 'string', value: 'TEXT', complete: 'none', help: 'the report\'s title (default: the inputs\' names)' },
  config: { type: 'string', value: 'FILE', complete: 'file', help: 'picket.yaml for the captures replayed (as in replay)' },
  rules: { type: 'string', multiple: true, default: [] as string[], value: 'DIR', complete: 'dir', help: 'add rule files for the captures replayed (as in replay)' },
  'home-net': { type: 'string', value: 'CIDRS', shown: DEFAULT_HOME_NET, complete: 'none', help: 'the protected network for the captures replayed' },
  sensitivity: { type: 'string', value: 'LEVEL', complete: SENSITIVITY, help: 'scan thresholds preset for the captures replayed' },
  help: { type: 'boolean', short: 'h', default: false, help: 'this help' },
} as const satisfies OptionTable;

export const REPORT: CommandSpec = {
  name: 'report',
  usage: 'picket report [options] [FILE...|-] -o report.html',
  synopsis: 'picket report [FILE...|-] -o FILE',
  summary: 'write one self-contained HTML report from NDJSON alerts or captures',
  description: [
    'Reads picket\'s NDJSON documents (files, or standard input when no file or - is given) or captures (pcap, pcapng, either gzip-compressed: told apart by their first bytes, and replayed with the rules as replay would), and writes one HTML file with its scripts, styles and data inline, which opens from file:// with no network: a timeline of incidents per source, top sources, targets and ports, a host by port heat map of the largest scans, intel lookups per client and domain over time, and a table of every incident that expands to its first documents, filterable by source, kind and tool.',
  ],
  options: REPORT_OPTIONS,
  positionals: 'file',
  footer: ['Exit status: 0 when the report was written (lines that are not JSON are counted and stated in the report), 2 on a usage, input, rules or output error.'],
};

export const CAPTURE_CMD: CommandSpec = {
  name: 'capture',
  usage: 'picket capture -i IFACE [-i IFACE ...] [options]',
  synopsis: 'picket capture -i IFACE [options]',
  summary: 'capture live (libpcap) and report, until stopped',
  description: [
    'Captures live through libpcap (picket\'s own addon: many packets per crossing into JavaScript, with the kernel\'s drop counters; the npm "cap" package is the fallback where the addon could not be built) and reports as replay does. Runs until SIGINT/SIGTERM (or --count/--duration), then flushes, closes open aggregations, writes scan summaries and the final counters. SIGHUP reloads the rules without losing flow or scan state (a bad reload keeps the old rules and says why).',
  ],
  options: CAPTURE_OPTIONS,
  positionals: 'none',
};

const { nats: _sensorNats, 'sensor-name': _sensorName, 'nats-creds': natsCreds, ...CORRELATE_SINKS } = SINK_OPTIONS;

export const CORRELATE_OPTIONS = {
  nats: { type: 'string', value: 'URL[,URL...]', complete: 'none', help: 'the fleet\'s NATS servers (JetStream): summaries are read from PICKET_SUMMARIES, one durable consumer per partition (picket-correlate-pN) held' },
  'nats-creds': { type: 'string', value: 'FILE', complete: 'file', help: natsCreds.help },
  config: { type: 'string', value: 'FILE', complete: 'file', help: 'picket.yaml: rules, sensitivity, outputs, the nats output\'s servers and credentials (flags win over the file)' },
  rules: { type: 'string', multiple: true, default: [] as string[], value: 'DIR', complete: 'dir', help: 'add rule files (repeatable): the scan thresholds are rules/scan.yaml\'s' },
  sensitivity: { type: 'string', value: 'LEVEL', complete: SENSITIVITY, help: 'low, medium, high' },
  'idle-exit': { type: 'string', value: 'D', complete: 'none', help: 'stop after D (90s, 15m) without a new summary (batch use; default: run until SIGINT/SIGTERM)' },
  'metrics-listen': { type: 'string', value: 'ADDR:PORT', complete: 'none', help: 'Prometheus metrics on http://ADDR:PORT/metrics: summaries merged, merges across sensors, alerts, acknowledgements, partitions held, NATS connection, sinks' },
  quiet: { type: 'boolean', default: false, help: 'no lines on stderr but errors' },
  help: { type: 'boolean', short: 'h', default: false, help: 'this help' },
  out: { type: 'string', value: 'FILE', group: OUTPUTS, complete: 'file', help: 'NDJSON file (appended)' },
  ...CORRELATE_SINKS,
} as const satisfies OptionTable;

export const CORRELATE: CommandSpec = {
  name: 'correlate',
  usage: 'picket correlate --nats URL[,URL...] [options]',
  synopsis: 'picket correlate --nats URL [options]',
  summary: 'merge the scan summaries of a fleet of sensors and raise the scans no one sensor saw',
  description: [
    'Reads the per-source scan summaries that sensors run with --nats publish, merges each source\'s latest summary from every sensor, and raises scan.sweep, scan.port or scan.mixed (picket.fleet.correlated: true, each sensor\'s share) when the merged counts cross rules/scan.yaml\'s thresholds and no single sensor\'s did; when two or more sensors raised the scan themselves, one fleet view of it instead (picket.fleet.view: reported, once per source and episode). The summaries are partitioned by source (policy fleet.partitions, 16); several instances share the partitions through leases in the JetStream KV bucket PICKET_CORRELATE (about partitions/instances each; a killed instance\'s partitions move to the others once its leases expire, policy fleet.lease, 10s), each consuming the durable consumer of the partitions it holds. State and the alerts made are kept in that bucket too, so an instance killed and restarted neither loses nor repeats an alert.',
  ],
  options: CORRELATE_OPTIONS,
  positionals: 'none',
  footer: ['Exit status: 0 when stopped, 2 on a usage, rules, NATS or output error, 3 when a sink did not deliver every alert.'],
};

export const INTERFACES: CommandSpec = {
  name: 'interfaces',
  usage: 'picket interfaces',
  synopsis: 'picket interfaces',
  summary: 'list the interfaces that can be captured',
  description: ['Lists the interfaces libpcap can capture on, one a line: name, up/down, running, loopback, addresses and description, separated by tabs.'],
  options: {},
  positionals: 'none',
};

/** The commands in the order help and the man page list them. */
export const COMMANDS: readonly CommandSpec[] = [REPLAY, CAPTURE_CMD, REPORT, CORRELATE, INTERFACES];

/** picket --help. */
export function mainHelp(version: string): string {
  const lines = [...COMMANDS.map((c) => [c.synopsis, c.summary] as const), ['picket --help | --version', ''] as const];
  const col = Math.max(...lines.map(([s]) => s.length)) + 3;
  return `picket ${version}: a network sensor for reconnaissance (IP-intelligence lookups, T1590.005; scans, T1595.001)

Usage:
${lines.map(([s, d]) => `  ${d === '' ? s : s.padEnd(col) + d}`).join('\n')}

Options:
${Object.entries(MAIN_OPTIONS).map(([name, row]) => `  -${row.short}, --${name}`.padEnd(col + 2) + row.help).join('\n')}

Run "picket replay --help", "picket capture --help" or "picket report --help" for the options.
`;
}
