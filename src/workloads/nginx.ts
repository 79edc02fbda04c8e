// What nginx 1.12.2 (the wangyanglinux/myapp images) sends beyond the file itself:
// its reason phrases and its built-in error pages (ngx_http_special_response.c of
// 1.12: `<body bgcolor="white">` and the version in the footer, server_tokens on).

import { type WorkloadRequest, type WorkloadResponse, headerValue } from './http.ts';

export const NGINX_VERSION = 'nginx/1.12.2';

/** nginx's status-line reason phrases (ngx_http_status_lines). */
export const NGINX_REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  304: 'Not Modified',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Not Allowed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** The error page nginx 1.12.2 generates for `status` (CRLF line ends). */
export function nginx112Page(status: number): string {
  const title = `${status} ${NGINX_REASONS[status] ?? ''}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body bgcolor="white">\r\n` +
    `<center><h1>${title}</h1></center>\r\n` +
    `<hr><center>${NGINX_VERSION}</center>\r\n</body>\r\n</html>\r\n`
  );
}

/** nginx's ETag for a static file: "<mtime hex>-<size hex>" (ngx_http_set_etag). */
export function nginxEtag(mtimeMs: number, size: number): string {
  return `"${Math.floor(mtimeMs / 1000).toString(16)}-${size.toString(16)}"`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** nginx's $time_local: `26/Jul/2022:11:18:20 +0000` (the pods run in UTC). */
function timeLocal(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}

/**
 * One line of the access log in nginx's `main` format, which the myapp image's
 * nginx.conf uses: `$remote_addr - $remote_user [$time_local] "$request" $status
 * $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for"`.
 */
export function nginxAccessLogLine(
  req: WorkloadRequest,
  res: WorkloadResponse,
  nowMs: number,
): string {
  const h = (name: string): string => headerValue(req.headers, name) ?? '-';
  const request = `${req.method} ${req.target} ${req.version}`;
  return (
    `${req.remoteAddress} - - [${timeLocal(nowMs)}] "${request}" ${res.status} ` +
    `${res.body?.length ?? 0} "${h('referer')}" "${h('user-agent')}" "${h('x-forwarded-for')}"`
  );
}
