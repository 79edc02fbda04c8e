// The wangyanglinux/myapp:vN image on a simulated host: src/workloads/myapp.ts's
// handler behind the simulated HTTP server, with nginx's Server header and reasons.
import type { SimHost } from '../host.ts';
import { createHttpServer } from '../http/server.ts';
import type { HttpServer } from '../http/server.ts';
import { myappHandler, nginxPageResponse } from '../../workloads/myapp.ts';
import { NGINX_REASONS, NGINX_VERSION, nginxAccessLogLine } from '../../workloads/nginx.ts';

export { MYAPP_INDEX_MTIME_MS, myappIndex, myappVersion } from '../../workloads/myapp.ts';

export interface MyAppOptions {
  image: string;
  /** Default: the host's name. */
  podName?: string;
  port?: number;
  /** When the container started: hostname.html is written then (default: now). */
  startedAtMs?: number;
  /** Receives each access-log line (what `kubectl logs` shows for the pod). */
  log?: (line: string) => void;
  /**
   * Instead of `log`: receives a function that writes the line, for a log that formats
   * only the lines it is asked for (the line is the same whenever it is written).
   */
  logLater?: (line: () => string) => void;
}

export function startMyApp(host: SimHost, o: MyAppOptions): HttpServer {
  const handle = myappHandler({
    image: o.image,
    podName: o.podName ?? host.name,
    startedAtMs: o.startedAtMs ?? host.wallClockMs(),
  });
  const log = o.log;
  const logLater = o.logLater;
  const serve = (req: Parameters<typeof handle>[0]) => {
    const res = handle(req);
    if (logLater !== undefined) {
      const ms = host.wallClockMs();
      logLater(() => nginxAccessLogLine(req, res, ms));
    } else if (log !== undefined) log(nginxAccessLogLine(req, res, host.wallClockMs()));
    return res;
  };
  return createHttpServer(host, o.port ?? 80, (req, respond) => respond(serve(req)), {
    serverHeader: NGINX_VERSION,
    reasons: NGINX_REASONS,
    badRequest: () => nginxPageResponse(400),
  });
}
