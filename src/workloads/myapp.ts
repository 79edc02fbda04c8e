// The wangyanglinux/myapp:vN image of the seed walkthrough: nginx 1.12.2 serving
//   /               Hello MyApp | Version: vN | <a href="hostname.html">Pod Name</a>
//   /hostname.html  the pod's name
// with nginx's static-file headers, 304 on a matching If-None-Match, 405 for other
// methods and nginx's own 404/400 pages. Server and Date are the server's to add.
import { httpDate } from './http-date.ts';
import {
  type HeaderList,
  type WorkloadHandler,
  type WorkloadResponse,
  headerValue,
  utf8,
} from './http.ts';
import { nginx112Page, nginxEtag } from './nginx.ts';

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

export interface MyAppFiles {
  image: string;
  podName: string;
  /** When the container started: hostname.html is written then. */
  startedAtMs: number;
}

interface StaticFile {
  body: Uint8Array;
  /** Its ETag and Last-Modified: fixed with the file, so made once, not per request. */
  etag: string;
  lastModified: string;
  /**
   * Its 200 and 304 responses, also fixed with the file: every request gets the same
   * objects, frozen (nothing downstream writes to a response; this makes sure of it).
   */
  ok: WorkloadResponse;
  notModified: WorkloadResponse;
}

function frozenResponse(status: number, headers: HeaderList, body?: Uint8Array): WorkloadResponse {
  for (const pair of headers) Object.freeze(pair);
  Object.freeze(headers);
  return Object.freeze(body === undefined ? { status, headers } : { status, headers, body });
}

function staticFile(body: Uint8Array, mtimeMs: number): StaticFile {
  const etag = nginxEtag(mtimeMs, body.length);
  const lastModified = httpDate(mtimeMs);
  return {
    body,
    etag,
    lastModified,
    ok: frozenResponse(
      200,
      [
        ['Content-Type', 'text/html'],
        ['Content-Length', String(body.length)],
        ['Last-Modified', lastModified],
        ['Connection', 'keep-alive'],
        ['ETag', etag],
        ['Accept-Ranges', 'bytes'],
      ],
      body,
    ),
    notModified: frozenResponse(304, [
      ['Last-Modified', lastModified],
      ['Connection', 'keep-alive'],
      ['ETag', etag],
    ]),
  };
}

/** nginx's own pages: Content-Type, Content-Length, Connection (close after a 400). */
export function nginxPageResponse(status: number): WorkloadResponse {
  const body = utf8(nginx112Page(status));
  const headers: HeaderList = [
    ['Content-Type', 'text/html'],
    ['Content-Length', String(body.length)],
  ];
  if (status !== 400) headers.push(['Connection', 'keep-alive']);
  return { status, headers, body };
}

/** The request handler of one myapp container. */
export function myappHandler(o: MyAppFiles): WorkloadHandler {
  const version = myappVersion(o.image);
  const files = new Map<string, StaticFile>([
    ['/index.html', staticFile(utf8(myappIndex(version)), MYAPP_INDEX_MTIME_MS)],
    ['/hostname.html', staticFile(utf8(`${o.podName}\n`), o.startedAtMs)],
  ]);
  return (req) => {
    // The path: the target up to its first '?' (what split('?')[0] gives, with no array).
    const q = req.target.indexOf('?');
    const path = q < 0 ? req.target : req.target.slice(0, q);
    const file = files.get(path === '/' ? '/index.html' : path);
    if (req.method !== 'GET' && req.method !== 'HEAD') return nginxPageResponse(405);
    if (file === undefined) return nginxPageResponse(404);
    if (headerValue(req.headers, 'if-none-match') === file.etag) return file.notModified;
    return file.ok;
  };
}
