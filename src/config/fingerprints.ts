import type { Node, YAMLMap } from 'yaml';
import { CONFIDENCES, PACKET_RELATIONS, parseOptionLayout, PROBE_KINDS, SOURCE_RELATIONS, type Confidence, type Fingerprint, type PacketRelation, type ProbeKind, type SourceRelation } from '../scan/fingerprint';
import { checkAllowedKeys, isMap, isScalar, isSeq, RuleFile, scalarString, stringList } from './yaml-file';

const KEYS = ['tool', 'versions', 'source', 'probe', 'ip_version', 'window', 'options', 'mss', 'df', 'ttl', 'ip_id', 'ack_nonzero', 'payload_len', 'relation',
  'source_relations', 'confidence', 'min_probes'];

/** rules/fingerprints.yaml (kind: scanner-fingerprints): the header traits that name a scanning tool. */
export function loadFingerprints(rf: RuleFile, root: YAMLMap, out: Fingerprint[]): void {
  checkAllowedKeys(rf, root, ['kind', 'description', 'fingerprints']);
  const list = root.get('fingerprints', true) as Node | undefined;
  if (!isSeq(list)) rf.fail(list ?? root, '"fingerprints" must be a list');
  for (const item of list.items as Node[]) {
    if (!isMap(item)) rf.fail(item, 'a fingerprint is a mapping (tool, probe, traits, confidence)');
    checkAllowedKeys(rf, item, KEYS);
    const tool = scalarString(rf, item, 'tool', true);
    const probe = scalarString(rf, item, 'probe', true);
    if (!(PROBE_KINDS as readonly string[]).includes(probe)) rf.fail(item.get('probe', true) as Node, `"probe" must be one of ${PROBE_KINDS.join(', ')}`);
    const traits: string[] = [];
    const int = (key: string, max: number): number | null => {
      const node = item.get(key, true) as Node | undefined;
      if (node === undefined) return null;
      const v = isScalar(node) ? Number(node.value) : NaN;
      if (!Number.isInteger(v) || v < 0 || v > max) rf.fail(node, `"${key}" must be a whole number from 0 to ${max}`);
      traits.push(`${key}=${v}`);
      return v;
    };
    const bool = (key: string): boolean | null => {
      const node = item.get(key, true) as Node | undefined;
      if (node === undefined) return null;
      if (!isScalar(node) || typeof node.value !== 'boolean') rf.fail(node, `"${key}" must be true or false`);
      traits.push(`${key}=${node.value}`);
      return node.value as boolean;
    };
    let windows: number[] | null = null;
    const wnode = item.get('window', true) as Node | undefined;
    if (wnode !== undefined) {
      windows = stringList(rf, item, 'window').map(Number);
      if (windows.some((w) => !Number.isInteger(w) || w < 0 || w > 65535)) rf.fail(wnode, '"window" must be a number from 0 to 65535, or a list of them');
      traits.push(`window=${windows.join('|')}`);
    }
    let options: Fingerprint['options'] = null;
    const onode = item.get('options', true) as Node | undefined;
    if (onode !== undefined) {
      const text = isScalar(onode) && onode.value !== null ? String(onode.value) : '';
      options = parseOptionLayout(text);
      if (options === null) rf.fail(onode, '"options" is the TCP option layout in letters (M mss, N nop, W wscale, S sack-permitted, T timestamps, E end), at most 8, "" for none');
      traits.push(`options=${text === '' ? 'none' : text}`);
    }
    let ttlMin = 0;
    let ttlMax = 255;
    const tnode = item.get('ttl', true) as Node | undefined;
    if (tnode !== undefined) {
      const m = isScalar(tnode) ? /^(\d+)(?:-(\d+))?$/.exec(String(tnode.value)) : null;
      if (m === null) rf.fail(tnode, '"ttl" must be a number or a range such as 200-255 (as observed, after hops)');
      ttlMin = Number(m[1]);
      ttlMax = Number(m[2] ?? m[1]);
      if (ttlMin > ttlMax || ttlMax > 255) rf.fail(tnode, '"ttl" range must be within 0-255, low to high');
      traits.push(`ttl=${ttlMin}-${ttlMax}`);
    }
    const relation = scalarString(rf, item, 'relation', false);
    if (relation !== '' && !(PACKET_RELATIONS as readonly string[]).includes(relation)) rf.fail(item.get('relation', true) as Node, `"relation" must be one of ${PACKET_RELATIONS.join(', ')}`);
    if (relation !== '') traits.push(`relation=${relation}`);
    const sourceRelations = stringList(rf, item, 'source_relations');
    for (const r of sourceRelations) if (!(SOURCE_RELATIONS as readonly string[]).includes(r)) rf.fail(item.get('source_relations', true) as Node, `"${r}" is not a source relation (${SOURCE_RELATIONS.join(', ')})`);
    const confidence = scalarString(rf, item, 'confidence', true);
    if (!(CONFIDENCES as readonly string[]).includes(confidence)) rf.fail(item.get('confidence', true) as Node, `"confidence" must be one of ${CONFIDENCES.join(', ')}`);
    const mp = item.get('min_probes', true) as Node | undefined;
    // Two even for high: a spoofed flood (hping3 --rand-source) is one probe from each of millions of addresses,
    // and naming each of them was two alerts a packet (bench/RESULTS.md, "Spoofed floods").
    const minProbes = mp === undefined ? (confidence === 'high' ? 2 : 3) : Number(isScalar(mp) ? mp.value : NaN);
    if (!Number.isInteger(minProbes) || minProbes < 1) rf.fail(mp ?? item, '"min_probes" must be a positive whole number');
    const ipVersion = int('ip_version', 6);
    if (ipVersion !== null && ipVersion !== 4 && ipVersion !== 6) rf.fail(item.get('ip_version', true) as Node, '"ip_version" must be 4 or 6');
    const fp: Fingerprint = {
      tool, versions: scalarString(rf, item, 'versions', false), probe: probe as ProbeKind, ipVersion, windows, options,
      mss: int('mss', 65535), df: bool('df'), ttlMin, ttlMax, ipId: int('ip_id', 65535), ackNonZero: bool('ack_nonzero'),
      payloadLen: int('payload_len', 65535), relation: relation === '' ? null : (relation as PacketRelation),
      sourceRelations: sourceRelations as SourceRelation[], confidence: confidence as Confidence, minProbes, traits, file: rf.file, line: rf.line(item),
    };
    if (fp.windows === null && fp.options === null && fp.ipId === null && fp.relation === null && fp.payloadLen === null && fp.sourceRelations.length === 0) {
      rf.fail(item, 'a fingerprint needs at least one of window, options, ip_id, payload_len, relation or source_relations: TTL and DF alone match ordinary stacks');
    }
    out.push(fp);
  }
}
