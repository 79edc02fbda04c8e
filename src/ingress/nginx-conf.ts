// The nginx.conf ingress-nginx 0.25 (the seed's controller) renders from the Ingresses:
// its template's shape — one `## start server HOST` block per host, a location per path
// with the $namespace/$ingress_name/$service_name variables, upstreams behind the Lua
// balancer — trimmed of the tuning directives that do not depend on the Ingresses.
// `kubectl exec CONTROLLER -- cat /etc/nginx/nginx.conf` shows it, as the seed does.
import type { IngressConfig, Location, Server } from './config.ts';

const TAB = '\t';

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}

/** The location's match: regex locations once the host needs them (use-regex, rewrite). */
function locationLine(server: Server, loc: Location): string {
  if (!server.useRegex) {
    return loc.pathType === 'Exact' ? `location = ${loc.path} {` : `location ${loc.path} {`;
  }
  return `location ~* ${quote(`^${loc.path}`)} {`;
}

function upstreamName(loc: Location): string {
  if (loc.service === undefined) return 'upstream-default-backend';
  return `${loc.namespace}-${loc.service.name}-${loc.service.port}`;
}

function location(server: Server, loc: Location): string[] {
  const i = TAB.repeat(3);
  const out = [`${TAB}${TAB}${locationLine(server, loc)}`, ''];
  out.push(
    `${i}set $namespace      ${quote(loc.namespace)};`,
    `${i}set $ingress_name   ${quote(loc.ingress)};`,
    `${i}set $service_name   ${quote(loc.service?.name ?? '')};`,
    `${i}set $service_port   ${quote(String(loc.service?.port ?? ''))};`,
    `${i}set $location_path  ${quote(loc.path)};`,
    '',
    `${i}rewrite_by_lua_block {`,
    `${i}${TAB}balancer.rewrite()`,
    `${i}}`,
    '',
    `${i}log_by_lua_block {`,
    `${i}${TAB}balancer.log()`,
    `${i}${TAB}monitor.call()`,
    `${i}}`,
    '',
  );
  if (server.tls !== undefined && (loc.sslRedirect || loc.forceSslRedirect)) {
    out.push(
      `${i}if ($scheme = https) {`,
      `${i}${TAB}more_set_headers                        "Strict-Transport-Security: max-age=15724800; includeSubDomains";`,
      `${i}}`,
      '',
      `${i}# enforce ssl on server side`,
      `${i}if ($redirect_to_https) {`,
      `${i}${TAB}return 308 https://$redirect_host$request_uri;`,
      `${i}}`,
      '',
    );
  }
  out.push(`${i}port_in_redirect off;`, '');
  if (loc.auth !== undefined) {
    const file = `/etc/ingress-controller/auth/${loc.namespace}-${loc.ingress}.passwd`;
    out.push(`${i}auth_basic ${quote(loc.auth.realm)};`, `${i}auth_basic_user_file ${file};`, '');
  }
  if (loc.permanentRedirect !== undefined) {
    out.push(`${i}return 301 ${loc.permanentRedirect};`, '');
  }
  out.push(
    `${i}set $proxy_upstream_name    ${quote(upstreamName(loc))};`,
    `${i}set $proxy_host             $proxy_upstream_name;`,
    '',
    `${i}client_max_body_size                    1m;`,
    '',
    `${i}proxy_set_header Host                   $best_http_host;`,
    `${i}proxy_set_header X-Request-ID           $req_id;`,
    `${i}proxy_set_header X-Real-IP              $the_real_ip;`,
    `${i}proxy_set_header X-Forwarded-For        $the_real_ip;`,
    `${i}proxy_set_header X-Forwarded-Host       $best_http_host;`,
    `${i}proxy_set_header X-Forwarded-Port       $pass_port;`,
    `${i}proxy_set_header X-Forwarded-Proto      $pass_access_scheme;`,
    `${i}proxy_set_header X-Original-URI         $request_uri;`,
    `${i}proxy_set_header X-Scheme               $pass_access_scheme;`,
    '',
    `${i}proxy_connect_timeout                   5s;`,
    `${i}proxy_send_timeout                      60s;`,
    `${i}proxy_read_timeout                      60s;`,
    '',
  );
  if (loc.rewriteTarget !== undefined) {
    out.push(`${i}rewrite ${quote(`(?i)${loc.path}`)} ${loc.rewriteTarget} break;`);
  }
  out.push(
    `${i}proxy_pass http://upstream_balancer;`,
    '',
    `${i}proxy_redirect                          off;`,
    '',
    `${TAB}${TAB}}`,
    '',
  );
  return out;
}

