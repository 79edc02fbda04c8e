// The wangyanglinux/myapp:vN image on a simulated host: src/workloads/myapp.ts's
// handler behind the simulated HTTP server, with nginx's Server header and reasons.
import type { SimHost } from '../host.ts';
import { createSyncHttpServer } from '../http/server.ts';
import type { HttpServer } from '../http/server.ts';
import { myappHandler, nginxPageResponse } from '../../workloads/myapp.ts';
import type { WorkloadRequest, WorkloadResponse } from '../../workloads/http.ts';
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
   * Instead of `log`: receives a line still to be written (its `text()` writes it), for a
   * log that formats only the lines it is asked for (the line is the same whenever it is
   * written).
   */
  logLater?: (line: LaterLine) => void;
}

/** A log line written when it is read. */
export interface LaterLine {
  text(): string;
}

/**
 * An access-log line kept as what it is made of (the request, the response, the time): one
 * object per line, not a closure and its context.
 */
export class AccessLogLine implements LaterLine {
  constructor(
    readonly req: WorkloadRequest,
    readonly res: WorkloadResponse,
    readonly ms: number,
  ) {}

  text(): string {
    return nginxAccessLogLine(this.req, this.res, this.ms);
  }
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
      logLater(new AccessLogLine(req, res, host.wallClockMs()));
    } else if (log !== undefined) log(nginxAccessLogLine(req, res, host.wallClockMs()));
    return res;
  };
  return createSyncHttpServer(host, o.port ?? 80, serve, {
    serverHeader: NGINX_VERSION,
    reasons: NGINX_REASONS,
    badRequest: () => nginxPageResponse(400),
  });
}
