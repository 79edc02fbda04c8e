import test from 'ava';
import { spawnSync } from 'node:child_process';
import type { Ingress, Secret } from '../../src/api/types.ts';
import { buildIngressConfig } from '../../src/ingress/config.ts';
import { type IngressRequest, routeRequest } from '../../src/ingress/route.ts';

function ingress(
  name: string,
  rules: {
    host?: string;
    path?: string;
    pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
    svc: string;
  }[],
  annotations: Record<string, string> = {},
  tls?: { hosts: string[]; secretName: string }[],
  created = 0,
): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', annotations, creationTimestamp: created },
    spec: {
      ...(tls ? { tls } : {}),
      rules: rules.map((r) => ({
        ...(r.host ? { host: r.host } : {}),
        http: {
          paths: [
            {
              path: r.path ?? '/',
              pathType: r.pathType ?? 'ImplementationSpecific',
              backend: { service: { name: r.svc, port: { number: 80 } } },
            },
          ],
        },
      })),
    },
  };
}

// `htpasswd -nbm foo bar` (apr1), fixed so the test does not need the tool.
const FOO_BAR = 'foo:$apr1$7kiB.6EZ$WuHuHtwxwMosQs8cytgEw/';
const secrets = new Map<string, Secret>([
  [
    'basic-auth',
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'basic-auth', namespace: 'default' },
      type: 'Opaque',
      data: { auth: Buffer.from(`${FOO_BAR}\n`) },
    },
  ],
  [
    'tls-secret',
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'tls-secret', namespace: 'default' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from('CERT'), 'tls.key': Buffer.from('KEY') },
    },
  ],
]);
const lookup = (_ns: string, name: string) => secrets.get(name);

// The seed's Ingresses: virtual hosts, HTTPS, basic auth, rewrite.
const seed = buildIngressConfig(
  [
    ingress('ingress1', [{ host: 'www1.atguigu.com', svc: 'svc-1' }]),
    ingress('ingress2', [{ host: 'www2.atguigu.com', svc: 'svc-2' }]),
    ingress('https', [{ host: 'www3.atguigu.com', svc: 'svc-3' }], {}, [
      { hosts: ['www3.atguigu.com'], secretName: 'tls-secret' },
    ]),
    ingress('ingress-with-auth', [{ host: 'auth.atguigu.com', svc: 'svc-1' }], {
      'nginx.ingress.kubernetes.io/auth-type': 'basic',
      'nginx.ingress.kubernetes.io/auth-secret': 'basic-auth',
      'nginx.ingress.kubernetes.io/auth-realm': 'Authentication Required - foo',
    }),
    ingress('nginx-test', [{ host: 're.atguigu.com', svc: 'svc-1' }], {
      'nginx.ingress.kubernetes.io/rewrite-target': 'https://www3.atguigu.com:31401/hostname.html',
    }),
  ],
  lookup,
);

const req = (host: string, uri = '/', extra: Partial<IngressRequest> = {}): IngressRequest => ({
  scheme: 'http',
  host,
  uri,
  headers: {},
  ...extra,
});

test('virtual hosts route by Host header (port ignored)', (t) => {
  t.like(routeRequest(seed, req('www1.atguigu.com:32510')), {
    kind: 'proxy',
    service: { name: 'svc-1', port: 80 },
  });
  t.like(routeRequest(seed, req('www2.atguigu.com')), {
    kind: 'proxy',
    service: { name: 'svc-2' },
  });
});

test('an unknown host gets the default backend: nginx 404 page', (t) => {
  const d = routeRequest(seed, req('nope.atguigu.com'));
  t.like(d, { kind: 'respond', status: 404 });
  t.true(d.kind === 'respond' && d.body.includes('<center><h1>404 Not Found</h1></center>\r\n'));
});

test('a TLS host redirects plain HTTP with 308 and proxies HTTPS', (t) => {
  t.like(routeRequest(seed, req('www3.atguigu.com:32510', '/hostname.html')), {
    kind: 'respond',
    status: 308,
    headers: { Location: 'https://www3.atguigu.com/hostname.html' },
  });
  t.like(routeRequest(seed, req('www3.atguigu.com:31401', '/', { scheme: 'https' })), {
    kind: 'proxy',
    service: { name: 'svc-3' },
  });
});

