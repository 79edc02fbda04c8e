// The bodies nginx sends for its own error and redirect pages (ngx_http_special_response.c),
// byte for byte: CRLF line ends, the "nginx" footer (ingress-nginx sets server_tokens off).

const REASONS: Record<number, string> = {
  301: 'Moved Permanently',
  302: 'Found',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Authorization Required',
  403: 'Forbidden',
  404: 'Not Found',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};

/** The reason phrase nginx puts in its status line. */
export function reasonPhrase(status: number): string {
  // nginx's status line says "Unauthorized" while its page title says "Authorization Required".
  if (status === 401) return 'Unauthorized';
  if (status === 503) return 'Service Temporarily Unavailable';
  return REASONS[status] ?? 'Unknown';
}

export function nginxPage(status: number): string {
  const title = `${status} ${REASONS[status] ?? 'Unknown'}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}
