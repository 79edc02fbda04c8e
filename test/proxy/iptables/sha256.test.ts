// The chain-name hash in JavaScript (src/proxy/iptables/sha256.ts) against node:crypto's
// (src/proxy/name-hash.ts) on strings of every length a message block boundary can fall at.
import test from 'ava';
import { sha256Base32 as cryptoBase32 } from '../../../src/proxy/name-hash.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { sha256Base32 } from '../../../src/proxy/iptables/sha256.ts';

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
