// Watch: a chunked HTTP response of newline-separated JSON events, as kube-apiserver
// streams them. From resourceVersion "" or "0" the watch starts with ADDED for every
// selected object; from a later version it replays what happened since, or sends an
// ERROR event with 410 Gone when that history is compacted. Objects moving in or out
// of the selection arrive as ADDED/DELETED. BOOKMARK events carry the store's version
// to clients that allow them. A client that cannot keep up is disconnected.
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../api/types.ts';
import type { WatchEvent } from '../control/store.ts';
import { groupVersion } from './resources.ts';
import type { RestHandlers, Target } from './rest.ts';
import { parseSelection, selects } from './selectors.ts';
import { type HttpStatusError, badRequest, statusObject, toHttpError } from './status.ts';

export interface WatchOptions {
  /** Milliseconds between bookmarks (when the client allows them). */
  bookmarkIntervalMs: number;
  /** Default and maximum watch length when the client names none, seconds. */
  defaultTimeoutSeconds: number;
  /** Bytes buffered for a slow client before it is cut off. */
  maxBufferedBytes: number;
}

export const DEFAULT_WATCH_OPTIONS: WatchOptions = {
  bookmarkIntervalMs: 60_000,
  defaultTimeoutSeconds: 1800,
  maxBufferedBytes: 16 << 20,
};

/** Serialised events shared by every watcher of the same kind and format. */
const serialised = new WeakMap<KubeObject, Map<string, string>>();

function cached(obj: KubeObject, key: string, make: () => string): string {
  let m = serialised.get(obj);
  if (m === undefined) serialised.set(obj, (m = new Map()));
  let s = m.get(key);
  if (s === undefined) m.set(key, (s = make()));
  return s;
}

export function serveWatch(
  rest: RestHandlers,
  t: Target,
  query: URLSearchParams,
  table: boolean,
  res: ServerResponse,
  opts: WatchOptions = DEFAULT_WATCH_OPTIONS,
): void {
  const sel = parseSelection(query, t.res.stored);
  const rvParam = query.get('resourceVersion') ?? '';
  if (rvParam !== '' && !/^\d+$/.test(rvParam))
    throw badRequest(`invalid resource version: ${rvParam}`);
  const timeoutParam = query.get('timeoutSeconds');
  const timeoutS =
    timeoutParam === null || timeoutParam === ''
      ? opts.defaultTimeoutSeconds
      : Number(timeoutParam);
  if (!Number.isFinite(timeoutS) || timeoutS < 0)
    throw badRequest(`invalid timeoutSeconds: ${timeoutParam}`);
  const bookmarks = query.get('allowWatchBookmarks') === 'true';
  const gv = groupVersion(t.res.group, t.res.version);
  const format = `${gv}/${t.res.kind}/${table ? `table:${query.get('includeObject') ?? ''}` : 'json'}`;

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  res.flushHeaders();

  const inScope = (o: KubeObject): boolean =>
    (t.namespace === undefined || o.metadata.namespace === t.namespace) && selects(sel, o);
  const encode = (type: string, o: KubeObject): string => {
    const body = cached(o, format, () => {
      const obj = table
        ? rest.table(t.res, [o], query, { resourceVersion: o.metadata.resourceVersion })
        : rest.served(o, t.res);
      return JSON.stringify(obj);
    });
    return `{"type":"${type}","object":${body}}\n`;
  };

  let closed = false;
  let stop: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  const close = (): void => {
    if (closed) return;
    closed = true;
    stop?.();
    for (const tm of timers) clearTimeout(tm);
    res.end();
  };
  const write = (line: string): void => {
    if (closed) return;
    res.write(line);
    if (res.writableLength > opts.maxBufferedBytes) close();
  };

  const listener = (e: WatchEvent): void => {
    const o = e.object;
    if (e.type === 'MODIFIED' && e.old !== undefined) {
      const was = inScope(e.old);
      const is = inScope(o);
      if (was && is) write(encode('MODIFIED', o));
      else if (was) write(encode('DELETED', o));
      else if (is) write(encode('ADDED', o));
      return;
    }
    if (inScope(o)) write(encode(e.type, o));
  };

  try {
    stop = rest.runtime.cluster.store.watch(
      t.res.stored,
      listener,
      rvParam === '' || rvParam === '0' ? undefined : rvParam,
    );
  } catch (err) {
    const e: HttpStatusError = toHttpError(err);
    res.write(`{"type":"ERROR","object":${JSON.stringify(statusObject(e))}}\n`);
    close();
    return;
  }
  res.on('close', close);
  if (timeoutS > 0) timers.push(setTimeout(close, timeoutS * 1000));
  if (bookmarks) {
    const tick = (): void => {
      const bm = {
        kind: t.res.kind,
        apiVersion: gv,
        metadata: { resourceVersion: rest.runtime.cluster.store.resourceVersion },
      };
      write(`{"type":"BOOKMARK","object":${JSON.stringify(bm)}}\n`);
      timers[1] = setTimeout(tick, opts.bookmarkIntervalMs);
    };
    timers[1] = setTimeout(tick, opts.bookmarkIntervalMs);
  }
}
