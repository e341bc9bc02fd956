import type { Node, YAMLMap } from 'yaml';
import { ANALYZERS } from '../app/registry';
import type { Signature } from '../recon/signatures';

/** What a signature may match: a flow direction's first bytes, or a field that an analyzer offers. */
const SIGNATURE_FIELDS = ['payload', ...ANALYZERS.flatMap((a) => a.signatureFields ?? [])];
import { checkAllowedKeys, isMap, isScalar, isSeq, numberAt, RuleFile, scalarString, stringList } from './yaml-file';

const KEYS = ['id', 'rule', 'tool', 'description', 'technique', 'where', 'direction', 'ports', 'depth', 'contains', 'hex', 'utf16', 'prefix', 'regex', 'nocase'];
const RULE_RE = /^probe\.[a-z0-9_]+$/;
const DEFAULT_DEPTH = 4096;

/** rules/signatures.yaml (kind: probe-signatures): what scanners' requests say about them. */
export function loadSignatures(rf: RuleFile, root: YAMLMap, out: Signature[], policy: { repeatWindow: number }): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'repeat_window', 'signatures']);
  policy.repeatWindow = numberAt(rf, root, 'repeat_window', 'duration') ?? policy.repeatWindow;
  const list = root.get('signatures', true) as Node | undefined;
  if (!isSeq(list)) rf.fail(list ?? root, '"signatures" must be a list');
  for (const item of list.items as Node[]) {
    if (!isMap(item)) rf.fail(item, 'a signature is a mapping (id, rule, tool, where, what to match)');
    checkAllowedKeys(rf, item, KEYS);
    const at = (k: string): Node => (item.get(k, true) as Node | undefined) ?? item;
    const rule = scalarString(rf, item, 'rule', true);
    if (!RULE_RE.test(rule)) rf.fail(at('rule'), '"rule" must be a probe.* rule id such as probe.nmap_http');
    const where = scalarString(rf, item, 'where', true);
    if (!(SIGNATURE_FIELDS as readonly string[]).includes(where)) rf.fail(at('where'), `"where" must be one of ${SIGNATURE_FIELDS.join(', ')}`);
    const direction = scalarString(rf, item, 'direction', false) || 'client';
    if (direction !== 'client' && direction !== 'server') rf.fail(at('direction'), '"direction" must be client or server');
    const ports = stringList(rf, item, 'ports').map(Number);
    if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) rf.fail(at('ports'), '"ports" must be port numbers');
    if (where === 'payload' && ports.length === 0) rf.fail(item, 'a payload signature needs "ports": it is looked for only in flows to or from them');
    const nocase = item.get('nocase') === true;
    const needles: Buffer[] = [];
    const texts: string[] = [];
    for (const t of stringList(rf, item, 'contains')) {
      needles.push(Buffer.from(t, 'latin1'));
      texts.push(nocase ? t.toLowerCase() : t);
    }
    for (const h of stringList(rf, item, 'hex')) {
      const clean = h.replace(/\s+/g, '');
      if (!/^([0-9a-fA-F]{2})+$/.test(clean)) rf.fail(at('hex'), `"${h}" is not hex bytes`);
      needles.push(Buffer.from(clean, 'hex'));
    }
    for (const u of stringList(rf, item, 'utf16')) needles.push(Buffer.from(u, 'utf16le'));
    if (where !== 'payload' && needles.length !== texts.length) rf.fail(item, 'hex and utf16 are for payload signatures; fields (HTTP, SSH) match text (contains, prefix, regex)');
    const prefix = scalarString(rf, item, 'prefix', false);
    if (where === 'payload' && prefix !== '') rf.fail(at('prefix'), '"prefix" is for fields (HTTP, SSH); a payload signature uses contains, hex or utf16');
    const re = scalarString(rf, item, 'regex', false);
    let regex: RegExp | null = null;
    if (re !== '') {
      try {
        regex = new RegExp(re, nocase ? 'i' : '');
      } catch (e) {
        rf.fail(at('regex'), `"regex" does not compile: ${(e as Error).message}`);
      }
    }
    if (needles.length === 0 && prefix === '' && regex === null) rf.fail(item, 'a signature needs something to match: contains, hex, utf16, prefix or regex');
    const depthNode = item.get('depth', true) as Node | undefined;
    const depth = depthNode === undefined ? DEFAULT_DEPTH : Number(isScalar(depthNode) ? depthNode.value : NaN);
    if (!Number.isInteger(depth) || depth < 1 || depth > 65536) rf.fail(depthNode ?? item, '"depth" must be a number of bytes from 1 to 65536');
    out.push({
      id: scalarString(rf, item, 'id', true), rule, tool: scalarString(rf, item, 'tool', true), description: scalarString(rf, item, 'description', false),
      technique: scalarString(rf, item, 'technique', false) || 'T1595.002', where, direction, ports: ports.length > 0 ? new Set(ports) : null,
      depth, needles, texts, prefix: prefix === '' ? null : nocase ? prefix.toLowerCase() : prefix, regex, nocase, file: rf.file, line: rf.line(item),
    });
  }
}
