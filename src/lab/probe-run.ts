// Runs a probe inside a network namespace: a raw socket is bound to the namespace of the
// process that opens it, so the probe runs as a child under `ip netns exec`.
import { execFile } from 'node:child_process';
import { repoPath } from './repo.ts';
import type { ProbeRequest, ProbeResult } from './probe.ts';

const WORKER = repoPath('src', 'lab', 'probe-worker.ts');
const TSX = import.meta.resolve('tsx');

export function probeInNamespace(netns: string, req: ProbeRequest): Promise<ProbeResult> {
  const args = ['netns', 'exec', netns, process.execPath, '--import', TSX, WORKER];
  return new Promise((resolve, reject) => {
    execFile(
      'ip',
      [...args, JSON.stringify(req)],
      { timeout: req.timeoutMs + 10_000 },
      (err, out, errOut) => {
        if (err) {
          const why = errOut.trim().split('\n').pop() ?? err.message;
          reject(new Error(why === '' ? err.message : why));
          return;
        }
        resolve(JSON.parse(out) as ProbeResult);
      },
    );
  });
}
