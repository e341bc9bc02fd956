import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import { PicketError } from '../../errors';

/** TLS of a network sink (https://, syslog tls://): files read at start-up; the server is verified unless insecure. */
export interface TlsFiles {
  /** PEM CA certificates to verify the server against, instead of the system's. */
  ca?: string;
  /** PEM client certificate and its key, for servers that ask for one. */
  cert?: string;
  key?: string;
  /** Skip verifying the server's certificate and name. */
  insecure?: boolean;
}

/** A file a sink needs at start-up (a certificate, a key, credentials); unreadable is a PicketError naming it. */
export function readSinkFile(sink: string, what: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PicketError(`${sink}: cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
}

/**
 * Client TLS options of a sink: the server's certificate is verified (against `ca`, else the system's CAs) and
 * its name checked, unless `insecure` says otherwise in so many words; a client certificate when given.
 */
export function tlsOptions(sink: string, files: TlsFiles | undefined): tls.ConnectionOptions {
  const f = files ?? {};
  if ((f.cert === undefined) !== (f.key === undefined)) throw new PicketError(`${sink}: a client certificate and its key go together (cert and key)`);
  const o: tls.ConnectionOptions = { rejectUnauthorized: f.insecure !== true };
  if (f.ca !== undefined) o.ca = readSinkFile(sink, 'CA file', f.ca);
  if (f.cert !== undefined && f.key !== undefined) {
    o.cert = readSinkFile(sink, 'client certificate', f.cert);
    o.key = readSinkFile(sink, 'client key', f.key);
  }
  return o;
}

/** The Authorization header of an HTTP sink, from a credentials file (its first line, trimmed). */
export function authHeader(sink: string, auth: { basicFile?: string; apiKeyFile?: string } | undefined): string | undefined {
  if (auth === undefined) return undefined;
  if (auth.basicFile !== undefined && auth.apiKeyFile !== undefined) throw new PicketError(`${sink}: basic authentication or an API key, not both`);
  const firstLine = (what: string, file: string): string => {
    const v = readSinkFile(sink, what, file).split(/\r?\n/)[0].trim();
    if (v === '') throw new PicketError(`${sink}: the ${what} ${file} is empty`);
    return v;
  };
  if (auth.basicFile !== undefined) {
    const v = firstLine('basic authentication file', auth.basicFile);
    if (!v.includes(':')) throw new PicketError(`${sink}: the basic authentication file ${auth.basicFile} must hold USER:PASSWORD`);
    return `Basic ${Buffer.from(v, 'utf8').toString('base64')}`;
  }
  if (auth.apiKeyFile !== undefined) return `ApiKey ${firstLine('API key file', auth.apiKeyFile)}`;
  return undefined;
}
