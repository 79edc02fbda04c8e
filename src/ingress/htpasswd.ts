// htpasswd files as nginx's auth_basic_user_file reads them (ingress-nginx basic auth):
// one `user:hash` per line. nginx (ngx_crypt.c) checks {PLAIN}, {SHA}, {SSHA} and $apr1$
// itself and hands every other hash to the system's crypt(3); on glibc (libxcrypt) that
// knows $1$ (MD5), $5$ (SHA-256), $6$ (SHA-512), $2a/b/y$ (bcrypt) and traditional DES.
// A hash of none of these shapes, or an empty one, matches no password (crypt(3) fails,
// nginx answers 401 and logs an error): we do the same and report it through `warn`.
// Work is bounded: SHA-crypt rounds above SHA_CRYPT_MAX_ROUNDS and bcrypt costs above
// BCRYPT_MAX_COST are refused (each would stall the process that checks them).
import crypt from 'apache-crypt';
import bcrypt from 'bcryptjs';
import { createHash, timingSafeEqual } from 'node:crypto';

export type HtpasswdFile = Map<string, string>;

/** The most SHA-crypt rounds a hash may ask for (glibc allows 999,999,999). */
export const SHA_CRYPT_MAX_ROUNDS = 1_000_000;
/** The highest bcrypt cost accepted (htpasswd -C allows 17; each step doubles the work). */
export const BCRYPT_MAX_COST = 12;

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

/** Equal strings, compared in time that depends on their lengths only. */
function same(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

/** crypt(3)'s MD5 ($1$, Poul-Henning Kamp's) and Apache's variant of it ($apr1$). */
export function md5Crypt(password: string, salt: string, magic: '$1$' | '$apr1$'): string {
  const pw = Buffer.from(password);
  const s = Buffer.from(salt.split('$')[0]!.slice(0, 8));
  const md5 = (...parts: Buffer[]) => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let final = md5(pw, s, pw);
  const ctx: Buffer[] = [pw, Buffer.from(magic), s];
  for (let pl = pw.length; pl > 0; pl -= 16) ctx.push(final.subarray(0, Math.min(pl, 16)));
  for (let i = pw.length; i; i >>= 1) ctx.push(i & 1 ? Buffer.alloc(1) : pw.subarray(0, 1));
  final = md5(...ctx);
  for (let i = 0; i < 1000; i++) {
    const c: Buffer[] = [i & 1 ? pw : final];
    if (i % 3) c.push(s);
    if (i % 7) c.push(pw);
    c.push(i & 1 ? final : pw);
    final = md5(...c);
  }
  const f = final;
  const out =
    to64((f[0]! << 16) | (f[6]! << 8) | f[12]!, 4) +
    to64((f[1]! << 16) | (f[7]! << 8) | f[13]!, 4) +
    to64((f[2]! << 16) | (f[8]! << 8) | f[14]!, 4) +
    to64((f[3]! << 16) | (f[9]! << 8) | f[15]!, 4) +
    to64((f[4]! << 16) | (f[10]! << 8) | f[5]!, 4) +
    to64(f[11]!, 2);
  return `${magic}${s.toString()}$${out}`;
}

// The byte order SHA-crypt writes its digest in (Drepper's specification).
const SHA256_ORDER = [
  [0, 10, 20],
  [21, 1, 11],
  [12, 22, 2],
  [3, 13, 23],
  [24, 4, 14],
  [15, 25, 5],
  [6, 16, 26],
  [27, 7, 17],
  [18, 28, 8],
  [9, 19, 29],
];
const SHA512_ORDER = [
  [0, 21, 42],
  [22, 43, 1],
  [44, 2, 23],
  [3, 24, 45],
  [25, 46, 4],
  [47, 5, 26],
  [6, 27, 48],
  [28, 49, 7],
  [50, 8, 29],
  [9, 30, 51],
  [31, 52, 10],
  [53, 11, 32],
  [12, 33, 54],
  [34, 55, 13],
  [56, 14, 35],
  [15, 36, 57],
  [37, 58, 16],
  [59, 17, 38],
  [18, 39, 60],
  [40, 61, 19],
  [62, 20, 41],
];

/**
 * crypt(3)'s SHA-256 ($5$) and SHA-512 ($6$) schemes, as glibc implements Ulrich
 * Drepper's specification: `setting` is `$5$salt`, `$6$rounds=N$salt` … (a full hash is
 * fine too). Undefined when the rounds exceed SHA_CRYPT_MAX_ROUNDS.
 */
export function shaCrypt(password: string, setting: string): string | undefined {
  const m = /^\$([56])\$(?:rounds=(\d{1,10})\$)?([^$]*)/.exec(setting);
  if (m === null) return undefined;
  const alg = m[1] === '5' ? 'sha256' : 'sha512';
  let rounds = 5000;
  const custom = m[2] !== undefined;
  if (custom) rounds = Math.min(999_999_999, Math.max(1000, Number(m[2])));
  if (rounds > SHA_CRYPT_MAX_ROUNDS) return undefined;
  const key = Buffer.from(password);
  const salt = Buffer.from(m[3]!.slice(0, 16));
  const H = (...parts: Buffer[]) => {
    const h = createHash(alg);
    for (const p of parts) h.update(p);
    return h.digest();
  };
  const n = alg === 'sha256' ? 32 : 64;
  const repeatTo = (src: Buffer, len: number) => {
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i += src.length) src.copy(out, i, 0, Math.min(src.length, len - i));
    return out;
  };
  const B = H(key, salt, key);
  const a: Buffer[] = [key, salt, repeatTo(B, key.length)];
  for (let i = key.length; i > 0; i >>= 1) a.push(i & 1 ? B : key);
  const A = H(...a);
  const DP = H(...Array<Buffer>(key.length).fill(key));
  const P = repeatTo(DP, key.length);
  const DS = H(...Array<Buffer>(16 + A[0]!).fill(salt));
  const S = repeatTo(DS, salt.length);
  let C = A;
  for (let i = 0; i < rounds; i++) {
    const h = createHash(alg);
    h.update(i & 1 ? P : C);
    if (i % 3) h.update(S);
    if (i % 7) h.update(P);
    h.update(i & 1 ? C : P);
    C = h.digest();
  }
  let out = '';
  for (const [x, y, z] of n === 32 ? SHA256_ORDER : SHA512_ORDER)
    out += to64((C[x!]! << 16) | (C[y!]! << 8) | C[z!]!, 4);
  out += n === 32 ? to64((C[31]! << 8) | C[30]!, 3) : to64(C[63]!, 2);
  return `$${m[1]}$${custom ? `rounds=${rounds}$` : ''}${salt.toString()}$${out}`;
}

