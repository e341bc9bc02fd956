/**
 * One option table per command (src/cli/commands.ts) feeds the parsers, --help, the man page and the bash
 * completion. These tests hold each of them to the table, and the committed packaging/ files to the generator.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CAPTURE_OPTIONS, COMMANDS, CORRELATE_OPTIONS, MAIN_OPTIONS, REPLAY_OPTIONS, REPORT_OPTIONS } from '../src/cli/commands';
import { parseArgsOptions, type OptionTable } from '../src/cli/option-table';
import { picket, requireTool, ROOT, tmpDir } from './helpers';

const MAN = path.join(ROOT, 'packaging', 'picket.1');
const COMPLETION = path.join(ROOT, 'packaging', 'picket.bash-completion');

/** Every table with the command line that prints its help; "" is picket itself. */
const TABLES: Array<[string, OptionTable]> = [['', MAIN_OPTIONS], ['replay', REPLAY_OPTIONS], ['capture', CAPTURE_OPTIONS], ['report', REPORT_OPTIONS], ['correlate', CORRELATE_OPTIONS]];

/** "--name" and "-s" for every row of a table. */
function tableFlags(table: OptionTable): { long: string[]; short: string[] } {
  const long = Object.keys(table).map((n) => `--${n}`);
  const short = Object.values(table).flatMap((r) => (r.short !== undefined ? [`-${r.short}`] : []));
  return { long, short };
}

const sorted = (a: Iterable<string>): string[] => [...a].sort();

test('the parsers take exactly the flags they took before the tables (the CLI is a public contract)', () => {
  // The option objects as they were written by hand before the tables; a change here is a change of the CLI.
  const replay = {
    config: { type: 'string' }, out: { type: 'string' }, format: { type: 'string', default: 'ndjson' }, metadata: { type: 'boolean' },
    rules: { type: 'string', multiple: true, default: [] }, 'home-net': { type: 'string' }, workers: { type: 'string' },
    'batch-packets': { type: 'string' }, sensitivity: { type: 'string' }, quiet: { type: 'boolean', default: false },
    summary: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
  };
  const capture = {
    interface: { type: 'string', short: 'i', multiple: true, default: [] }, bpf: { type: 'string' }, snaplen: { type: 'string' },
    'buffer-mb': { type: 'string' }, promisc: { type: 'boolean' }, backend: { type: 'string' }, count: { type: 'string' },
    workers: { type: 'string' }, duration: { type: 'string' }, config: { type: 'string' }, rules: { type: 'string', multiple: true, default: [] },
    'home-net': { type: 'string' }, sensitivity: { type: 'string' }, metadata: { type: 'boolean' }, out: { type: 'string' },
    format: { type: 'string' }, syslog: { type: 'string', multiple: true, default: [] }, 'http-out': { type: 'string', multiple: true, default: [] },
    'bulk-index': { type: 'string' }, 'spill-dir': { type: 'string' }, 'metrics-listen': { type: 'string' }, 'write-pcap': { type: 'string' },
    'pcap-file-mb': { type: 'string' }, 'pcap-files': { type: 'string' }, 'stats-interval': { type: 'string' }, quiet: { type: 'boolean', default: false },
    summary: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false },
  };
  // Added since (add, never rename): the sink flags, one set of entries shared by both commands.
  const sinks = {
    syslog: { type: 'string', multiple: true, default: [] }, 'http-out': { type: 'string', multiple: true, default: [] },
    'bulk-index': { type: 'string' }, 'http-gzip': { type: 'boolean' }, 'http-basic-auth-file': { type: 'string' },
    'http-api-key-file': { type: 'string' }, 'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' },
    'tls-insecure': { type: 'boolean' }, 'spill-dir': { type: 'string' },
    // issue 17: fleet sensors on NATS JetStream.
    nats: { type: 'string' }, 'sensor-name': { type: 'string' },
    // issue 17, second cut: NATS credentials from a file.
    'nats-creds': { type: 'string' },
  };
  assert.deepEqual(parseArgsOptions(REPLAY_OPTIONS), { ...replay, ...sinks });
  assert.deepEqual(parseArgsOptions(CAPTURE_OPTIONS), { ...capture, ...sinks });
  assert.equal(Object.keys(parseArgsOptions(REPLAY_OPTIONS)).length, 12 + 14);
  assert.equal(Object.keys(parseArgsOptions(CAPTURE_OPTIONS)).length, 28 + 10);
  // Shared, not copied: each sink flag is the very same entry in both tables.
  for (const name of Object.keys(sinks)) {
    assert.equal(REPLAY_OPTIONS[name as keyof typeof REPLAY_OPTIONS], CAPTURE_OPTIONS[name as keyof typeof CAPTURE_OPTIONS], name);
  }
  // A parse must not be able to change a table's default through the array it was given.
  const a = parseArgsOptions(CAPTURE_OPTIONS);
  a.interface.default.push('eth9');
  assert.deepEqual(parseArgsOptions(CAPTURE_OPTIONS).interface.default, []);
});

