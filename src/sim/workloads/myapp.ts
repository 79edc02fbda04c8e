// The wangyanglinux/myapp:vN image of the seed walkthrough: nginx 1.12.2 serving
//   /               Hello MyApp | Version: vN | <a href="hostname.html">Pod Name</a>
//   /hostname.html  the pod's name
// with nginx's static-file headers, 304 on a matching If-None-Match, 405 for other
// methods and nginx's own 404/400 pages.
import type { SimHost } from '../host.ts';
import { httpDate } from '../http/date.ts';
import type { HeaderList } from '../http/message.ts';
import { encodeText, getHeader } from '../http/message.ts';
import { createHttpServer } from '../http/server.ts';
import type { HttpResponseInit, HttpServer } from '../http/server.ts';
import { NGINX_REASONS, NGINX_VERSION, nginx112Page, nginxEtag } from './nginx.ts';

/**
 * Modification time of index.html in the images: 2018-03-02 03:39:12 UTC, the ETag
 * "5a98c760-41" that `curl -I` shows for myapp:v1 (assumed the same for every tag).
 */
export const MYAPP_INDEX_MTIME_MS = 0x5a98c760 * 1000;

/** "wangyanglinux/myapp:v2" → "v2". Throws for a tag that is not vN. */
export function myappVersion(image: string): string {
  const m = /^(?:.*\/)?myapp:(v\d+)$/.exec(image);
  if (m === null) throw new Error(`not a wangyanglinux/myapp:vN image: ${image}`);
  return m[1]!;
}

export function myappIndex(version: string): string {
  return `Hello MyApp | Version: ${version} | <a href="hostname.html">Pod Name</a>\n`;
}

export interface MyAppOptions {
  image: string;
  /** Default: the host's name. */
  podName?: string;
  port?: number;
  /** When the container started: hostname.html is written then (default: now). */
  startedAtMs?: number;
}

interface StaticFile {
  body: Uint8Array;
  mtimeMs: number;
}

export function startMyApp(host: SimHost, o: MyAppOptions): HttpServer {
  const version = myappVersion(o.image);
  const files = new Map<string, StaticFile>([
    ['/index.html', { body: encodeText(myappIndex(version)), mtimeMs: MYAPP_INDEX_MTIME_MS }],
    [
      '/hostname.html',
      {
        body: encodeText(`${o.podName ?? host.name}\n`),
        mtimeMs: o.startedAtMs ?? host.wallClockMs(),
      },
    ],
  ]);
  // nginx's own pages: Content-Type, Content-Length, Connection (close after a 400).
  const page = (status: number): HttpResponseInit => {
    const body = nginx112Page(status);
    const headers: HeaderList = [
      ['Content-Type', 'text/html'],
      ['Content-Length', String(body.length)],
    ];
    if (status !== 400) headers.push(['Connection', 'keep-alive']);
    return { status, headers, body };
  };
  return createHttpServer(
    host,
    o.port ?? 80,
    (req, respond) => {
      const path = req.target.split('?')[0]!;
      const file = files.get(path === '/' ? '/index.html' : path);
      if (req.method !== 'GET' && req.method !== 'HEAD') return respond(page(405));
      if (file === undefined) return respond(page(404));
      const etag = nginxEtag(file.mtimeMs, file.body.length);
      const lastModified = httpDate(file.mtimeMs);
      if (getHeader(req.headers, 'if-none-match') === etag) {
        return respond({
          status: 304,
          headers: [
            ['Last-Modified', lastModified],
            ['Connection', 'keep-alive'],
            ['ETag', etag],
          ],
        });
      }
      respond({
        status: 200,
        headers: [
          ['Content-Type', 'text/html'],
          ['Content-Length', String(file.body.length)],
          ['Last-Modified', lastModified],
          ['Connection', 'keep-alive'],
          ['ETag', etag],
          ['Accept-Ranges', 'bytes'],
        ],
        body: file.body,
      });
    },
    { serverHeader: NGINX_VERSION, reasons: NGINX_REASONS, badRequest: () => page(400) },
  );
}
