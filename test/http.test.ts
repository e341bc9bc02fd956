import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseHttpRequest } from '../src/app/http/http';
import { committedCaptures, get, PCAPS, picket, prng, tshark } from './helpers';

for (const file of committedCaptures().filter((f) => !f.includes('formats'))) {
  test(`HTTP requests (method, Host, path, User-Agent) equal tshark's: ${path.relative(PCAPS, file)}`, () => {
    // HTTP over TCP (tshark also shows SSDP, HTTP-shaped datagrams over UDP, which picket does not read as HTTP).
    const theirs = tshark(file, 'http.request && tcp', ['frame.number', 'http.request.method', 'http.host', 'http.request.uri', 'http.user_agent'])
      .map(([f, m, h, u, ua]) => `${f} ${m} ${h.replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase()} ${u} ${ua}`);
    const r = picket(['replay', '--metadata', '--quiet', file]);
    assert.equal(r.code, 0, r.stderr);
    const ours = r.docs.filter((d) => get(d, 'event.dataset') === 'picket.http')
      .map((d) => `${String(get(d, 'picket.packet'))} ${String(get(d, 'http.request.method'))} ${String(get(d, 'url.domain') ?? '')} ${String(get(d, 'url.path'))} ${String(get(d, 'user_agent.original') ?? '')}`);
    assert.deepEqual(ours, theirs);
  });
}

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
  assert.equal(parseHttpRequest(Buffer.from('GETX / HTTP/1.1\r\n\r\n'), 0, 19).kind, 'not-http');
  assert.equal(parseHttpRequest(Buffer.from('GET / SPDY/3\r\n\r\n'), 0, 16).kind, 'not-http');
  const rand = prng(3);
  for (let n = 0; n < 5000; n++) {
    const b = Buffer.from(head);
    for (let k = 0; k < 3; k++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    const r = parseHttpRequest(b, 0, Math.floor(rand() * b.length));
    assert.ok(r.kind === 'request' || r.kind === 'need-more' || r.kind === 'not-http');
  }
});
