// nginx's basic auth hashes: every crypt(3) scheme glibc knows, nginx's own ({PLAIN},
// {SHA}, {SSHA}, $apr1$) and bcrypt, checked against what openssl passwd, htpasswd and
// glibc's crypt(3) (through Python) wrote; an unknown or empty hash matches nothing.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  SHA_CRYPT_MAX_ROUNDS,
  md5Crypt,
  parseHtpasswd,
  shaCrypt,
  verifyHash,
  verifyUser,
} from '../../src/ingress/htpasswd.ts';

// Written by `openssl passwd -1|-5|-6|-apr1 -salt Qx9/zZ hunter2`, glibc crypt(3) (DES,
// rounds=) and `htpasswd -nbB -C 4` / `-nbs`.
const HUNTER2: Array<[string, string]> = [
  ['$1$ (MD5-crypt)', '$1$Qx9/zZ$n6l1MzRJRUwcaCM0D2r8B0'],
  ['$5$ (SHA-256-crypt)', '$5$Qx9/zZ$jrzkJOi4yrMulMYVmFYdKHIlUie/VDbZxnaHi6Lf.G/'],
  [
    '$6$ (SHA-512-crypt)',
    '$6$Qx9/zZ$yYUj7hxjyecsZ/KDkDgJeXa1gW9j.pfdwOElMYRy/CiGtL21yOU9X00CBsyu9FTdExVwAPXVoZYKrGRHC8qnF/',
  ],
  [
    '$6$ with rounds=2000',
    '$6$rounds=2000$xy$sk1hIpW5Uco4bW/Dwp3Sx6PrkAXWHVGvPuDO7Ei8428lzelNfWRBumZz1t.qjOxHV.KoG3KciKOcbj2GZ4VVl/',
  ],
  ['$5$ with rounds=1000', '$5$rounds=1000$abc$9tsAdlnn66OlLc9naP1yNWeD/dh1NeUQtxsinFtPDP2'],
  ['$apr1$', '$apr1$Qx9/zZ$/CUoWh6VAX6.Y9bCKZGxy0'],
  ['DES', 'QxzQhWzsPWjE.'],
  ['bcrypt $2y$', '$2y$04$RnLw3RQ.3GW8snysZSNyCu8N0prgiJVUlq8KKQXXujxkXJxs17.dq'],
  ['{SHA}', '{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0='],
  ['{PLAIN}', '{PLAIN}hunter2'],
  [
    '{SSHA}',
    `{SSHA}${Buffer.concat([createHash('sha1').update('hunter2').update('salt').digest(), Buffer.from('salt')]).toString('base64')}`,
  ],
];

for (const [name, hash] of HUNTER2) {
  test(`${name}: the right password matches, a wrong one does not`, (t) => {
    t.true(verifyHash('hunter2', hash), hash);
    t.false(verifyHash('hunter3', hash));
    t.false(verifyHash('', hash));
  });
}

test('the hash itself is no password, for any scheme, known or not', (t) => {
  for (const [, hash] of HUNTER2) t.false(verifyHash(hash, hash), hash);
  // Shapes svclab compared as plain text before: unknown schemes and malformed hashes.
  for (const hash of ['$6$abc$xyz', '$5$x$y', '$y$j9T$abc$def', '$7$abc', 'plaintext', '$1$x'])
    t.false(verifyHash(hash, hash), hash);
});

test('an empty hash matches no password (an empty one neither) and warns', (t) => {
  const warnings: string[] = [];
  t.false(verifyHash('', '', (m) => warnings.push(m)));
  t.false(verifyUser(parseHtpasswd('user:\n'), 'user', '', (m) => warnings.push(m)));
  t.deepEqual(warnings, ['empty hash', 'user "user": empty hash']);
});

test('an unknown scheme warns; a known one does not', (t) => {
  const warnings: string[] = [];
  t.false(verifyHash('x', '$y$j9T$salt$hash', (m) => warnings.push(m)));
  t.true(verifyHash('hunter2', HUNTER2[0]![1], (m) => warnings.push(m)));
  t.is(warnings.length, 1);
  t.regex(warnings[0]!, /unknown hash scheme/);
});

test('SHA-crypt rounds and bcrypt costs beyond the limits are refused, not computed', (t) => {
  const warnings: string[] = [];
  const huge = `$6$rounds=999999999$salt$${'a'.repeat(86)}`;
  const t0 = Date.now();
  t.false(verifyHash('x', huge, (m) => warnings.push(m)));
  t.true(Date.now() - t0 < 1000);
  t.is(shaCrypt('x', `$5$rounds=${SHA_CRYPT_MAX_ROUNDS + 1}$s`), undefined);
  t.false(verifyHash('x', `$2y$31$${'a'.repeat(53)}`, (m) => warnings.push(m)));
  t.is(warnings.length, 2);
});

test('md5Crypt and shaCrypt agree with the tools where they are installed', (t) => {
  const passwords = ['pw', 'a password longer than sixteen bytes', 'ünï', 'x'.repeat(80)];
  let checked = 0;
  for (const pw of passwords) {
    for (const [flag, salt] of [
      ['-1', 'abcdefgh'],
      ['-5', 'saltsaltsaltsalt'],
      ['-6', 'rounds=1500$s4lt'],
      ['-apr1', 'x/y.z'],
    ] as const) {
      let want: string;
      try {
        want = execFileSync('openssl', ['passwd', flag, '-salt', salt, pw]).toString().trim();
      } catch {
        continue;
      }
      const got =
        flag === '-1'
          ? md5Crypt(pw, salt, '$1$')
          : flag === '-apr1'
            ? md5Crypt(pw, salt, '$apr1$')
            : shaCrypt(pw, `$${flag.slice(1)}$${salt}`);
      t.is(got, want, `${flag} ${pw}`);
      checked++;
    }
  }
  if (checked === 0) t.log('openssl is not installed: checked against the fixed vectors only');
  t.true(verifyHash('pw', md5Crypt('pw', 'abc', '$1$')));
});
