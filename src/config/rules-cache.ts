import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import { listRuleFiles, loadRules, readRuleFile, type Rules } from './rules';

/** Cache files kept; the least recently written go first (each is the rules of one set of rule files, ~25 kB). */
const KEEP_FILES = 8;
const PREFIX = 'rules-';
const SUFFIX = '.v8';
/** Age past which a temporary file is another run's leftover, not its write in progress. */
const STRAY_MS = 10 * 60_000;

/**
 * Where parsed rules are kept between runs: $PICKET_CACHE_DIR (empty: no cache), else systemd's CacheDirectory=
 * ($CACHE_DIRECTORY), else $XDG_CACHE_HOME/picket, else ~/.cache/picket. Null when none can be named.
 */
export function rulesCacheDir(env: NodeJS.ProcessEnv = process.env): string | null {
  const own = env.PICKET_CACHE_DIR;
  if (own !== undefined) return own === '' ? null : path.resolve(own);
  const systemd = env.CACHE_DIRECTORY?.split(':')[0];
  if (systemd !== undefined && path.isAbsolute(systemd)) return systemd;
  const xdg = env.XDG_CACHE_HOME;
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'picket');
  const home = os.homedir();
  return path.isAbsolute(home) ? path.join(home, '.cache', 'picket') : null;
}

/**
 * loadRules, keeping its result between runs. Parsing the rule files is most of picket's start-up (the YAML
 * library's loading and its first, unoptimised parse: ~100 ms of a ~300 ms start on the bundled rules); a run whose
 * rule files are byte for byte those of an earlier run, read by the same build of picket, takes that run's result
 * instead (v8.serialize, the form rules already take to worker threads) and never loads the YAML library.
 *
 * The key is a SHA-256 of everything the result depends on: each rule file's path and text, in load order; picket's
 * own compiled code (every module, not only the readers: defaults and enumerations live elsewhere too), the yaml
 * library's version and V8's. An edited, added or removed file, or another build, is another key, so a stale result
 * cannot be read; an error in a file is always reported from its parse (only successful parses are kept). Each file
 * is read and each directory listed once (a rule file may be a FIFO). The cache is an optimisation only: a missing,
 * unreadable, unwritable or damaged cache means a parse, never a failure.
 */
export function loadRulesCached(dirs: string[], dir: string | null = rulesCacheDir()): Rules {
  // The key and the parse see the same listing and the same texts: a file added or edited between the two would
  // otherwise be parsed into a result kept under a key that does not name it.
  const read = once(readRuleFile);
  const list = once(listRuleFiles);
  if (dir === null) return loadRules(dirs, read, list);
  let file: string;
  try {
    const hash = createHash('sha256');
    hash.update(buildId());
    for (const d of dirs) {
      hash.update(`\0dir\0${d}`);
      for (const f of list(d)) hash.update(`\0file\0${f}\0`).update(read(f));
    }
    file = path.join(dir, `${PREFIX}${hash.digest('hex')}${SUFFIX}`);
  } catch {
    // A directory or file that cannot be read: the parse names it, as without a cache.
    return loadRules(dirs, read, list);
  }
  const cached = readCache(file);
  if (cached !== null) return cached;
  const rules = loadRules(dirs, read, list);
  writeCache(dir, file, rules);
  return rules;
}

/** fn with its answers remembered by argument (a failure is not remembered: asked again, it fails again). */
function once<T>(fn: (arg: string) => T): (arg: string) => T {
  const seen = new Map<string, T>();
  return (arg) => {
    let v = seen.get(arg);
    if (v === undefined) {
      v = fn(arg);
      seen.set(arg, v);
    }
    return v;
  };
}

function readCache(file: string): Rules | null {
  try {
    const r = v8.deserialize(fs.readFileSync(file)) as Rules;
    // A file cut short or written by something else: not rules, so parse.
    return typeof r === 'object' && r !== null && Array.isArray(r.files) && typeof r.policy === 'object' && Array.isArray(r.signatures) ? r : null;
  } catch {
    return null;
  }
}

function writeCache(dir: string, file: string, rules: Rules): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Written aside and renamed: a concurrent run reads the whole file or none.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, v8.serialize(rules), { mode: 0o600 });
    fs.renameSync(tmp, file);
    const ours = fs.readdirSync(dir).filter((n) => n.startsWith(PREFIX)).map((n) => ({ n, t: fs.statSync(path.join(dir, n)).mtimeMs }));
    const old = ours.filter(({ n }) => n.endsWith(SUFFIX)).sort((a, b) => b.t - a.t).slice(KEEP_FILES);
    // And what a run killed between write and rename left behind.
    const stray = ours.filter(({ n, t }) => n.endsWith('.tmp') && t < Date.now() - STRAY_MS);
    for (const { n } of [...old, ...stray]) fs.rmSync(path.join(dir, n), { force: true });
  } catch {
    // Not writable (a read-only home, a service user without one): every run parses, as without a cache.
  }
}

let build: string | null = null;

/** What identifies this build's rule readers: every compiled module's text, the yaml library's version, V8's. */
function buildId(): string {
  if (build !== null) return build;
  const h = createHash('sha256');
  const root = path.resolve(__dirname, '..');
  const walk = (d: string): void => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(d, ent.name);
      if (ent.isDirectory()) walk(full);
      else if (ent.name.endsWith('.js')) h.update(`\0${path.relative(root, full)}\0`).update(fs.readFileSync(full));
    }
  };
  walk(root);
  h.update(`\0yaml ${yamlVersion()}\0v8 ${process.versions.v8}`);
  build = h.digest('hex');
  return build;
}

function yamlVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve('yaml/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}
