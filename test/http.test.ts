import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { looksLikeHttpRequest, MAX_METHOD, parseHttpRequest } from '../src/app/http/http';
import { committedCaptures, get, PCAPS, picket, prng, tshark } from './helpers';

for (const file of committedCaptures().filter((f) => !f.includes('formats'))) {
  test(`HTTP requests (method, Host, path, User-Agent) equal tshark's: ${path.relative(PCAPS, file)}`, () => {
    // HTTP over TCP (tshark also shows SSDP, HTTP-shaped datagrams over UDP, which picket does not read as HTTP).
    const theirs = tshark(file, 'http.request && tcp', ['frame.number', 'http.request.method', 'http.host', 'http.request.uri', 'http.user_agent'])
      .map(([f, m, h, u, ua]) => `${f} ${m} ${h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase()} ${u} ${ua}`);
    const r = picket(['replay', '--metadata', '--quiet', file]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.http');
    const line = (d: Record<string, unknown>): string =>
      `${String(get(d, 'picket.packet'))} ${String(get(d, 'http.request.method'))} ${String(get(d, 'url.domain') ?? '')} ${String(get(d, 'url.path'))} ${String(get(d, 'user_agent.original') ?? '')}`;
    // tshark decodes a fixed list of methods; a request with another token method is plain TCP data to it. Those
    // frames are checked against their raw bytes: the head's first line is the method and path picket reported.
    const known = new Set(theirs.map((t) => t.split(' ')[0]));
    const unknown = events.filter((d) => !known.has(String(get(d, 'picket.packet'))));
    for (const d of unknown) {
      const [hex] = tshark(file, `frame.number == ${String(get(d, 'picket.packet'))}`, ['tcp.payload'])[0];
      const first = Buffer.from(hex.replace(/:/g, ''), 'hex').toString('latin1').split(/\r?\n/)[0];
      assert.equal(first, `${String(get(d, 'http.request.method'))} ${String(get(d, 'url.path'))} HTTP/1.1`, 'the raw request line');
      assert.ok(!['GET', 'POST', 'HEAD', 'PUT', 'OPTIONS', 'MKCOL', 'PROPFIND'].includes(String(get(d, 'http.request.method'))), 'tshark knows these');
    }
    assert.deepEqual(events.filter((d) => known.has(String(get(d, 'picket.packet')))).map(line), theirs);
    // Only the capture made for it has such a request (the custom method of make-http.sh).
    assert.equal(unknown.length, file.endsWith('http/heads.pcap') ? 1 : 0);
  });
}

test('pcaps/http/heads.pcap: bare-LF heads, token methods, OPTIONS *, heads in 3 segments; intel.http for the bare-LF one', () => {
  const file = path.join(PCAPS, 'http', 'heads.pcap');
  const r = picket(['replay', '--metadata', '--quiet', file]);
  assert.equal(r.code, 0, r.stderr);
  const events = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.http').map((d) => `${String(get(d, 'http.request.method'))} ${String(get(d, 'url.domain'))} ${String(get(d, 'url.path'))}`);
  assert.deepEqual(events, ['GET www.example.org /', 'OPTIONS example.net *', 'MKCOL www.example.org /dav/new/', 'PICKET-PROBE_1 ipinfo.io /custom',
    'GET api.shodan.io /lf', 'GET www.example.org /lf-benign', 'GET search.censys.io /split', 'PROPFIND example.net /dav/']);
  // The bare-LF requests are really bare LF on the wire, and the split ones really took 3 segments (tshark).
  const lf = tshark(file, 'http.request && !(tcp.payload contains 0d:0a)', ['http.host', 'http.request.uri']);
  assert.deepEqual(lf.map((x) => x.join(' ')), ['api.shodan.io /lf', 'www.example.org /lf-benign', 'example.net /dav/']);
  const split = tshark(file, 'http.request && tcp.segment.count == 3', ['http.host']);
  assert.deepEqual(split.map((x) => x[0]), ['search.censys.io', 'example.net']);
  const alerts = r.docs.filter((d) => get(d, 'rule.id') === 'intel.http');
  assert.deepEqual(alerts.map((d) => `${String(get(d, 'url.domain'))} ${String(get(d, 'url.path'))}`), ['ipinfo.io /custom', 'api.shodan.io /lf', 'search.censys.io /split']);
  assert.equal(get(alerts[1], 'picket.branch'), 'IPIntelHTTPRequest');
  assert.equal(get(alerts[1], 'user_agent.original'), 'printf-nc');
});

test('request heads: bare LF, any token method, the ":" search bounded by its line, the probe bounded', () => {
  const lf = Buffer.from('GET / HTTP/1.1\nHost: Example.ORG\nUser-Agent: x\n\nbody');
  const r = parseHttpRequest(lf, 0, lf.length);
  assert.equal(r.kind, 'request');
  if (r.kind !== 'request') return;
  assert.equal(r.request.host, 'example.org');
  assert.equal(r.request.userAgent, 'x');
  assert.equal(r.consumed, lf.length - 4);
  for (let cut = 4; cut < r.consumed; cut++) assert.equal(parseHttpRequest(lf, 0, cut).kind, 'need-more', `cut at ${cut}`);
  // Mixed line ends in one head (a proxy adding CRLF lines to a bare-LF one).
  const mixed = Buffer.from('OPTIONS * HTTP/1.1\r\nHost: a.example\nX: 1\r\n\n');
  const m = parseHttpRequest(mixed, 0, mixed.length);
  assert.ok(m.kind === 'request' && m.request.method === 'OPTIONS' && m.request.path === '*' && m.request.host === 'a.example' && m.consumed === mixed.length);
  for (const method of ['PURGE', 'M-SEARCH', 'x~y', 'UPDATEREDIRECTREF', 'BASELINE-CONTROL']) {
    const b = Buffer.from(`${method} /p HTTP/1.1\r\nHost: h.example\r\n\r\n`);
    const q = parseHttpRequest(b, 0, b.length);
    assert.ok(q.kind === 'request' && q.request.method === method, method);
    assert.ok(looksLikeHttpRequest(b, 0, method.length + 1), `${method}: the method and its space are enough`);
    assert.ok(!looksLikeHttpRequest(b, 0, method.length), `${method}: not without the space`);
  }
  // 18 token chars before the space, a separator in the token, an empty method, a control byte: not HTTP.
  for (const head of ['ABCDEFGHIJKLMNOPQR / HTTP/1.1\r\n\r\n', 'GE(T / HTTP/1.1\r\n\r\n', ' / HTTP/1.1\r\n\r\n', 'G\x01T / HTTP/1.1\r\n\r\n']) {
    const b = Buffer.from(head, 'latin1');
    assert.equal(looksLikeHttpRequest(b, 0, b.length), false, JSON.stringify(head));
    assert.equal(parseHttpRequest(b, 0, b.length).kind, 'not-http', JSON.stringify(head));
  }
  // The probe reads at most MAX_METHOD + 1 bytes: a window of 1 MB of token bytes is refused at once.
  assert.equal(looksLikeHttpRequest(Buffer.alloc(1 << 20, 0x41), 0, 1 << 20), false);
  assert.equal(MAX_METHOD, 17);
  // A header line without ':' does not take the next line's ':' (the Host after it is still its own line).
  const noColon = Buffer.from('GET / HTTP/1.1\nJunk\nHost: b.example\n\n');
  const nc = parseHttpRequest(noColon, 0, noColon.length);
  assert.ok(nc.kind === 'request' && nc.request.host === 'b.example');
  const junkHost = Buffer.from('GET / HTTP/1.1\nHost\nUser-Agent: host: c.example\n\n');
  const jh = parseHttpRequest(junkHost, 0, junkHost.length);
  assert.ok(jh.kind === 'request' && jh.request.host === '' && jh.request.userAgent === 'host: c.example');
});

test('intel.http fires on a Host under an intel domain (port stripped) and not in the benign capture', () => {
  const a = picket(['replay', '--quiet', path.join(PCAPS, 'intel-dns.pcap')]);
  const hosts = tshark(path.join(PCAPS, 'intel-dns.pcap'), 'http.request', ['http.host']).map((x) => x[0].replace(/:\d+$/, ''));
  assert.ok(hosts.includes('api.shodan.io'), 'the capture has curl http://api.shodan.io:8080/');
  const alerts = a.docs.filter((d) => get(d, 'rule.id') === 'intel.http');
  assert.deepEqual(alerts.map((d) => get(d, 'url.domain')).sort(), [...new Set(hosts)].sort());
  const sh = alerts.find((d) => get(d, 'url.domain') === 'api.shodan.io');
  assert.ok(sh !== undefined);
  assert.equal(get(sh, 'picket.intel.indicator'), 'shodan.io');
  assert.equal(get(sh, 'picket.branch'), 'IPIntelHTTPRequest');
  assert.equal(get(sh, 'destination.domain'), 'api.shodan.io');
  assert.equal(get(sh, 'threat.enrichments.0.matched.field'), 'url.domain');
  assert.match(get(sh, 'user_agent.original') as string, /^curl\//);
  const b = picket(['replay', '--quiet', path.join(PCAPS, 'benign.pcap')]);
  assert.equal(b.docs.filter((d) => get(d, 'event.kind') === 'alert').length, 0);
});

test('request heads: need-more until complete, IP-literal hosts, a head split anywhere parses the same', () => {
  const head = Buffer.from('GET /x?y=1 HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\nbody');
  const full = parseHttpRequest(head, 0, head.length);
  assert.equal(full.kind, 'request');
  if (full.kind !== 'request') return;
  assert.equal(full.request.host, '2001:db8::1');
  assert.equal(full.request.hostPort, 8080);
  assert.equal(full.request.userAgent, 't/1');
  assert.equal(full.consumed, head.length - 4);
  for (let cut = 4; cut < full.consumed; cut++) assert.equal(parseHttpRequest(head, 0, cut).kind, 'need-more', `cut at ${cut}`);
  // GETX is a token, so an (extension) method as servers take it; a bracket is not a token character.
  const getx = parseHttpRequest(Buffer.from('GETX / HTTP/1.1\r\n\r\n'), 0, 19);
  assert.ok(getx.kind === 'request' && getx.request.method === 'GETX');
  assert.equal(parseHttpRequest(Buffer.from('GET[ / HTTP/1.1\r\n\r\n'), 0, 19).kind, 'not-http');
  assert.equal(parseHttpRequest(Buffer.from('GET / SPDY/3\r\n\r\n'), 0, 16).kind, 'not-http');
  const rand = prng(3);
  for (let n = 0; n < 5000; n++) {
    const b = Buffer.from(head);
    for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const r = parseHttpRequest(b, 0, Math.floor(rand() * b.length));
    assert.ok(r.kind === 'request' || r.kind === 'need-more' || r.kind === 'not-http');
  }
});
