import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** Two network namespaces of the test's own, joined by one veth pair, with the addresses the test assigns. */
export interface VethLab {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  /** Kills what still runs inside (ours) and deletes both namespaces; safe to call twice. */
  remove(): void;
}

function run(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${r.stderr}`);
}

export function createVethLab(prefix: string, addrA: string, addrB: string): VethLab {
  const pid = process.pid;
  const lab: VethLab = {
    nsA: `${prefix}-a-${pid}`, nsB: `${prefix}-b-${pid}`, ifA: `${prefix}${pid}a`.slice(0, 15), ifB: `${prefix}${pid}b`.slice(0, 15),
    remove() {
      for (const ns of [lab.nsA, lab.nsB]) {
        if (!fs.existsSync(`/run/netns/${ns}`)) continue;
        for (const p of spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter((x) => x !== '')) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        spawnSync('ip', ['netns', 'del', ns]);
      }
    },
  };
  process.on('exit', lab.remove);
  run(['netns', 'add', lab.nsA]);
  run(['netns', 'add', lab.nsB]);
  run(['-n', lab.nsA, 'link', 'add', lab.ifA, 'type', 'veth', 'peer', 'name', lab.ifB, 'netns', lab.nsB]);
  for (const [ns, ifc, addr] of [[lab.nsA, lab.ifA, addrA], [lab.nsB, lab.ifB, addrB]]) {
    run(['netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    run(['-n', ns, 'addr', 'add', addr, 'dev', ifc]);
    run(['-n', ns, 'link', 'set', ifc, 'up']);
    run(['-n', ns, 'link', 'set', 'lo', 'up']);
  }
  return lab;
}
