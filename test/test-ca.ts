import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { requireTool } from './helpers';

/** A certificate authority made for one test run, with a server and a client certificate it signed (PEM files). */
export interface TestCa {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A certificate and key from another CA altogether: what a server must refuse. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A self-signed CA (EC P-256: fast to make) and a certificate it signs for `cn` with the given extensions. */
function issue(dir: string, name: string, ca: { cert: string; key: string } | null, cn: string, ext: string): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  const extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extFile, `${ext}\n`);
  if (ca === null) {
    openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2', '-out', `${name}.crt`, '-extensions', 'v3', '-config', writeConf(dir, name, ext)]);
    return;
  }
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-out', `${name}.csr`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', extFile]);
}

function writeConf(dir: string, name: string, ext: string): string {
  const f = path.join(dir, `${name}.cnf`);
  fs.writeFileSync(f, `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${ext}\n`);
  return f;
}

/**
 * Makes a fresh CA in `dir` with openssl: the server certificate names 127.0.0.1 and localhost, the client
 * certificate is for client authentication. Nothing is downloaded or kept between runs.
 */
export function makeTestCa(dir: string): TestCa {
  requireTool('openssl');
  const caExt = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign';
  issue(dir, 'ca', null, 'picket test CA', caExt);
  const ca = { cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
  issue(dir, 'server', ca, 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature');
  issue(dir, 'client', ca, 'picket sensor', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature');
  issue(dir, 'stranger-ca', null, 'another CA', caExt);
  issue(dir, 'stranger', { cert: path.join(dir, 'stranger-ca.crt'), key: path.join(dir, 'stranger-ca.key') }, 'stranger',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature');
  const p = (f: string): string => path.join(dir, f);
  return {
    dir, ca: ca.cert, serverCert: p('server.crt'), serverKey: p('server.key'), clientCert: p('client.crt'), clientKey: p('client.key'),
    strangerCert: p('stranger.crt'), strangerKey: p('stranger.key'),
  };
}