test('the committed man page and completion are what the generator makes from the tables', () => {
  const dir = tmpDir('docs');
  try {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'gen-docs.js'), dir], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    for (const [made, committed] of [[path.join(dir, 'picket.1'), MAN], [path.join(dir, 'picket.bash-completion'), COMPLETION]]) {
      assert.ok(fs.existsSync(committed), `${committed} is not committed`);
      assert.equal(fs.readFileSync(made, 'utf8'), fs.readFileSync(committed, 'utf8'), `${path.basename(committed)} is out of date: run npm run docs and commit it`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The flags a help text lists: lines that start with a flag at the option indent (wrapped text is indented further). */
function helpFlags(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^ {2}(?:(-[A-Za-z]), )?(--[a-z][\w-]*)/.exec(line);
    if (m === null) continue;
    if (m[1] !== undefined) found.push(m[1]);
    found.push(m[2]);
  }
  return found;
}

test('picket <cmd> --help lists every flag of its table with its description', () => {
  for (const [cmd, table] of TABLES) {
    const r = picket(cmd === '' ? ['--help'] : [cmd, '--help']);
    assert.equal(r.code, 0, r.stderr);
    const found = helpFlags(r.stdout);
    const { long, short } = tableFlags(table);
    const foundLong = found.filter((f) => f.startsWith('--'));
    assert.ok(foundLong.length > 0, `picket ${cmd} --help: no flags found`);
    assert.equal(foundLong.length, Object.keys(table).length, `picket ${cmd} --help: ${foundLong.join(' ')}`);
    assert.deepEqual(sorted(foundLong), sorted(long));
    assert.deepEqual(sorted(found.filter((f) => !f.startsWith('--'))), sorted(short));
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const [name, row] of Object.entries(table)) assert.ok(flat.includes(row.help), `picket ${cmd} --help: --${name}'s description "${row.help}"`);
  }
});

/** The rendered man page as plain text (no bold or underline), and groff's warnings. */
function renderMan(): { text: string; warnings: string } {
  requireTool('groff');
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-P', '-cbou', MAN], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100' } });
  assert.equal(r.status, 0, r.stderr);
  return { text: r.stdout, warnings: r.stderr };
}

