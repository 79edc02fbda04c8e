// A generic HTTP echo in the format of traefik/whoami: host name, addresses, the
// client address as the server saw it (was the source masqueraded?), then the request.
import type { SimHost } from '../host.ts';
import { httpDate } from '../http/date.ts';
import { concatBytes, encodeText, formatHead } from '../http/message.ts';
import { createHttpServer } from '../http/server.ts';
import type { HttpServer } from '../http/server.ts';
import { u32ToIp } from '../../packet/index.ts';

export function startHttpEcho(host: SimHost, o: { port?: number; name?: string } = {}): HttpServer {
  return createHttpServer(
    host,
    o.port ?? 80,
    (req, respond) => {
      let text = `Hostname: ${o.name ?? host.name}\nIP: 127.0.0.1\n`;
      for (const a of host.addresses) text += `IP: ${u32ToIp(a)}\n`;
      text += `RemoteAddr: ${req.remoteAddress}:${req.remotePort}\n`;
      const body = concatBytes([
        encodeText(text + formatHead(`${req.method} ${req.target} ${req.version}`, req.headers)),
        req.body,
      ]);
      // Go's net/http writes its headers sorted and says nothing about keep-alive.
      respond({
        status: 200,
        headers: [
          ['Content-Length', String(body.length)],
          ['Content-Type', 'text/plain; charset=utf-8'],
          ['Date', httpDate(host.wallClockMs())],
        ],
        body,
      });
    },
    { connectionHeader: 'when-closing' },
  );
}
