// The lab daemon's manifest parser, run in a worker thread (manifest-loader.ts): loading
// a large manifest takes the yaml parser and the validators seconds, which on the
// daemon's own thread would stop every packet for as long. Each message names files;
// the reply holds the decoded objects or the one-line errors.
import { parentPort } from 'node:worker_threads';
import { loadManifests } from '../api/load.ts';
import type { LoadOptions } from '../api/options.ts';

export interface LoadRequest {
  id: number;
  files: string[];
  opts: LoadOptions;
}

export type LoadReply =
  { id: number; ok: true; objects: unknown[] } | { id: number; ok: false; errors: string[] };

parentPort?.on('message', (m: LoadRequest) => {
  let reply: LoadReply;
  try {
    const r = loadManifests(m.files, m.opts);
    reply = r.ok
      ? { id: m.id, ok: true, objects: r.objects }
      : { id: m.id, ok: false, errors: r.errors.map((e) => `error: ${e.format()}`) };
  } catch (e) {
    reply = { id: m.id, ok: false, errors: [`error: ${(e as Error).message.split('\n')[0]}`] };
  }
  parentPort?.postMessage(reply);
});