test('the man page renders without warnings and lists every flag of every table under its command', () => {
  const { text, warnings } = renderMan();
  assert.equal(warnings, '', 'groff -ww warnings');
  for (const sec of ['NAME', 'SYNOPSIS', 'DESCRIPTION', 'COMMANDS', 'OPTIONS', 'FILES', 'EXIT STATUS', 'SEE ALSO']) {
    assert.match(text, new RegExp(`^${sec}$`, 'm'), sec);
  }
  for (const c of COMMANDS) assert.match(text, new RegExp(`^ {7}${c.name}\\b`, 'm'), `COMMANDS lists ${c.name}`);
  for (const f of ['/etc/picket/picket.yaml', '/etc/picket/rules.d/']) assert.ok(text.includes(f), f);
  for (const code of ['0', '2', '3', '70']) assert.match(text, new RegExp(`^ {7}${code} `, 'm'), `exit status ${code}`);

  // OPTIONS has one subsection per table, "picket", "picket replay", "picket capture", each a list of tagged paragraphs.
  const options = text.slice(text.search(/^OPTIONS$/m), text.search(/^SIGNALS$/m));
  const sections = new Map<string, string>();
  const heads = [...options.matchAll(/^ {3}(picket(?: \w+)?)$/gm)];
  heads.forEach((h, i) => sections.set(h[1], options.slice(h.index ?? 0, heads[i + 1]?.index ?? options.length)));
  assert.equal(sections.size, TABLES.length, [...sections.keys()].join(', '));
  for (const [cmd, table] of TABLES) {
    const body = sections.get(cmd === '' ? 'picket' : `picket ${cmd}`);
    assert.ok(body !== undefined, `no OPTIONS subsection for ${cmd || 'picket'}`);
    const found: string[] = [];
    for (const m of body.matchAll(/^ {7}(?:(-[A-Za-z]), )?(--[a-z][\w-]*)/gm)) {
      if (m[1] !== undefined) found.push(m[1]);
      found.push(m[2]);
    }
    const { long, short } = tableFlags(table);
    const foundLong = found.filter((f) => f.startsWith('--'));
    assert.ok(foundLong.length > 0, `man page, ${cmd}: no flags found`);
    assert.equal(foundLong.length, Object.keys(table).length, `man page, ${cmd}: ${foundLong.join(' ')}`);
    assert.deepEqual(sorted(foundLong), sorted(long));
    assert.deepEqual(sorted(found.filter((f) => !f.startsWith('--'))), sorted(short));
  }
});

test('man -l shows the page without warnings', () => {
  requireTool('man');
  const r = spawnSync('man', ['--warnings', '-l', MAN], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MANPAGER: 'cat', PAGER: 'cat' } });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /picket replay/);
});

/** What the completion offers for a command line (the word being completed last, possibly empty). */
function complete(line: string[]): string[] {
  requireTool('bash');
  const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _picket; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['--norc', '--noprofile', '-c', script, 'complete', COMPLETION, ...line], { encoding: 'utf8', cwd: ROOT });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('the bash completion offers the commands and every flag of every table', () => {
  const top = complete(['picket', '']);
  assert.deepEqual(sorted(top), sorted([...COMMANDS.map((c) => c.name), ...tableFlags(MAIN_OPTIONS).long, ...tableFlags(MAIN_OPTIONS).short]));
  for (const [cmd, table] of TABLES.filter(([c]) => c !== '')) {
    const offered = complete(['picket', cmd, '-']);
    const { long, short } = tableFlags(table);
    const offeredLong = offered.filter((f) => f.startsWith('--'));
    assert.ok(offeredLong.length > 0, `${cmd}: nothing offered`);
    assert.equal(offeredLong.length, Object.keys(table).length, `${cmd}: ${offeredLong.join(' ')}`);
    assert.deepEqual(sorted(offeredLong), sorted(long));
    assert.deepEqual(sorted(offered.filter((f) => !f.startsWith('--'))), sorted(short));
  }
});

test('the bash completion completes values: interfaces, files, directories, fixed words', () => {
  // picket is not on this PATH, so the interfaces come from /sys/class/net; lo is always there.
  const ifaces = fs.readdirSync('/sys/class/net');
  assert.ok(ifaces.includes('lo'));
  assert.deepEqual(sorted(complete(['picket', 'capture', '-i', ''])), sorted(ifaces));
  assert.deepEqual(sorted(complete(['picket', 'capture', '--interface', ''])), sorted(ifaces));
  assert.deepEqual(complete(['picket', 'capture', '--format', '']), ['ndjson', 'text']);
  assert.deepEqual(complete(['picket', 'replay', '--format', '=', 'nd']), ['ndjson']);
  assert.deepEqual(complete(['picket', 'capture', '--backend', '']), ['auto', 'addon', 'cap']);
  assert.deepEqual(complete(['picket', 'replay', '--sensitivity', 'h']), ['high']);
  assert.deepEqual(complete(['picket', 'replay', 'pcaps/intel-d']), ['pcaps/intel-dns.pcap']);
  assert.deepEqual(complete(['picket', 'replay', '--rules', 'rul']), ['rules']);
  assert.deepEqual(complete(['picket', 'capture', '--bpf', '']), [], 'a filter expression has nothing to complete');
  assert.deepEqual(complete(['picket', 'capture', 'pcaps/']), [], 'capture takes no files');
});
