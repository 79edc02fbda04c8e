// A live simulated cluster behind the API server, for the apiserver tests.
import { request } from 'node:https';
import { Readable } from 'node:stream';
import { ApiServer } from '../../src/apiserver/server.ts';
import { type ServingTls, makeServingTls } from '../../src/apiserver/tls.ts';
import { SimRuntime } from '../../src/scenario/live-runtime.ts';
import type { WatchOptions } from '../../src/apiserver/watch.ts';
import { Session } from '../../src/scenario/session.ts';
import type { ProxyMode } from '../../src/control/node-setup.ts';

export interface Served {
  session: Session;
  runtime: SimRuntime;
  server: ApiServer;
  url: string;
  token: string;
  tls: ServingTls;
  /** fetch with the token (and a JSON body when given an object). */
  api(
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function serveSim(
  opts: {
    mode?: ProxyMode;
    live?: boolean;
    watch?: Partial<WatchOptions>;
    /** The cluster's release (the seed's extensions/v1beta1 files need v1.15.1). */
    kubernetesVersion?: string;
  } = {},
): Promise<Served> {
  const session = new Session({
    mode: opts.mode ?? 'iptables',
    baseDir: process.cwd(),
    ...(opts.kubernetesVersion ? { cluster: { kubernetesVersion: opts.kubernetesVersion } } : {}),
  });
  const runtime = new SimRuntime(session);
  const token = 'test-token-0123456789';
  const tls = makeServingTls();
  const server = new ApiServer({
    runtime,
    token,
    tls,
    port: 0,
    ...(opts.watch ? { watch: opts.watch } : {}),
  });
  const port = await server.listen();
  if (opts.live === true) runtime.start();
  const url = `https://127.0.0.1:${port}`;
  return {
    session,
    runtime,
    server,
    url,
    token,
    tls,
    api: (path, init = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...init.headers };
      let body: string | undefined;
      if (init.body !== undefined) {
        body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
        headers['content-type'] ??= 'application/json';
      }
      return httpsFetch(`${url}${path}`, init.method ?? 'GET', headers, body, tls.caPem);
    },
    close: async () => {
      runtime.stop();
      await server.close();
    },
  };
}

/** fetch() over HTTPS trusting `ca` (the global fetch cannot be given a CA). */
export function httpsFetch(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  ca: string,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, ca }, (res) => {
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
      resolve(
        new Response(Readable.toWeb(res) as ReadableStream, {
          status: res.statusCode ?? 0,
          headers: h,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}
