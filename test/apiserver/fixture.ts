// A live simulated cluster behind the API server, for the apiserver tests.
import { ApiServer } from '../../src/apiserver/server.ts';
import { SimRuntime } from '../../src/apiserver/sim-runtime.ts';
import type { WatchOptions } from '../../src/apiserver/watch.ts';
import { Session } from '../../src/scenario/session.ts';
import type { ProxyMode } from '../../src/control/node-setup.ts';

export interface Served {
  session: Session;
  runtime: SimRuntime;
  server: ApiServer;
  url: string;
  token: string;
  /** fetch with the token (and a JSON body when given an object). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function serveSim(
  opts: { mode?: ProxyMode; live?: boolean; watch?: Partial<WatchOptions> } = {},
): Promise<Served> {
  const session = new Session({
    mode: opts.mode ?? 'iptables',
    baseDir: process.cwd(),
  });
  const runtime = new SimRuntime(session);
  const token = 'test-token-0123456789';
  const server = new ApiServer({
    runtime,
    token,
    port: 0,
    ...(opts.watch ? { watch: opts.watch } : {}),
  });
  const port = await server.listen();
  if (opts.live === true) runtime.start();
  const url = `http://127.0.0.1:${port}`;
  return {
    session,
    runtime,
    server,
    url,
    token,
    api: (path, init = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      return fetch(`${url}${path}`, {
        method: init.method ?? 'GET',
        headers,
        ...(body === undefined ? {} : { body }),
      });
    },
    close: async () => {
      runtime.stop();
      await server.close();
    },
  };
}
