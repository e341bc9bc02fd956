/**
 * NATS decentralised auth for one test run, made offline with nkeys.js (the NKey library the nats client depends on):
 * an operator, a system account, an account with JetStream, a user of it, and a user of an account the server does
 * not know. JWTs as NATS writes them (header typ JWT, alg ed25519-nkey; claims with a "nats" object of version 2;
 * signed by the issuer's NKey); .creds files in the layout nsc writes. Nothing is downloaded.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAccount, createOperator, createUser, type KeyPair } from 'nkeys.js';

const b64 = (b: Uint8Array | string): string => Buffer.from(b).toString('base64url');

function jwt(issuer: KeyPair, subject: string, name: string, nats: Record<string, unknown>): string {
  const header = b64(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' }));
  const claims = b64(JSON.stringify({
    jti: randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name, sub: subject,
    nats: { ...nats, version: 2 },
  }));
  return `${header}.${claims}.${b64(issuer.sign(Buffer.from(`${header}.${claims}`, 'utf8')))}`;
}

const UNLIMITED = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 };

function creds(userJwt: string, user: KeyPair): string {
  return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n`
    + '************************* IMPORTANT *************************\nNKEY Seed printed below can be used to sign and prove identity.\n\n'
    + `-----BEGIN USER NKEY SEED-----\n${Buffer.from(user.getSeed()).toString('utf8')}\n------END USER NKEY SEED------\n`;
}

export interface NatsJwtSetup {
  /** nats-server configuration lines: operator, system account, memory resolver with both accounts preloaded. */
  serverConf: string;
  /** A user of the JetStream account. */
  userCreds: string;
  /** A user signed by an account the server does not know: refused. */
  strangerCreds: string;
}

export function makeNatsJwt(dir: string): NatsJwtSetup {
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const user = createUser();
  const otherAccount = createAccount();
  const stranger = createUser();
  const opFile = path.join(dir, 'operator.jwt');
  fs.writeFileSync(opFile, jwt(operator, operator.getPublicKey(), 'picket-test-operator', { type: 'operator', system_account: system.getPublicKey() }));
  const sysJwt = jwt(operator, system.getPublicKey(), 'SYS', { type: 'account', limits: UNLIMITED });
  const accJwt = jwt(operator, account.getPublicKey(), 'fleet', { type: 'account', limits: { ...UNLIMITED, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 } });
  const userCreds = path.join(dir, 'sensor.creds');
  fs.writeFileSync(userCreds, creds(jwt(account, user.getPublicKey(), 'sensor', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 }), user), { mode: 0o600 });
  const strangerCreds = path.join(dir, 'stranger.creds');
  fs.writeFileSync(strangerCreds, creds(jwt(otherAccount, stranger.getPublicKey(), 'stranger', { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 }), stranger), { mode: 0o600 });
  const serverConf = [
    `operator: "${opFile}"`,
    `system_account: ${system.getPublicKey()}`,
    'resolver: MEMORY',
    `resolver_preload: {\n  ${system.getPublicKey()}: "${sysJwt}"\n  ${account.getPublicKey()}: "${accJwt}"\n}`,
  ].join('\n');
  return { serverConf, userCreds, strangerCreds };
}
