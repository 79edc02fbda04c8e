import test from 'ava';
import fc from 'fast-check';
import { parseManifestText } from '../../src/api/load.ts';
import { base64ErrorOffset } from '../../src/api/secret-data.ts';
import type { Secret } from '../../src/api/types.ts';

function secretOf(yaml: string): Secret {
  const r = parseManifestText(yaml, 'secret.yaml');
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  return r.objects[0] as Secret;
}

const text = (b: Uint8Array | undefined): string => new TextDecoder().decode(b);

test('data is base64 and decodes to bytes', (t) => {
  const s = secretOf(`apiVersion: v1
kind: Secret
metadata: {name: basic-auth}
data:
  auth: Zm9vOiRhcHIxJHh5eg==
  raw: AP8Q
`);
  t.is(s.type, 'Opaque');
  t.is(text(s.data['auth']), 'foo:$apr1$xyz');
  t.deepEqual([...(s.data['raw'] ?? [])], [0x00, 0xff, 0x10]);
  t.true(s.data['raw'] instanceof Uint8Array);
});

test('stringData is plain text, merged over data, and dropped', (t) => {
  const s = secretOf(`apiVersion: v1
kind: Secret
metadata: {name: tls-secret}
type: kubernetes.io/tls
data:
  tls.crt: b2xk
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\n"
  tls.key: 密钥
`);
  t.is(s.type, 'kubernetes.io/tls');
  t.is(text(s.data['tls.crt']), '-----BEGIN CERTIFICATE-----\n');
  t.is(text(s.data['tls.key']), '密钥');
  t.false('stringData' in s);
});

test('base64 with line breaks decodes, as Go ignores CR and LF', (t) => {
  const s = secretOf(
    'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  k: |\n    aGVs\n    bG8=\n',
  );
  t.is(text(s.data['k']), 'hello');
});

test('bad base64 is reported with the byte offset Go reports', (t) => {
  const r = parseManifestText(
    'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  good: aGk=\n  bad: "aGk*"\n  short: aGk\n',
    'secret.yaml',
  );
  t.deepEqual(r.ok ? [] : r.errors.map((e) => e.format()), [
    'secret.yaml:6:8 data[bad]: illegal base64 data at input byte 3',
    'secret.yaml:7:10 data[short]: illegal base64 data at input byte 0',
  ]);
});

test('a bad key in stringData points at stringData', (t) => {
  const r = parseManifestText(
    'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  "a b": x\n',
    'secret.yaml',
  );
  t.deepEqual(r.ok ? [] : r.errors.map((e) => e.format()), [
    `secret.yaml:5:10 data[a b]: Invalid value: "a b": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
  ]);
});

// Offsets from Go's encoding/base64 StdEncoding.DecodeString (CorruptInputError).
const goOffsets: [string, number][] = [
  ['', -1],
  ['aGVsbG8=', -1],
  ['aGVsbA==', -1],
  ['aGVsbG8', 4], // missing padding: the incomplete quantum's start
  ['a', 0],
  ['aGVsbA=', 7], // "==" expected, input ends
  ['aGVsbA=x', 6],
  ['aGVs=G8=', 4], // padding in the first place of a quantum
  ['aGVsbG8=aGVs', 8], // data after padding
  ['aGV\nsbG8=', -1],
  ['aGV sbG8=', 3],
  ['aGVsbG8=\n', -1],
];

for (const [input, want] of goOffsets) {
  test(`base64 error offset of ${JSON.stringify(input)} is ${want}`, (t) => {
    t.is(base64ErrorOffset(input), want);
  });
}

test('every Buffer-encoded byte string decodes back (property)', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      const b64 = Buffer.from(bytes).toString('base64');
      return base64ErrorOffset(b64) === -1;
    }),
  );
  t.pass();
});
