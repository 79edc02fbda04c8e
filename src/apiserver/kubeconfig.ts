// The kubeconfig that points kubectl at a live svclab cluster: one cluster, one user
// with the bearer token, one context (namespace default), the CA inline so kubectl
// verifies the server without extra flags. Written 0600 in a 0700
// directory whatever the umask, replaced atomically.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigOptions {
  server: string;
  token: string;
  /** PEM of the CA that signed the server's certificate. */
  caPem: string;
  /** Cluster, user and context names (default svclab). */
  name?: string;
}

export function kubeconfigText(o: KubeconfigOptions): string {
  const name = o.name ?? 'svclab';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: o.server,
          'certificate-authority-data': Buffer.from(o.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name: `${name}-admin`, user: { token: o.token } }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin`, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
}

/** A fresh credential: 32 random bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Write `text` to `path` as 0600 (its folder made 0700 if missing), atomically. */
export function writePrivateFile(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // the umask may have taken bits away, never added: make sure
  renameSync(tmp, path);
}
