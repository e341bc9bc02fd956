import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { looksLikeSshBanner, parseSshBanner } from '../src/app/ssh/ssh';
import { get, PCAPS, picket, prng, tshark, withoutEventId } from './helpers';

const DIR = path.join(PCAPS, 'ssh');

interface Truth {
  files: Record<string, { benign: boolean; expect: Array<{ rule: string; tool: string }> }>;
}
const truth = JSON.parse(fs.readFileSync(path.join(DIR, 'truth.json'), 'utf8')) as Truth;
const files = Object.keys(truth.files).sort();

/** Banners as tshark decodes them: "client|<banner>" or "server|<banner>", sorted (one per banner sent). */
function tsharkBanners(file: string): string[] {
  return tshark(file, 'ssh.protocol', ['tcp.dstport', 'ssh.protocol'])
    .map(([dport, banner]) => `${dport === '22' ? 'client' : 'server'}|${banner}`)
    .sort();
}

test('pcaps/ssh: every capture named in truth.json is there (made by pcaps/make-ssh.sh with real tools)', () => {
  assert.ok(files.length >= 10);
  for (const f of files) assert.ok(fs.existsSync(path.join(DIR, f)), f);
});

for (const f of files) {
  test(`ssh ${f}: banners of both sides equal tshark's; alerts as truth.json expects, with the banner`, () => {
    const file = path.join(DIR, f);
    const r = picket(['replay', '--metadata', file]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.ssh');
    const seen = events.map((d) => {
      const from = String(get(d, 'picket.ssh.from'));
      assert.equal(get(d, 'network.protocol'), 'ssh');
      assert.equal(get(d, 'destination.port'), 22, 'the client is the source of every event, as in ECS');
      return `${from}|${String(get(d, `picket.ssh.${from}.banner`))}`;
    }).sort();
    const expected = tsharkBanners(file);
    assert.deepEqual(seen, expected);

    const alerts = r.docs.filter((d) => get(d, 'event.kind') === 'alert');
    const want = truth.files[f].expect.map((e) => `${e.rule}|${e.tool}`).sort();
    assert.deepEqual([...new Set(alerts.map((d) => `${String(get(d, 'rule.id'))}|${String(get(d, 'threat.software.name'))}`))].sort(), want);
    if (truth.files[f].benign) assert.equal(alerts.length, 0);
    const clientBanners = new Set(expected.filter((b) => b.startsWith('client|')).map((b) => b.slice(7)));
    for (const a of alerts) {
      assert.equal(get(a, 'network.protocol'), 'ssh');
      assert.ok(clientBanners.has(String(get(a, 'picket.ssh.client.banner'))), 'the alert names the banner that matched');
    }
  });
}

test('ssh: the whole directory gives the same documents with 2 workers as inline', () => {
  const strip = (docs: Array<Record<string, unknown>>): string[] => docs.filter((d) => get(d, 'event.kind') !== 'metric').map((d) => JSON.stringify(withoutEventId(d)));
  const inline = picket(['replay', '--metadata', DIR]);
  const sharded = picket(['replay', '--metadata', '--workers', '2', DIR]);
  assert.equal(inline.code, 0);
  assert.ok(strip(inline.docs).length > 30);
  assert.deepEqual(strip(sharded.docs), strip(inline.docs));
});

test('parseSshBanner: RFC 4253 4.2 lines, CRLF or LF, comments; bounds and hostile bytes', () => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  const ok = parseSshBanner(b('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\nxx'), 0, 44);
  assert.equal(ok.kind, 'banner');
  if (ok.kind === 'banner') assert.deepEqual(ok.banner, { banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10', protoVersion: '2.0', software: 'OpenSSH_9.2p1', comments: 'Debian-2+deb12u10' });
  const lf = parseSshBanner(b('SSH-1.5-NmapNSE_1.0\n'), 0, 20);
  assert.equal(lf.kind === 'banner' && lf.banner.software, 'NmapNSE_1.0');
  assert.equal(parseSshBanner(b('SSH-2.0-abc'), 0, 11).kind, 'need-more');
  assert.equal(parseSshBanner(b('SSH-2.0-' + 'a'.repeat(300)), 0, 308).kind, 'not-ssh', 'no line end within 255 bytes');
  assert.equal(parseSshBanner(b('SSH-2.0-a\x00b\r\n'), 0, 13).kind, 'not-ssh', 'not printable');
  assert.equal(parseSshBanner(b('SSH-20\r\n'), 0, 8).kind, 'not-ssh', 'no software version');
  assert.equal(parseSshBanner(b('GET / HTTP/1.1\r\n'), 0, 16).kind, 'not-ssh');
  assert.ok(looksLikeSshBanner(b('SS'), 0, 2));
  assert.ok(!looksLikeSshBanner(b('SX'), 0, 2));
  const rnd = prng(7);
  for (let i = 0; i < 20000; i++) {
    const n = Math.floor(rnd() * 300);
    const buf = Buffer.alloc(n + 4);
    buf.write('SSH-', 0, 'latin1');
    for (let j = 4; j < buf.length; j++) buf[j] = rnd() < 0.9 ? 0x20 + Math.floor(rnd() * 95) : Math.floor(rnd() * 256);
    const end = Math.floor(rnd() * (buf.length + 1));
    const r = parseSshBanner(buf, 0, end);
    assert.ok(r.kind === 'banner' || r.kind === 'need-more' || r.kind === 'not-ssh');
  }
});