function serverBlock(server: Server): string[] {
  const host = server.host;
  const out = [`${TAB}## start server ${host}`, `${TAB}server {`];
  out.push(`${TAB}${TAB}server_name ${host} ;`, '');
  if (host === '_') {
    out.push(
      `${TAB}${TAB}listen 80 default_server reuseport backlog=511;`,
      `${TAB}${TAB}listen 443  default_server reuseport backlog=511 ssl http2;`,
    );
  } else {
    out.push(`${TAB}${TAB}listen 80;`);
    if (server.tls !== undefined) out.push(`${TAB}${TAB}listen 443  ssl http2;`);
  }
  out.push('', `${TAB}${TAB}set $proxy_upstream_name "-";`, '');
  if (server.tls !== undefined || host === '_') {
    out.push(
      `${TAB}${TAB}# PEM sha: ${server.tls?.secretName ?? 'default-fake-certificate'}`,
      `${TAB}${TAB}ssl_certificate                         /etc/ingress-controller/ssl/default-fake-certificate.pem;`,
      `${TAB}${TAB}ssl_certificate_key                     /etc/ingress-controller/ssl/default-fake-certificate.pem;`,
      '',
      `${TAB}${TAB}ssl_certificate_by_lua_block {`,
      `${TAB}${TAB}${TAB}certificate.call()`,
      `${TAB}${TAB}}`,
      '',
    );
  }
  for (const loc of server.locations) out.push(...location(server, loc));
  if (host === '_' && !server.locations.some((l) => l.path === '/')) {
    out.push(
      `${TAB}${TAB}location / {`,
      `${TAB}${TAB}${TAB}set $proxy_upstream_name    "upstream-default-backend";`,
      `${TAB}${TAB}${TAB}proxy_pass http://upstream_balancer;`,
      `${TAB}${TAB}}`,
      '',
    );
  }
  if (host === '_') {
    out.push(
      `${TAB}${TAB}# health checks in cloud providers require the use of port 80`,
      `${TAB}${TAB}location /healthz {`,
      `${TAB}${TAB}${TAB}access_log off;`,
      `${TAB}${TAB}${TAB}return 200;`,
      `${TAB}${TAB}}`,
      '',
      `${TAB}${TAB}location /nginx_status {`,
      `${TAB}${TAB}${TAB}allow 127.0.0.1;`,
      `${TAB}${TAB}${TAB}deny all;`,
      `${TAB}${TAB}${TAB}access_log off;`,
      `${TAB}${TAB}${TAB}stub_status on;`,
      `${TAB}${TAB}}`,
      '',
    );
  }
  out.push(`${TAB}}`, `${TAB}## end server ${host}`, '');
  return out;
}

/** /etc/nginx/nginx.conf of an ingress-nginx 0.25 controller serving `config`. */
export function renderNginxConf(config: IngressConfig): string {
  const hosts = [...config.servers.keys()].filter((h) => h !== '_').sort();
  const catchAll = config.servers.get('_') ?? { host: '_', locations: [], useRegex: false };
  const lines = [
    '',
    '# Configuration checksum: 0',
    '',
    '# setup custom paths that do not require root access',
    'pid /tmp/nginx.pid;',
    '',
    'daemon off;',
    '',
    'worker_processes 2;',
    '',
    'worker_rlimit_nofile 15360;',
    '',
    'worker_shutdown_timeout 10s ;',
    '',
    'events {',
    `${TAB}multi_accept        on;`,
    `${TAB}worker_connections  16384;`,
    `${TAB}use                 epoll;`,
    '}',
    '',
    'http {',
    `${TAB}lua_package_path      "/usr/local/openresty/site/lualib/?.ljbc;/usr/local/openresty/site/lualib/?/init.ljbc;/usr/local/openresty/lualib/?.ljbc;/usr/local/openresty/lualib/?/init.ljbc;/usr/local/openresty/site/lualib/?.lua;/usr/local/openresty/site/lualib/?/init.lua;/usr/local/openresty/lualib/?.lua;/usr/local/openresty/lualib/?/init.lua;./?.lua;/usr/local/openresty/luajit/share/luajit-2.1.0-beta3/?.lua;/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;/usr/local/openresty/luajit/share/lua/5.1/?.lua;/usr/local/openresty/luajit/share/lua/5.1/?/init.lua;/usr/local/lib/lua/?.lua;;";`,
    '',
    `${TAB}init_by_lua_block {`,
    `${TAB}${TAB}balancer = require("balancer")`,
    `${TAB}${TAB}certificate = require("certificate")`,
    `${TAB}${TAB}monitor = require("monitor")`,
    `${TAB}}`,
    '',
    `${TAB}server_tokens on;`,
    '',
    `${TAB}upstream upstream_balancer {`,
    `${TAB}${TAB}server 0.0.0.1; # placeholder`,
    '',
    `${TAB}${TAB}balancer_by_lua_block {`,
    `${TAB}${TAB}${TAB}balancer.balance()`,
    `${TAB}${TAB}}`,
    '',
    `${TAB}${TAB}keepalive 32;`,
    `${TAB}}`,
    '',
    ...serverBlock(catchAll),
    ...hosts.flatMap((h) => serverBlock(config.servers.get(h)!)),
    `${TAB}# default server, used for NGINX healthcheck and access to nginx stats`,
    `${TAB}server {`,
    `${TAB}${TAB}listen 18080 default_server reuseport backlog=511;`,
    `${TAB}${TAB}set $proxy_upstream_name "internal";`,
    '',
    `${TAB}${TAB}location /healthz {`,
    `${TAB}${TAB}${TAB}access_log off;`,
    `${TAB}${TAB}${TAB}return 200;`,
    `${TAB}${TAB}}`,
    `${TAB}}`,
    '}',
    '',
  ];
  return lines.join('\n');
}
