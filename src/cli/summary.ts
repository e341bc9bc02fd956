import type { FileReport } from '../capture/file';
import { DECODE_EVENT_NAMES, isDecodeError, withFileEvents } from '../decode/events';
import { LINKTYPE_NAMES } from '../decode/decode';
import type { EngineStats } from '../core/observation';

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
