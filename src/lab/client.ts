// Talking to a running lab's daemon over its control socket (one JSON line each way).
import { createConnection } from 'node:net';
import type { LabReply, LabRequest } from './daemon.ts';
import { labPaths } from './state.ts';

export function request(prefix: string, req: LabRequest, timeoutMs = 10_000): Promise<LabReply> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(labPaths(prefix).socket);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('the lab daemon did not answer'));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (d: string) => {
      buf += d;
      const i = buf.indexOf('\n');
      if (i < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        resolve(JSON.parse(buf.slice(0, i)) as LabReply);
      } catch (e) {
        reject(e as Error);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
