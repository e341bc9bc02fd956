import type { FileReport } from '../capture/file';
import { DECODE_EVENT_NAMES, isDecodeError, withFileEvents } from '../decode/events';
import { LINKTYPE_NAMES } from '../decode/decode';
import type { EngineStats } from '../core/observation';
import { PicketError } from '../errors';
import { wrap } from './option-table';
import type { Analysis, ScannerRow } from '../report/aggregate';

function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return `${Math.round(n)} `;
}

/** The human summary printed on stderr at the end of a replay. */
export function formatSummary(
  stats: EngineStats, files: FileReport[], skipped: string[], seconds: number, alerts: Map<string, number>, allowlisted: Map<string, number>, workers: number,
): string {
  const lines: string[] = [];
  const pps = seconds > 0 ? stats.packets / seconds : 0;
  const bps = seconds > 0 ? (stats.bytes * 8) / seconds : 0;
  lines.push(`picket: ${files.length} file${files.length === 1 ? '' : 's'}, ${stats.packets} packets, ${stats.bytes} bytes in ${seconds.toFixed(3)} s ` +
    `(${si(pps)}packets/s, ${si(bps)}bit/s, ${workers === 0 ? 'inline' : `${workers} workers`})`);
  for (const f of files) {
    const lt = f.linktypes.map((t) => LINKTYPE_NAMES[t] ?? `linktype ${t}`).join('+');
    let line = `  ${f.path}: ${f.format}${f.compressed ? ', gzip' : ''}, ${lt || 'no interfaces'}, ${f.packets} packets`;
    if (f.truncated) line += '; the file is cut short inside a record (the whole records before it were read)';
    if (f.error !== null) line += `; stopped early at ${f.error}`;
    if (f.damage !== null) line += `; damaged: ${f.damage}`;
    const notes = Object.entries(f.notes).map(([k, v]) => `${k}=${v}`).join(' ');
    if (notes !== '') line += `; ${notes}`;
    lines.push(line);
  }
  for (const s of skipped) lines.push(`  ${s}: not a capture, passed over`);
  let errors = 0;
  const errs: string[] = [];
  const infos: string[] = [];
  withFileEvents(stats.decode, files).forEach((n, code) => {
    if (n === 0) return;
    if (isDecodeError(code)) {
      errors += n;
      errs.push(`${DECODE_EVENT_NAMES[code]}=${n}`);
    } else {
      infos.push(`${DECODE_EVENT_NAMES[code]}=${n}`);
    }
  });
  lines.push(`  decode errors: ${errors}${errs.length > 0 ? ` (${errs.join(' ')})` : ''}`);
  if (infos.length > 0) lines.push(`  decode notes: ${infos.join(' ')}`);
  lines.push(`  ${Object.entries(stats.app).map(([proto, c]) => `${proto}: ${Object.entries(c).map(([name, n]) => `${n} ${name.replace(/_/g, ' ')}`).join(', ')}`).join('; ')}`);
  const a = [...alerts.entries()].sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const total = a.reduce((s, [, n]) => s + n, 0);
  lines.push(`  alerts: ${total}${a.length > 0 ? ` (${a.map(([k, n]) => `${k}=${n}`).join(' ')})` : ''}`);
  if (allowlisted.size > 0) lines.push(`  allowlisted (counted, not alerted): ${[...allowlisted.entries()].sort().map(([k, n]) => `${k}=${n}`).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** The summary's tables fit a terminal this many columns wide. */
export const SUMMARY_WIDTH = 100;

export type SummaryLevel = 'none' | 'brief' | 'full';
export const SUMMARY_LEVELS = ['none', 'brief', 'full'] as const;

/**
 * --summary's default: full when stderr is a terminal (a person reads it at the end of a run), brief when it is
 * redirected (a log file, CI or a script: the same few lines as before the tables existed, stable to grep).
 */
export function summaryLevel(flag: string | undefined, quiet: boolean, stderrIsTTY: boolean): SummaryLevel {
  if (flag !== undefined) {
    if (!(SUMMARY_LEVELS as readonly string[]).includes(flag)) throw new PicketError(`--summary must be none, brief or full, not "${flag}"`);
    return flag as SummaryLevel;
  }
  if (quiet) return 'none';
  return stderrIsTTY ? 'full' : 'brief';
}

/** Colour only on a terminal, and never when NO_COLOR is set to anything (https://no-color.org). */
export function useColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

interface Style {
  head(s: string): string;
  sev(score: number, s: string): string;
}

const PLAIN: Style = { head: (s) => s, sev: (_n, s) => s };
const ANSI: Style = {
  head: (s) => `\x1b[1m${s}\x1b[0m`,
  sev: (n, s) => (n >= 73 ? `\x1b[31m${s}\x1b[0m` : n >= 47 ? `\x1b[33m${s}\x1b[0m` : s),
};

const SEVERITY_NAMES: Array<[number, string]> = [[99, 'crit'], [73, 'high'], [47, 'med'], [21, 'low']];
function sevName(n: number): string {
  return SEVERITY_NAMES.find(([s]) => n >= s)?.[1] ?? '-';
}

/** "2026-11-23T14:23:36.938Z" -> "14:23:36" on the day the table starts, "11-24 14:23:36" on another. */
function shortTime(iso: string, day: string): string {
  if (iso.length < 19) return iso;
  return iso.slice(0, 10) === day ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 19)}`;
}

function span(first: string, last: string): string {
  const s = (Date.parse(last) - Date.parse(first)) / 1000;
  if (!Number.isFinite(s)) return '';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} m`;
  return `${(s / 3600).toFixed(1)} h`;
}

function cut(s: string, w: number): string {
  return s.length <= w ? s : `${s.slice(0, Math.max(0, w - 1))}…`;
}

/**
 * Rows under a header in at most `width` columns: numeric columns keep their width, the widest text column gives
 * way (cut with an ellipsis) until the row fits.
 */
/** Cells aligned right: counts, outcome counts (1/2/0/3) and durations (4.3 s). */
const NUMERIC = /^\d+$|^[\d/]+$|^[\d.]+ [smh]$/;

export function table(header: string[], rows: string[][], fixed: boolean[], width: number, style: Style = PLAIN, sevCol = -1, sevScores: number[] = []): { lines: string[]; widths: number[] } {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const total = (): number => w.reduce((a, b) => a + b, 0) + 2 * (w.length - 1) + 2;
  while (total() > width) {
    let widest = -1;
    w.forEach((x, i) => {
      if (!fixed[i] && x > header[i].length && (widest < 0 || x > w[widest])) widest = i;
    });
    if (widest < 0) break;
    w[widest]--;
  }
  const line = (cells: string[], r: number): string => `  ${cells.map((c, i) => {
    const t = cut(c, w[i]);
    const padded = NUMERIC.test(c) ? t.padStart(w[i]) : t.padEnd(w[i]);
    return i === sevCol && r >= 0 ? style.sev(sevScores[r], padded) : padded;
  }).join('  ').trimEnd()}`;
  return { lines: [style.head(line(header, -1)), ...rows.map((r, i) => line(r, i))], widths: w };
}

/** Rows shown per table; the rest are counted on a line of their own. */
export const SUMMARY_ROWS = 40;

/** A heading and text over lines of at most width columns, continuation lines indented. */
function wrapped(head: string, text: string, width: number, st: Style): string[] {
  const lines = wrap(`${head} ${text}`, width - 4);
  return [`${st.head(head)}${(lines[0] ?? '').slice(head.length)}`, ...lines.slice(1).map((l) => `    ${l}`)];
}

const short = (kinds: string[]): string => kinds.map((k) => k.replace(/^(scan|intel|probe|dns)\./, '')).join(',');

/** --summary full: the tables of scanners, intel lookups, research scanners and health, from the run's documents. */
export function formatAnalysis(a: Analysis, width: number, colour: boolean): string {
  const st = colour ? ANSI : PLAIN;
  const out: string[] = [];
  const normal = a.scanners.filter((s) => !s.research);
  const research = a.scanners.filter((s) => s.research);
  const day = (a.first ?? '').slice(0, 10);
  const scannerRows = (all: ScannerRow[]): string[] => {
    const list = all.slice(0, SUMMARY_ROWS);
    const rows = list.map((s) => [
      s.source, s.tool === '' ? '-' : `${s.tool}${s.confidence !== '' ? ` (${s.confidence})` : ''}`, String(s.hosts), String(s.ports),
      `${s.outcomes.answered ?? 0}/${s.outcomes.half_open ?? 0}/${s.outcomes.rejected ?? 0}/${s.outcomes.unreachable ?? 0}/${s.outcomes.unanswered ?? 0}`,
      shortTime(s.first, day), span(s.first, s.last), sevName(s.severity), short(s.kinds),
    ]);
    const { lines, widths } = table(['source', 'tool', 'hosts', 'ports', 'ans/half/rst/unr/none', 'first', 'for', 'sev', 'kinds'], rows,
      [true, false, true, true, true, true, true, true, false], width, st, 7, list.map((s) => s.severity));
    // Tools and kinds that do not fit, answered services and severity reasons go under their row: long, and only some rows have them.
    const withNotes: string[] = [lines[0]];
    list.forEach((s, i) => {
      withNotes.push(lines[i + 1]);
      if (rows[i][1].length > widths[1]) withNotes.push(cut(`      tools: ${rows[i][1]}`, width));
      if (rows[i][8].length > widths[8]) withNotes.push(cut(`      kinds: ${rows[i][8]}`, width));
      if (s.learned.length > 0) withNotes.push(cut(`      answered: ${s.learned.join(' ')}`, width));
      if (s.severityReasons.length > 0) withNotes.push(cut(`      severity: ${s.severityReasons.join('; ')}`, width));
    });
    if (all.length > list.length) withNotes.push(`  ... and ${all.length - list.length} more`);
    return withNotes;
  };
  if (a.first !== null && a.last !== null) out.push(`alerts from ${a.first.slice(0, 19).replace('T', ' ')} to ${a.last.slice(0, 19).replace('T', ' ')} UTC (times below: ${day} unless dated)`);
  out.push(st.head(`scanners: ${normal.length}`));
  if (normal.length > 0) out.push(...scannerRows(normal));
  if (research.length > 0) {
    out.push(st.head(`research scanners: ${research.length}`));
    out.push(...scannerRows(research));
  }
  const distributed = a.incidents.filter((i) => i.kinds.includes('scan.distributed'));
  if (distributed.length > 0) out.push(`distributed scans: ${distributed.map((d) => `${d.id.split('/')[1]} (${d.docs} alerts${d.tool !== '' ? `, ${d.tool}` : ''})`).join(', ')}`);
  out.push(st.head(`intel lookups: ${a.lookups.length} client${a.lookups.length === 1 ? '' : 's'}`));
  if (a.lookups.length > 0) {
    const shown = a.lookups.slice(0, SUMMARY_ROWS);
    out.push(...table(['client', 'services', 'domains', 'protocols', 'count', 'first', 'last'],
      shown.map((l) => [l.client, l.services.join(','), l.indicators.join(','), l.protocols.join(','), String(l.count), shortTime(l.first, day), shortTime(l.last, day)]),
      [false, false, false, false, true, true, true], width, st).lines);
    if (a.lookups.length > shown.length) out.push(`  ... and ${a.lookups.length - shown.length} more`);
  }
  const other = Object.entries(a.byRule).filter(([k]) => k.startsWith('probe.') || k.startsWith('dns.')).sort();
  if (other.length > 0) out.push(...wrapped('probes and DNS recon:', other.map(([k, n]) => `${k}=${n}`).join(' '), width, st));
  const h = a.health;
  if (h !== null) {
    const errs = Object.entries(h.decode).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ');
    out.push(...wrapped('health:', `${h.packets} packets, ${h.decodeErrors} decode errors${errs !== '' ? ` (decode events: ${errs})` : ''}`, width, st));
    out.push(`  files cut short ${h.filesTruncated}, damaged ${h.filesDamaged}; scan sources evicted ${h.scanSourcesEvicted}, streams evicted ${h.streamsEvicted}`);
    for (const [iface, c] of Object.entries(h.capture)) out.push(`  ${iface}: ${Object.entries(c).map(([k, n]) => `${k.replace(/_/g, ' ')} ${n}`).join(', ')}`);
  }
  const over = Object.entries(a.overflow);
  if (over.length > 0) out.push(`  not tabled (table full): ${over.map(([k, n]) => `${k}=${n}`).join(' ')}`);
  return `${out.join('\n')}\n`;
}
