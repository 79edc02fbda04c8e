// The chain-name hash in JavaScript (src/proxy/iptables/sha256.ts) against node:crypto's
// (src/proxy/name-hash.ts) on strings of every length a message block boundary can fall at.
import test from 'ava';
import { sha256Base32 as cryptoBase32 } from '../../../src/proxy/name-hash.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { endpointChainHash, sha256Base32 } from '../../../src/proxy/iptables/sha256.ts';

test('equals node:crypto on random ASCII strings of length 0-200', (t) => {
  const r = seededRandom(7);
  for (let n = 0; n <= 200; n++) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(32 + Math.floor(r() * 95));
    t.is(sha256Base32(s, 2), cryptoBase32(s, 2), JSON.stringify(s));
    t.is(sha256Base32(s, 1, 'KUBE-SEP-'), 'KUBE-SEP-' + cryptoBase32(s, 1));
    // The 16-character names are written from character codes (their own path).
    t.is(sha256Base32(s, 2, 'KUBE-SEP-'), 'KUBE-SEP-' + cryptoBase32(s, 2));
    t.is(sha256Base32(s, 2, 'KUBE-X-'), 'KUBE-X-' + cryptoBase32(s, 2));
  }
});

test('kube-proxy names and non-ASCII input', (t) => {
  t.is(sha256Base32('default/kubernetes:httpstcp', 2), 'NPX46M4PTMTKRN6Y');
  t.is(sha256Base32('ns/ü:p tcp', 2), cryptoBase32('ns/ü:p tcp', 2));
});

test('endpoint chain names: the message written from its parts equals the joined string', (t) => {
  const r = seededRandom(11);
  const ports = [0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535];
  for (let n = 0; n <= 130; n++) {
    let head = '';
    for (let i = 0; i < n; i++) head += String.fromCharCode(32 + Math.floor(r() * 95));
    const ip = `${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.0.${Math.floor(r() * 256)}`;
    const port = ports[n % ports.length]!;
    const want = 'KUBE-SEP-' + cryptoBase32(`${head}${ip}:${port}`, 2);
    t.is(endpointChainHash(head, ip, port), want, JSON.stringify([head, ip, port]));
  }
  // Non-ASCII text and ports outside 0-65535 take node:crypto's path.
  t.is(
    endpointChainHash('ns/ü:ptcp', '10.0.0.1', 80),
    'KUBE-SEP-' + cryptoBase32('ns/ü:ptcp10.0.0.1:80', 2),
  );
  t.is(
    endpointChainHash('ns/a:ptcp', '10.0.0.1', 123456),
    'KUBE-SEP-' + cryptoBase32('ns/a:ptcp10.0.0.1:123456', 2),
  );
});
