// Ingress objects → the nginx servers and locations ingress-nginx renders into nginx.conf:
// one server per host (rules without a host go to the catch-all server "_"), locations
// sorted longest path first, annotations applied per location. Conflicting host+path pairs
// go to the oldest Ingress, as ingress-nginx does.
import type { Ingress, Secret } from '../api/types.ts';
import { type HtpasswdFile, parseHtpasswd } from './htpasswd.ts';

const A = 'nginx.ingress.kubernetes.io/';

export interface BasicAuth {
  realm: string;
  users: HtpasswdFile;
  /** Set when the secret is missing or unreadable: nginx then answers 503 for the location. */
  error?: string;
}

export interface Location {
  path: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  ingress: string;
  namespace: string;
  service?: { name: string; port: number | string };
  rewriteTarget?: string;
  auth?: BasicAuth;
  permanentRedirect?: string;
  appRoot?: string;
  sslRedirect: boolean;
  forceSslRedirect: boolean;
}

export interface Server {
  host: string;
  locations: Location[];
  /** ingress-nginx turns every location of a host into a regex once one needs it. */
  useRegex: boolean;
  tls?: { secretName?: string; certificate?: Uint8Array; key?: Uint8Array; error?: string };
}

export interface IngressConfig {
  servers: Map<string, Server>;
}

export type SecretLookup = (namespace: string, name: string) => Secret | undefined;

function basicAuth(ing: Ingress, secrets: SecretLookup): BasicAuth | undefined {
  const ann = ing.metadata.annotations ?? {};
  if (ann[`${A}auth-type`] !== 'basic') return undefined;
  const realm = ann[`${A}auth-realm`] ?? '';
  const ref = ann[`${A}auth-secret`] ?? '';
  const ns = ing.metadata.namespace ?? 'default';
  const [secretNs, secretName] = ref.includes('/') ? ref.split('/', 2) : [ns, ref];
  const secret = secrets(secretNs ?? ns, secretName ?? '');
  if (secret === undefined) {
    return { realm, users: new Map(), error: `secret ${secretNs}/${secretName} not found` };
  }
  // auth-secret-type auth-file (default): key "auth" holds an htpasswd file;
  // auth-map: each key is a user, each value its hash.
  if (ann[`${A}auth-secret-type`] === 'auth-map') {
    const users: HtpasswdFile = new Map();
    for (const [user, hash] of Object.entries(secret.data)) {
      users.set(user, Buffer.from(hash).toString('utf8').trim());
    }
    return { realm, users };
  }
  const file = secret.data.auth;
  if (file === undefined) return { realm, users: new Map(), error: 'secret has no "auth" key' };
  return { realm, users: parseHtpasswd(Buffer.from(file).toString('utf8')) };
}

const truthy = (v: string | undefined, dflt: boolean): boolean =>
  v === undefined ? dflt : v.toLowerCase() === 'true';

export function buildIngressConfig(ingresses: Ingress[], secrets: SecretLookup): IngressConfig {
  const servers = new Map<string, Server>();
  const server = (host: string): Server => {
    let s = servers.get(host);
    if (s === undefined) {
      s = { host, locations: [], useRegex: false };
      servers.set(host, s);
    }
    return s;
  };
  const ordered = [...ingresses].sort(
    (a, b) =>
      (a.metadata.creationTimestamp ?? 0) - (b.metadata.creationTimestamp ?? 0) ||
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
  );
  for (const ing of ordered) {
    const ann = ing.metadata.annotations ?? {};
    const ns = ing.metadata.namespace ?? 'default';
    const rewriteTarget = ann[`${A}rewrite-target`];
    const useRegex = truthy(ann[`${A}use-regex`], false) || rewriteTarget !== undefined;
    const auth = basicAuth(ing, secrets);
    const tlsHosts = new Map<string, string | undefined>();
    for (const t of ing.spec.tls ?? [])
      for (const h of t.hosts ?? []) tlsHosts.set(h, t.secretName);
    for (const [host, secretName] of tlsHosts) {
      const s = server(host);
      if (s.tls !== undefined) continue;
      const secret = secretName ? secrets(ns, secretName) : undefined;
      const cert = secret?.data['tls.crt'];
      const key = secret?.data['tls.key'];
      s.tls =
        cert && key
          ? { ...(secretName ? { secretName } : {}), certificate: cert, key }
          : // ingress-nginx falls back to its self-signed "Fake Certificate".
            {
              ...(secretName ? { secretName } : {}),
              error: `secret ${ns}/${secretName} missing tls.crt/tls.key`,
            };
    }
    const rules = ing.spec.rules ?? [];
    const backendOnly = rules.length === 0 && ing.spec.defaultBackend !== undefined;
    const paths = backendOnly
      ? [{ host: '_', path: '/', pathType: 'Prefix' as const, backend: ing.spec.defaultBackend! }]
      : rules.flatMap((r) =>
          (r.http?.paths ?? []).map((p) => ({
            host: r.host || '_',
            path: p.path || '/',
            pathType: p.pathType,
            backend: p.backend,
          })),
        );
    for (const p of paths) {
      const s = server(p.host);
      if (useRegex) s.useRegex = true;
      if (s.locations.some((l) => l.path === p.path && l.pathType === p.pathType)) continue;
      const svc = p.backend.service;
      const port = svc?.port.number ?? svc?.port.name;
      s.locations.push({
        path: p.path,
        pathType: p.pathType,
        ingress: ing.metadata.name,
        namespace: ns,
        ...(svc && port !== undefined ? { service: { name: svc.name, port } } : {}),
        ...(rewriteTarget !== undefined ? { rewriteTarget } : {}),
        ...(auth ? { auth } : {}),
        ...(ann[`${A}permanent-redirect`]
          ? { permanentRedirect: ann[`${A}permanent-redirect`] }
          : {}),
        ...(ann[`${A}app-root`] ? { appRoot: ann[`${A}app-root`] } : {}),
        sslRedirect: truthy(ann[`${A}ssl-redirect`], true),
        forceSslRedirect: truthy(ann[`${A}force-ssl-redirect`], false),
      });
    }
  }
  for (const s of servers.values()) s.locations.sort((a, b) => b.path.length - a.path.length);
  return { servers };
}
