// htpasswd files as nginx's auth_basic_user_file reads them (ingress-nginx basic auth):
// one `user:hash` per line, hashes in Apache's formats — $apr1$ (htpasswd's default),
// bcrypt $2y$ (-B), {SHA} (-s), crypt(3) DES (-d) — and plain text (-p).
import crypt from 'apache-crypt';
import bcrypt from 'bcryptjs';
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

// apache-md5 is CommonJS whose typings claim an ES default export; require it as it is.
const aprMd5 = createRequire(import.meta.url)('apache-md5') as (
  pw: string,
  salt?: string,
) => string;

export type HtpasswdFile = Map<string, string>;

export function parseHtpasswd(text: string): HtpasswdFile {
  const users: HtpasswdFile = new Map();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    users.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return users;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Checks a password against one stored hash. */
export function verifyHash(password: string, hash: string): boolean {
  if (hash.startsWith('$apr1$')) return same(aprMd5(password, hash), hash);
  if (/^\$2[abxy]\$/.test(hash))
    return bcrypt.compareSync(password, hash.replace(/^\$2y\$/, '$2b$'));
  if (hash.startsWith('{SHA}')) {
    return same(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
  }
  if (hash.length === 13 && /^[./0-9A-Za-z]{13}$/.test(hash))
    return same(crypt(password, hash), hash);
  return same(password, hash);
}

export function verifyUser(file: HtpasswdFile, user: string, password: string): boolean {
  const hash = file.get(user);
  return hash !== undefined && verifyHash(password, hash);
}

/** Parses an `Authorization: Basic …` header value. */
export function parseBasicAuth(
  header: string | undefined,
): { user: string; password: string } | undefined {
  const m = /^\s*Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