test('basic auth: 401 with the realm without or with wrong credentials, proxied with the right ones', (t) => {
  const none = routeRequest(seed, req('auth.atguigu.com'));
  t.like(none, {
    status: 401,
    headers: { 'WWW-Authenticate': 'Basic realm="Authentication Required - foo"' },
  });
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  t.like(
    routeRequest(
      seed,
      req('auth.atguigu.com', '/', { headers: { authorization: basic('foo', 'wrong') } }),
    ),
    {
      status: 401,
    },
  );
  t.like(
    routeRequest(
      seed,
      req('auth.atguigu.com', '/', { headers: { authorization: basic('foo', 'bar') } }),
    ),
    {
      kind: 'proxy',
      service: { name: 'svc-1' },
    },
  );
});

test('rewrite-target with a URL makes nginx answer 302 to it (the seed: re → www3)', (t) => {
  t.like(routeRequest(seed, req('re.atguigu.com:32510', '/')), {
    kind: 'respond',
    status: 302,
    headers: { Location: 'https://www3.atguigu.com:31401/hostname.html' },
  });
});

test('rewrite-target with captures rewrites the upstream URI, keeping the query', (t) => {
  const cfg = buildIngressConfig(
    [
      ingress('rw', [{ host: 'a.example', path: '/something(/|$)(.*)', svc: 'web' }], {
        'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
      }),
    ],
    lookup,
  );
  t.like(routeRequest(cfg, req('a.example', '/something/new/x?y=1')), {
    upstreamUri: '/new/x?y=1',
  });
  t.like(routeRequest(cfg, req('a.example', '/something')), { upstreamUri: '/' });
  t.like(routeRequest(cfg, req('a.example', '/other')), { status: 404 });
});

test('path types: Exact, Prefix element-wise, ImplementationSpecific string prefix; longest wins', (t) => {
  const cfg = buildIngressConfig(
    [
      ingress('p', [
        { host: 'h', path: '/foo', pathType: 'Prefix', svc: 'prefix' },
        { host: 'h', path: '/foo/bar', pathType: 'Exact', svc: 'exact' },
        { host: 'h', path: '/imp', pathType: 'ImplementationSpecific', svc: 'imp' },
        { host: 'h', path: '/', pathType: 'Prefix', svc: 'root' },
      ]),
    ],
    lookup,
  );
  const svc = (uri: string) => {
    const d = routeRequest(cfg, req('h', uri));
    return d.kind === 'proxy' ? d.service.name : d.status;
  };
  t.is(svc('/foo'), 'prefix');
  t.is(svc('/foo/'), 'prefix');
  t.is(svc('/foo/bar'), 'exact');
  t.is(svc('/foo/bar/baz'), 'prefix');
  t.is(svc('/foobar'), 'root');
  t.is(svc('/impx'), 'imp');
});

test('the oldest Ingress wins a host+path conflict', (t) => {
  const cfg = buildIngressConfig(
    [
      ingress('young', [{ host: 'h', svc: 'young' }], {}, undefined, 20),
      ingress('old', [{ host: 'h', svc: 'old' }], {}, undefined, 10),
    ],
    lookup,
  );
  t.like(routeRequest(cfg, req('h')), { service: { name: 'old' } });
});

test('a missing auth secret answers 503 rather than letting requests through', (t) => {
  const cfg = buildIngressConfig(
    [
      ingress('x', [{ host: 'h', svc: 's' }], {
        'nginx.ingress.kubernetes.io/auth-type': 'basic',
        'nginx.ingress.kubernetes.io/auth-secret': 'missing',
      }),
    ],
    lookup,
  );
  t.like(routeRequest(cfg, req('h')), { status: 503 });
});

const htpasswd = spawnSync('htpasswd', ['-nbB', 'alice', 's3cret'], { encoding: 'utf8' });
(htpasswd.error ? test.skip : test)(
  'hashes made by the real htpasswd verify (apr1, bcrypt, sha1, crypt)',
  async (t) => {
    const { parseHtpasswd, verifyUser } = await import('../../src/ingress/htpasswd.ts');
    for (const flag of ['-nbm', '-nbB', '-nbs', '-nbd']) {
      const out = spawnSync('htpasswd', [flag, 'alice', 's3cret'], { encoding: 'utf8' }).stdout;
      const file = parseHtpasswd(out);
      t.true(verifyUser(file, 'alice', 's3cret'), `${flag}: ${out.trim()}`);
      t.false(verifyUser(file, 'alice', 'nope'), flag);
    }
  },
);
