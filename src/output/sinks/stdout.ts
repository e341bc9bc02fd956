import type { EcsDoc } from '../../alert/ecs';
import { writeAllAsync } from './file';
import { encodeAll, type Outcome, type Transport } from './queue';

/**
 * NDJSON on standard output. Not through process.stdout: on Linux its writes to pipes and files are synchronous,
 * so a slow reader (`picket ... | slow-consumer`) would stall the event loop, and with it the capture. fd 1 is
 * written from the thread pool instead, and a full pipe only holds up this sink's queue.
 */
export function stdoutTransport(): Transport {
  let aborted = false;
  return {
    name: 'stdout',
    batchDocs: 1000,
    batchMs: 0,
    maxInFlight: 1,
    async send(docs: EcsDoc[]): Promise<Outcome> {
      const { lines, failed } = encodeAll(docs, (d) => JSON.stringify(d));
      if (lines.length > 0) await writeAllAsync(1, Buffer.from(lines.join('\n') + '\n', 'utf8'), () => aborted);
      return { retry: [], failed };
    },
    async close() {},
    abort() {
      aborted = true;
    },
  };
}
