// A generic HTTP echo in the format of traefik/whoami: host name, addresses, the
// client address as the server saw it (was the source masqueraded?), then the request.
import { httpDate } from './http-date.ts';
import { type WorkloadHandler, utf8 } from './http.ts';

export interface HttpEchoOptions {
  name: string;
  /** The pod's addresses, dotted. */
  addresses: readonly string[];
  /** Wall clock for Date, ms. */
  nowMs: () => number;
}

export function httpEchoHandler(o: HttpEchoOptions): WorkloadHandler {
  return (req) => {
    let text = `Hostname: ${o.name}\nIP: 127.0.0.1\n`;
    for (const a of o.addresses) text += `IP: ${a}\n`;
    text += `RemoteAddr: ${req.remoteAddress}:${req.remotePort}\n`;
    text += `${req.method} ${req.target} ${req.version}\r\n`;
    for (const [n, v] of req.headers) text += `${n}: ${v}\r\n`;
    text += '\r\n';
    const head = utf8(text);
    const body = new Uint8Array(head.length + req.body.length);
    body.set(head);
    body.set(req.body, head.length);
    // Go's net/http writes its headers sorted and says nothing about keep-alive.
    return {
      status: 200,
      headers: [
        ['Content-Length', String(body.length)],
        ['Content-Type', 'text/plain; charset=utf-8'],
        ['Date', httpDate(o.nowMs())],
      ],
      body,
    };
  };
}
