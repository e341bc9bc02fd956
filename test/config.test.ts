import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadConfigFile } from '../src/config/config-file';
import { get, PCAPS, picket, ROOT, tmpDir } from './helpers';

test('picket.example.yaml is a valid config that sets every section', () => {
  const c = loadConfigFile(path.join(ROOT, 'picket.example.yaml'));
  assert.equal(c.sensitivity, 'medium');
  assert.deepEqual(c.capture?.interfaces, ['eth1']);
  assert.equal(c.capture?.bufferMb, 256);
  assert.equal(c.metricsListen, '127.0.0.1:9464');
  assert.equal(c.writePcap?.files, 16);
  assert.deepEqual(c.outputs?.map((o) => o.type), ['file', 'syslog', 'http', 'nats']);
  assert.equal(c.statsInterval, 60);
  // The TLS and credential keys, paths as given (absolute) or relative to the file.
  const http = c.outputs?.[2];
  assert.ok(http?.type === 'http');
  assert.deepEqual(http.tls, { ca: '/etc/picket/elasticsearch-ca.pem', cert: '/etc/picket/sensor.pem', key: '/etc/picket/sensor.key' });
  assert.deepEqual(http.auth, { apiKeyFile: '/etc/picket/elasticsearch-api-key' });
  assert.equal(http.gzip, true);
  const nats = c.outputs?.[3];
  assert.ok(nats?.type === 'nats');
  assert.deepEqual(nats, {
    type: 'nats', servers: ['nats://nats1.example:4222', 'nats://nats2.example:4222'], sensor: 'dc1-span3',
    auth: { credsFile: '/etc/picket/nats.creds', tlsCa: '/etc/picket/nats-ca.pem' },
  });
});

test('a config file drives a replay (home net, sensitivity, outputs), and flags win over it', () => {
  const dir = tmpDir('config');
  const cfg = path.join(dir, 'picket.yaml');
  fs.writeFileSync(cfg, 'home_net: [10.77.0.1/32]\nsensitivity: low\noutputs:\n  - type: file\n    path: alerts.ndjson\n');
  const r = picket(['replay', '--quiet', '--config', cfg, path.join(PCAPS, 'nmap-syn.pcap')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '', 'the config sends documents to its file, not stdout');
  const docs = fs.readFileSync(path.join(dir, 'alerts.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const scans = docs.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
  assert.ok(scans.length > 0);
  assert.ok(scans.every((d) => get(d, 'network.direction') === 'inbound'), 'home_net from the file: the scanner is outside it');
  const judged = scans.filter((d) => get(d, 'picket.scan.sensitivity') !== undefined);
  assert.ok(judged.length > 0, 'scan alerts say which preset judged them');
  assert.ok(judged.every((d) => get(d, 'picket.scan.sensitivity') === 'low'));
  // --home-net on the command line wins: both ends inside, so internal.
  const flag = picket(['replay', '--quiet', '--config', cfg, '--home-net', '10.0.0.0/8', '--out', path.join(dir, 'b.ndjson'), path.join(PCAPS, 'nmap-syn.pcap')]);
  assert.equal(flag.code, 0, flag.stderr);
  const b = fs.readFileSync(path.join(dir, 'b.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const internal = b.filter((d) => String(get(d, 'rule.id')).startsWith('scan.'));
  assert.ok(internal.length > 0);
  assert.ok(internal.every((d) => get(d, 'network.direction') === 'internal'));
  fs.rmSync(dir, { recursive: true });
});

test('a bad config stops start-up naming the file, the line and the key', () => {
  const dir = tmpDir('badconfig');
  const cfg = path.join(dir, 'picket.yaml');
  const cases: Array<[string, RegExp]> = [
    ['sensitivity: extreme\n', /picket\.yaml:1: "sensitivity" must be one of low, medium, high/],
    ['home_net: [10.0.0.0/8]\nworkers: lots\n', /picket\.yaml:2: "workers" must be a whole number/],
    ['capture:\n  interfaces: [eth0]\n  buffer: 5\n', /picket\.yaml:3: unknown key "buffer"/],
    ['outputs:\n  - type: syslog\n    url: syslog.example:514\n', /picket\.yaml:3: "url" must be udp:\/\/HOST:PORT/],
    ['outputs:\n  - type: kafka\n', /picket\.yaml:2: unknown output type "kafka"/],
    ['outputs:\n  - type: syslog\n    url: tcp://127.0.0.1:514\n    tls: { ca: ca.pem }\n', /picket\.yaml:4: "tls" is for a tls:\/\/HOST\[:PORT\] url/],
    ['outputs:\n  - type: http\n    url: https://127.0.0.1:9200/_bulk\n    tls:\n      cert: c.pem\n', /picket\.yaml:5: "cert" and "key" go together/],
    ['outputs:\n  - type: http\n    url: https://127.0.0.1:9200/_bulk\n    tls: { verify: false }\n', /picket\.yaml:4: unknown key "verify" \(allowed: ca, cert, key, insecure\)/],
    ['outputs:\n  - type: http\n    url: https://127.0.0.1:9200/_bulk\n    basic_auth_file: a\n    api_key_file: b\n', /picket\.yaml:5: "basic_auth_file" or "api_key_file", not both/],
    ['outputs:\n  - type: http\n    url: https://127.0.0.1:9200/_bulk\n    gzip: yes\n', /picket\.yaml:4: "gzip" must be true or false/],
    ['home_net: [10.0.0.0/33]\n', /picket\.yaml:1: /],
    ['nonsense: 1\n', /picket\.yaml:1: unknown key "nonsense"/],
    ['outputs:\n  - type: nats\n    sensor_name: a\n', /picket\.yaml:2: a nats output needs "servers"/],
    ['outputs:\n  - type: nats\n    servers: [nats://u:p@127.0.0.1:4222]\n', /picket\.yaml:3: "servers": "nats:\/\/u:p@127\.0\.0\.1:4222" is not nats:\/\/HOST:PORT/],
    ['outputs:\n  - type: nats\n    servers: nats://127.0.0.1:4222\n    sensor_name: "dc 1"\n', /picket\.yaml:4: "sensor_name" must be 1 to 64/],
    ['outputs:\n  - type: nats\n    servers: nats://127.0.0.1:4222\n    password: x\n', /picket\.yaml:4: unknown key "password" \(allowed: type, servers, sensor_name, credentials, tls\)/],
    ['outputs:\n  - type: nats\n    servers: nats://127.0.0.1:4222\n    tls: { cert: c.pem, key: k.pem }\n', /picket\.yaml:4: a nats output's "tls" takes "ca" only/],
    ['a: [\n', /picket\.yaml:\d+: not valid YAML/],
  ];
  for (const [text, want] of cases) {
    fs.writeFileSync(cfg, text);
    const r = picket(['replay', '--config', cfg, path.join(PCAPS, 'nmap-syn.pcap')]);
    assert.equal(r.code, 2, text);
    assert.match(r.stderr, want, text);
  }
  fs.rmSync(dir, { recursive: true });
});
