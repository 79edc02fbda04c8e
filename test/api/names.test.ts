import test from 'ava';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortName,
  isWildcardDNS1123Subdomain,
} from '../../src/api/names.ts';

type Check = (v: string) => string[];

const table: [string, Check, string, boolean][] = [
  ['DNS-1035', isDNS1035Label, 'myapp', true],
  ['DNS-1035', isDNS1035Label, 'my-service-1', true],
  ['DNS-1035', isDNS1035Label, '1svc', false],
  ['DNS-1035', isDNS1035Label, 'svc-', false],
  ['DNS-1035', isDNS1035Label, 'Svc', false],
  ['DNS-1035', isDNS1035Label, 'a.b', false],
  ['DNS-1035', isDNS1035Label, 'a'.repeat(63), true],
  ['DNS-1035', isDNS1035Label, 'a'.repeat(64), false],
  ['DNS-1123 label', isDNS1123Label, '1svc', true],
  ['DNS-1123 label', isDNS1123Label, 'kube-system', true],
  ['DNS-1123 label', isDNS1123Label, '-a', false],
  ['DNS-1123 label', isDNS1123Label, 'a_b', false],
  ['subdomain', isDNS1123Subdomain, 'www1.atguigu.com', true],
  ['subdomain', isDNS1123Subdomain, 'myapp-deploy', true],
  ['subdomain', isDNS1123Subdomain, 'a..b', false],
  ['subdomain', isDNS1123Subdomain, '.a', false],
  ['subdomain', isDNS1123Subdomain, 'A.com', false],
  [
    'subdomain',
    isDNS1123Subdomain,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`,
    true,
  ],
  [
    'subdomain',
    isDNS1123Subdomain,
    `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
    false,
  ],
  ['wildcard', isWildcardDNS1123Subdomain, '*.atguigu.com', true],
  ['wildcard', isWildcardDNS1123Subdomain, '*.*.com', false],
  ['wildcard', isWildcardDNS1123Subdomain, 'a*.com', false],
  ['port name', isValidPortName, 'http', true],
  ['port name', isValidPortName, 'http-alt2', true],
  ['port name', isValidPortName, '8080', false],
  ['port name', isValidPortName, 'HTTP', false],
  ['port name', isValidPortName, 'a--b', false],
  ['port name', isValidPortName, '-http', false],
  ['port name', isValidPortName, 'abcdefghijklmnop', false],
  ['qualified name', isQualifiedName, 'app', true],
  ['qualified name', isQualifiedName, 'kubernetes.io/service-name', true],
  ['qualified name', isQualifiedName, 'nginx.ingress.kubernetes.io/auth-type', true],
  ['qualified name', isQualifiedName, 'My_Key.1', true],
  ['qualified name', isQualifiedName, '/app', false],
  ['qualified name', isQualifiedName, 'Example.com/app', false],
  ['qualified name', isQualifiedName, 'a/b/c', false],
  ['label value', isValidLabelValue, '', true],
  ['label value', isValidLabelValue, 'stabel', true],
  ['label value', isValidLabelValue, '1.0_rc-1', true],
  ['label value', isValidLabelValue, '-x', false],
  ['label value', isValidLabelValue, 'a b', false],
  ['config key', isConfigMapKey, 'tls.crt', true],
  ['config key', isConfigMapKey, '.dockerconfigjson', true],
  ['config key', isConfigMapKey, '..data', false],
  ['config key', isConfigMapKey, 'a/b', false],
  ['IP', isValidIP, '10.96.0.10', true],
  ['IP', isValidIP, '2001:db8::1', true],
  ['IP', isValidIP, '10.96.0.256', false],
  ['IP', isValidIP, '010.96.0.1', false],
  ['IP', isValidIP, 'localhost', false],
  ['CIDR', isValidCIDR, '10.244.0.0/16', true],
  ['CIDR', isValidCIDR, '2001:db8::/64', true],
  ['CIDR', isValidCIDR, '10.244.0.0/33', false],
  ['CIDR', isValidCIDR, '10.244.0.0', false],
];

for (const [kind, check, value, valid] of table) {
  test(`${kind}: ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)} is ${valid ? 'valid' : 'invalid'}`, (t) => {
    t.is(check(value).length === 0, valid, check(value).join('; '));
  });
}

test('messages are the API server’s, several at once', (t) => {
  t.deepEqual(isValidPortName('-HTTP-'), [
    'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)',
    'must contain at least one letter (a-z)',
    'must not begin or end with a hyphen',
  ]);
  t.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
  t.deepEqual(isQualifiedName('/x'), ['prefix part must be non-empty']);
});
