import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { requireTool, tmpDir } from './helpers';
import type { TestCa } from './test-ca';

/** What rsyslog extracted from one message, as written by the template below (one JSON object a line). */
export interface RsyslogRecord {
  input: string;
  version: string;
  app: string;
  msgid: string;
  severity: string;
  facility: string;
  host: string;
  procid: string;
  time: string;
  sd: string;
  msg: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until check() holds, at most `tries` times `everyMs` apart; throws with `what` otherwise. */
export async function until(what: string, check: () => boolean | Promise<boolean>, tries = 600, everyMs = 50): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export async function freeTcpPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * A real rsyslogd of our own: its own config, work directory and pid file in a temp dir; imudp and imtcp on
 * 127.0.0.1; no local logging (no imuxsock/imklog are loaded: nothing but what this config names). Every message
 * from the two inputs is written as the properties rsyslog parsed out of it, so a test sees what a SIEM behind
 * rsyslog would see.
 */
export class Rsyslog {
  readonly dir = tmpDir('rsyslog');
  readonly out = path.join(this.dir, 'out.ndjson');
  udpPort = 0;
  tcpPort = 0;
  /** With `tls`: an RFC 5425 input (imtcp with the OpenSSL driver) that requires a client certificate of that CA. */
  tlsPort = 0;

  constructor(private readonly tls: TestCa | null = null) {}
  private proc: ChildProcess | null = null;
  private stderr = '';

  async start(): Promise<void> {
    const bin = fs.existsSync('/usr/sbin/rsyslogd') ? '/usr/sbin/rsyslogd' : requireTool('rsyslogd');
    if (this.udpPort === 0) {
      this.udpPort = await freeUdpPort();
      this.tcpPort = await freeTcpPort();
      if (this.tls !== null) this.tlsPort = await freeTcpPort();
    }
    const t = this.tls;
    const tlsInput = t === null ? [] : [
      `input(type="imtcp" name="imtls" address="127.0.0.1" port="${this.tlsPort}" streamDriver.name="ossl" streamDriver.mode="1"`,
      `  streamDriver.authMode="x509/certvalid" streamDriver.caFile="${t.ca}" streamDriver.certFile="${t.serverCert}" streamDriver.keyFile="${t.serverKey}")`,
    ];
    const conf = path.join(this.dir, 'rsyslog.conf');
    const prop = (out: string, name: string, extra = ''): string => `  property(outname="${out}" name="${name}" format="jsonf"${extra})`;
    fs.writeFileSync(
      conf,
      [
        `global(workDirectory="${this.dir}" maxMessageSize="64k")`,
        'module(load="imudp")',
        'module(load="imtcp")',
        `input(type="imudp" address="127.0.0.1" port="${this.udpPort}")`,
        `input(type="imtcp" address="127.0.0.1" port="${this.tcpPort}")`,
        ...tlsInput,
        'template(name="props" type="list" option.jsonf="on") {',
        prop('input', 'inputname'),
        prop('version', 'protocol-version'),
        prop('app', 'app-name'),
        prop('msgid', 'msgid'),
        prop('severity', 'syslogseverity'),
        prop('facility', 'syslogfacility'),
        prop('host', 'hostname'),
        prop('procid', 'procid'),
        prop('time', 'timereported', ' dateFormat="rfc3339"'),
        prop('sd', 'structured-data'),
        prop('msg', 'msg'),
        '}',
        'if $inputname == "imudp" or $inputname == "imtcp" or $inputname == "imtls" then {',
        `  action(type="omfile" file="${this.out}" template="props")`,
        '}',
        '',
      ].join('\n'),
    );
    this.stderr = '';
    const proc = spawn(bin, ['-n', '-f', conf, '-i', path.join(this.dir, 'rsyslogd.pid')], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    proc.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    this.proc = proc;
    let exited = false;
    const orphanGuard = (): void => void proc.kill('SIGKILL'); // never outlive the test process
    process.once('exit', orphanGuard);
    proc.once('exit', () => {
      exited = true;
      process.off('exit', orphanGuard);
    });
    // Up when imtcp accepts a connection and a probe datagram has come through imudp to the file.
    let listening = false;
    for (let i = 0; i < 200 && !exited && !listening; i++) {
      listening = await this.tcpAccepts();
      if (!listening) await sleep(50);
    }
    if (!listening) throw new Error(`rsyslogd did not start listening on 127.0.0.1:${this.tcpPort}: ${this.stderr}`);
    const probe = dgram.createSocket('udp4');
    const probes = (): number => this.records(true).filter((r) => r.app === 'probe').length;
    const before = probes(); // the file outlives a restart
    try {
      await until(
        'a probe datagram through rsyslog',
        () => {
          probe.send(`<14>1 - - probe - - - up`, this.udpPort, '127.0.0.1');
          return probes() > before;
        },
        200,
        50,
      );
    } finally {
      probe.close();
    }
  }

  private tcpAccepts(): Promise<boolean> {
    return new Promise((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port: this.tcpPort });
      s.once('connect', () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
  }

  /** Sends `signal` (SIGTERM is what a service restart sends) and waits for the exit; SIGKILL if it hangs. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (p === null || p.exitCode !== null || p.signalCode !== null) return;
    this.proc = null;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    const killer = setTimeout(() => p.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(killer);
  }

  /** SIGSTOP/SIGCONT: a collector that stops reading, with its sockets still open. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  /**
   * Bytes waiting, unread, in the receive queues of rsyslog's TCP connections (from /proc/net/tcp): what a
   * collector that dies now takes with it. Established ones, and those the sender has half-closed (CLOSE_WAIT),
   * since the syslog sink closes its side right behind each batch.
   */
  unreadBytes(): number {
    const port = this.tcpPort.toString(16).toUpperCase().padStart(4, '0');
    let total = 0;
    for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5 || !f[1].endsWith(`:${port}`) || (f[3] !== '01' && f[3] !== '08')) continue;
      total += parseInt(f[4].split(':')[1], 16);
    }
    return total;
  }

  /** Lines in the output file, start-up probes included, without parsing them: cheap enough to poll. */
  lineCount(): number {
    if (!fs.existsSync(this.out)) return 0;
    const b = fs.readFileSync(this.out);
    let n = 0;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
    return n;
  }

  /** Parsed lines of the output file, without the start-up probes unless asked. */
  records(withProbes = false): RsyslogRecord[] {
    if (!fs.existsSync(this.out)) return [];
    const text = fs.readFileSync(this.out, 'utf8');
    const lines = text.split('\n');
    lines.pop(); // the last line may still be being written
    return lines.map((l) => JSON.parse(l) as RsyslogRecord).filter((r) => withProbes || r.app !== 'probe');
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
