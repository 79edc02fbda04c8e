// What nginx 1.12.2 (the wangyanglinux/myapp images) sends beyond the file itself:
// its reason phrases and its built-in error pages (ngx_http_special_response.c of
// 1.12: `<body bgcolor="white">` and the version in the footer, server_tokens on).

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
