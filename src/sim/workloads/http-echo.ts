// The generic HTTP echo (src/workloads/http-echo.ts) on a simulated host.
import type { SimHost } from '../host.ts';
import { createSyncHttpServer } from '../http/server.ts';
import type { HttpServer } from '../http/server.ts';
import { u32ToIp } from '../../packet/index.ts';
import { httpEchoHandler } from '../../workloads/http-echo.ts';

export function startHttpEcho(host: SimHost, o: { port?: number; name?: string } = {}): HttpServer {
  const handle = httpEchoHandler({
    name: o.name ?? host.name,
    addresses: host.addresses.map(u32ToIp),
    nowMs: () => host.wallClockMs(),
  });
  return createSyncHttpServer(host, o.port ?? 80, handle, {
    connectionHeader: 'when-closing',
  });
}
