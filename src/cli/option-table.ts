/** How a shell completes a flag's value. */
export type ValueCompletion = 'file' | 'dir' | 'interface' | 'none' | readonly string[];

/**
 * One flag of a command. The parseArgs part (type, short, multiple, default) is the CLI's public contract; the
 * rest is what --help, the man page and the bash completion say about it, so none of them can list a flag the
 * parser does not know or miss one it does.
 */
export interface OptionRow {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** parseArgs's default: the value when the flag is absent. */
  readonly default?: string | boolean | string[];
  /** The default as help states it, where the real one is settled later (picket.yaml, a module's constant). */
  readonly shown?: string;
  /** The value's name in help (FILE, N); string flags only. */
  readonly value?: string;
  /** One line: what the flag does. */
  readonly help: string;
  /** The help section the flag is listed under (flags of one section stay together in the table). */
  readonly group?: string;
  /** Strings only; file when not given. */
  readonly complete?: ValueCompletion;
}

export type OptionTable = Readonly<Record<string, OptionRow>>;

/** A command as its help, the man page and the completion describe it. */
export interface CommandSpec {
  readonly name: string;
  /** Full usage line, without "Usage: ". */
  readonly usage: string;
  /** Short form for the list of commands in picket --help. */
  readonly synopsis: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** Paragraphs of the help text and the man page's COMMANDS entry. */
  readonly description: readonly string[];
  readonly options: OptionTable;
  /** What positional arguments complete to: capture files, or nothing. */
  readonly positionals: 'file' | 'none';
  /** Paragraphs after the options in --help. */
  readonly footer?: readonly string[];
}

type ParseArgsKeys = 'type' | 'short' | 'multiple' | 'default';
/** The parser's view of a table, with the literal types kept so that parseArgs types its values exactly. */
export type ParseArgsOptionsOf<T extends OptionTable> = { -readonly [K in keyof T]: Pick<T[K], Extract<keyof T[K], ParseArgsKeys>> };

/** The parseArgs options object of a table: the table's parser columns and nothing else. */
export function parseArgsOptions<T extends OptionTable>(table: T): ParseArgsOptionsOf<T> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, row] of Object.entries(table)) {
    const o: Record<string, unknown> = { type: row.type };
    if (row.short !== undefined) o.short = row.short;
    if (row.multiple !== undefined) o.multiple = row.multiple;
    // Arrays are copied so that a parse can never change the table's default.
    if (row.default !== undefined) o.default = Array.isArray(row.default) ? [...row.default] : row.default;
    out[name] = o;
  }
  return out as ParseArgsOptionsOf<T>;
}

/** "-i, --interface IFACE" */
export function flagLabel(name: string, row: OptionRow): string {
  const long = `--${name}${row.type === 'string' ? ` ${row.value ?? 'VALUE'}` : ''}`;
  return row.short !== undefined ? `-${row.short}, ${long}` : long;
}

/** The default as help and the man page state it, or undefined when there is none worth saying. */
export function shownDefault(row: OptionRow): string | undefined {
  if (row.shown !== undefined) return row.shown;
  return typeof row.default === 'string' ? row.default : undefined;
}

/** The flag's one-line description with its default and repeatability. */
export function describe(row: OptionRow): string {
  const d = shownDefault(row);
  return `${row.help}${d !== undefined ? ` (default: ${d})` : ''}`;
}

/** Words of text in lines of at most width columns (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}

const HELP_WIDTH = 112;
/** Labels longer than this push their description to the next line instead of widening every row. */
const MAX_LABEL = 28;

/** The options part of --help: each flag on a line of its own, under its group's heading. */
export function optionsHelp(table: OptionTable): string {
  const rows = Object.entries(table);
  const labels = rows.map(([name, row]) => flagLabel(name, row));
  const col = 2 + Math.min(MAX_LABEL, Math.max(...labels.map((l) => l.length))) + 2;
  const out: string[] = [];
  let group: string | undefined;
  rows.forEach(([, row], i) => {
    const g = row.group ?? 'Options';
    if (g !== group) {
      out.push(`${g}:`);
      group = g;
    }
    const label = `  ${labels[i]}`;
    const text = wrap(describe(row), HELP_WIDTH - col);
    if (label.length + 2 > col) {
      out.push(label);
      for (const t of text) out.push(`${' '.repeat(col)}${t}`);
    } else {
      out.push(`${label.padEnd(col)}${text[0] ?? ''}`);
      for (const t of text.slice(1)) out.push(`${' '.repeat(col)}${t}`);
    }
  });
  return out.join('\n');
}

/** A command's whole --help text. */
export function commandHelp(cmd: CommandSpec): string {
  const parts = [`Usage: ${cmd.usage}`, ...cmd.description.map((p) => wrap(p, HELP_WIDTH).join('\n')), optionsHelp(cmd.options)];
  for (const p of cmd.footer ?? []) parts.push(wrap(p, HELP_WIDTH).join('\n'));
  return `${parts.join('\n\n')}\n`;
}