/** Why a stored hash can match no password (unknown scheme, empty, over a work bound). */
export function hashProblem(hash: string): string | undefined {
  if (hash === '') return 'empty hash';
  if (hash.startsWith('{PLAIN}') || hash.startsWith('{SHA}') || hash.startsWith('{SSHA}'))
    return undefined;
  if (/^\$apr1\$[^$]{0,8}\$[./0-9A-Za-z]{22}$/.test(hash)) return undefined;
  if (/^\$1\$[^$]{0,8}\$[./0-9A-Za-z]{22}$/.test(hash)) return undefined;
  const sha = /^\$([56])\$(?:rounds=(\d{1,10})\$)?[^$]{0,16}\$([./0-9A-Za-z]+)$/.exec(hash);
  if (sha !== null) {
    if (sha[3]!.length !== (sha[1] === '5' ? 43 : 86)) return 'malformed SHA-crypt hash';
    if (sha[2] !== undefined && Number(sha[2]) > SHA_CRYPT_MAX_ROUNDS)
      return `SHA-crypt rounds above svclab's limit of ${SHA_CRYPT_MAX_ROUNDS}`;
    return undefined;
  }
  const bc = /^\$2[abxy]\$(\d\d)\$[./0-9A-Za-z]{53}$/.exec(hash);
  if (bc !== null)
    return Number(bc[1]) > BCRYPT_MAX_COST
      ? `bcrypt cost above svclab's limit of ${BCRYPT_MAX_COST}`
      : undefined;
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return undefined; // traditional DES
  return 'unknown hash scheme (nginx: crypt() failed)';
}

/** Checks a password against one stored hash; an unusable hash matches nothing. */
export function verifyHash(
  password: string,
  hash: string,
  warn: (message: string) => void = () => undefined,
): boolean {
  const problem = hashProblem(hash);
  if (problem !== undefined) {
    warn(problem);
    // Still spend a comparison, so an unusable entry answers as fast as a wrong password.
    same(password, `\0${hash}`);
    return false;
  }
  if (hash.startsWith('{PLAIN}')) return same(password, hash.slice('{PLAIN}'.length));
  if (hash.startsWith('{SHA}'))
    return same(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
  if (hash.startsWith('{SSHA}')) {
    // base64(SHA1(password + salt) + salt), as nginx and OpenLDAP write it.
    const raw = Buffer.from(hash.slice('{SSHA}'.length), 'base64');
    if (raw.length <= 20) return false;
    const salt = raw.subarray(20);
    const d = createHash('sha1').update(password).update(salt).digest();
    return timingSafeEqual(d, raw.subarray(0, 20));
  }
  if (hash.startsWith('$apr1$'))
    return same(md5Crypt(password, hash.slice('$apr1$'.length), '$apr1$'), hash);
  if (hash.startsWith('$1$')) return same(md5Crypt(password, hash.slice(3), '$1$'), hash);
  if (hash.startsWith('$5$') || hash.startsWith('$6$'))
    return same(shaCrypt(password, hash) ?? '', hash);
  if (hash.startsWith('$2')) return bcrypt.compareSync(password, hash.replace(/^\$2y\$/, '$2b$'));
  return same(crypt(password, hash), hash);
}

const warned = new Set<string>();

/**
 * Where an unusable hash is reported when the caller gives no `warn`: once per user and
 * hash, on stderr (the lab daemon's log), as nginx writes crypt()'s failure to its error log.
 */
export let hashWarning = (message: string): void => {
  if (warned.size > 10_000 || warned.has(message)) return;
  warned.add(message);
  process.stderr.write(`svclab: warning: htpasswd ${message}\n`);
};

/** Send hash warnings elsewhere (tests, a daemon's logger). */
export function setHashWarning(fn: (message: string) => void): void {
  hashWarning = fn;
}

export function verifyUser(
  file: HtpasswdFile,
  user: string,
  password: string,
  warn: (message: string) => void = hashWarning,
): boolean {
  const hash = file.get(user);
  if (hash === undefined) return false;
  return verifyHash(password, hash, (m) => warn(`user "${user}": ${m}`));
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
