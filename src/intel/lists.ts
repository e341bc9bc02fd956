import { isIP } from 'node:net';
import { PicketError } from '../errors';
import { normaliseDomain, type IntelEntry } from './domains';

/** What a list without its own metadata gives each entry. */
export interface ListDefaults {
  category: string;
  severity: IntelEntry['severity'];
  confidence: IntelEntry['confidence'];
  technique: string;
}

export const USER_LIST_DEFAULTS: ListDefaults = { category: 'user-list', severity: 'medium', confidence: 'medium', technique: 'T1590.005' };

/** A DNS name in lower case: labels of letters, digits, '-' and '_' (service labels), 253 bytes at most. */
export const DOMAIN_RE = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

/** A domain, an address or a CIDR as an entry; null when the text is none of these. */
export function indicatorEntry(text: string, file: string, line: number, d: ListDefaults, description: string): IntelEntry | null {
  let type: IntelEntry['type'] = 'domain';
  let indicator = text;
  // Addresses hold a digit or a colon at the end; most lines are names and skip the costly address parse.
  const last = text.charCodeAt(text.length - 1);
  if ((last >= 0x30 && last <= 0x39) || text.includes(':')) {
    const slash = text.indexOf('/');
    if (slash > 0 && isIP(text.slice(0, slash)) !== 0 && /^\d{1,3}$/.test(text.slice(slash + 1))) type = 'subnet';
    else if (isIP(text) !== 0) type = 'addr';
  }
  if (type === 'domain') {
    indicator = normaliseDomain(text);
    if (!DOMAIN_RE.test(indicator)) return null;
  }
  return {
    indicator, type, category: d.category, severity: d.severity, confidence: d.confidence, technique: d.technique, description, source: file, line,
  };
}

/** A plain list: one domain, address or CIDR a line; '#' starts a comment. */
export function loadPlainList(file: string, text: string, out: IntelEntry[]): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const e = indicatorEntry(line, file, i + 1, USER_LIST_DEFAULTS, '');
    if (e === null) throw new PicketError(`${file}:${i + 1}: "${line}" is not a domain, an address or a CIDR`);
    out.push(e);
  });
}

/** Whether a file is Zeek intel (its first directive line is #fields). */
export function isZeekIntel(text: string): boolean {
  for (const line of text.split(/\r?\n/, 20)) {
    if (line.startsWith('#fields')) return true;
    if (line.trim() !== '' && !line.startsWith('#')) return false;
  }
  return false;
}

const ZEEK_TYPES: Record<string, boolean> = { 'Intel::DOMAIN': true, 'Intel::ADDR': true, 'Intel::SUBNET': true };

/**
 * Zeek intel framework TSV, as Zeek reads it: a `#fields indicator indicator_type meta.source ...` header, tab
 * separated, `-` for empty. DOMAIN, ADDR and SUBNET rows are loaded (a domain matches its subdomains here, as
 * in the rest of picket, unlike Zeek's exact DOMAIN match); other types (URL, EMAIL, FILE_HASH, ...) are
 * counted in `skipped` and left out, since picket sees no such fields.
 */
export function loadZeekIntel(file: string, text: string, out: IntelEntry[]): { skipped: number } {
  let fields: string[] | null = null;
  let skipped = 0;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const at = `${file}:${i + 1}`;
    if (line.startsWith('#fields')) {
      fields = line.split('\t').slice(1);
      if (!fields.includes('indicator') || !fields.includes('indicator_type')) throw new PicketError(`${at}: #fields needs indicator and indicator_type`);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    if (fields === null) throw new PicketError(`${at}: a Zeek intel row before the #fields line`);
    const cols = line.split('\t');
    if (cols.length !== fields.length) throw new PicketError(`${at}: ${cols.length} columns where #fields names ${fields.length} (columns are tab-separated)`);
    const col = (name: string): string => {
      const k = fields === null ? -1 : fields.indexOf(name);
      return k < 0 || cols[k] === '-' ? '' : cols[k];
    };
    const type = col('indicator_type');
    if (ZEEK_TYPES[type] !== true) {
      skipped++;
      continue;
    }
    const source = col('meta.source');
    const desc = [col('meta.desc'), source !== '' ? `source: ${source}` : ''].filter((x) => x !== '').join('; ');
    const e = indicatorEntry(col('indicator'), file, i + 1, { ...USER_LIST_DEFAULTS, category: source !== '' ? source : 'zeek-intel' }, desc);
    const want = type === 'Intel::DOMAIN' ? 'domain' : type === 'Intel::ADDR' ? 'addr' : 'subnet';
    if (e === null || e.type !== want) throw new PicketError(`${at}: "${col('indicator')}" is not a valid ${type} indicator`);
    out.push(e);
  }
  return { skipped };
}
