// Chain names must be kube-proxy's, hash for hash: users grep real nodes for them.
import test from 'ava';
import {
  isServiceChainName,
  serviceExternalChainName,
  serviceFirewallChainName,
  servicePortEndpointChainName,
  servicePortPolicyClusterChain,
  servicePortPolicyLocalChainName,
} from '../../../src/proxy/iptables/chain-names.ts';
import { PortNames } from '../../../src/proxy/iptables/compile-cache.ts';
import { base32, sha256Base32 } from '../../../src/proxy/name-hash.ts';
import { createHash } from 'node:crypto';

test('base32 follows RFC 4648 test vectors (Go base32.StdEncoding)', (t) => {
  const enc = (s: string) => base32(new TextEncoder().encode(s));
  t.is(enc(''), '');
  t.is(enc('f'), 'MY======');
  t.is(enc('fo'), 'MZXQ====');
  t.is(enc('foo'), 'MZXW6===');
  t.is(enc('foob'), 'MZXW6YQ=');
  t.is(enc('fooba'), 'MZXW6YTB');
  t.is(enc('foobar'), 'MZXW6YTBOI======');
});

test('sha256Base32 is the leading 8 or 16 characters of base32(sha256(s))', (t) => {
  for (const s of ['', 'ns1/svc1/tcp/p80', 'default/kubernetes/tcp/https__10.0.0.1/6443']) {
    const full = base32(createHash('sha256').update(s).digest());
    t.is(sha256Base32(s, 1), full.slice(0, 8), s);
    t.is(sha256Base32(s, 2), full.slice(0, 16), s);
  }
});

test('default/kubernetes:https tcp is KUBE-SVC-NPX46M4PTMTKRN6Y', (t) => {
  t.is(
    servicePortPolicyClusterChain('default/kubernetes:https', 'tcp'),
    'KUBE-SVC-NPX46M4PTMTKRN6Y',
  );
});

// Names from kube-proxy's proxier_test.go expectations.
const SERVICE_HASHES: [string, string][] = [
  ['ns1/svc1:p80', 'XPGD46QRK7WJZT7O'],
  ['ns2/svc2:p80', 'GNZBNJ2PO5MGZ6GT'],
  ['ns3/svc3:p80', 'X27LE4BHSL4DOUIK'],
  ['ns4/svc4:p80', '4SW47YFZTEDKD3PK'],
  ['ns5/svc5:p80', 'NUKIZ6OKUXPJNT4C'],
  ['ns1/svc1', 'AQI2S6QIMU7PVVRP'],
];

for (const [spn, hash] of SERVICE_HASHES) {
  test(`service chains of ${spn}`, (t) => {
    t.is(servicePortPolicyClusterChain(spn, 'tcp'), `KUBE-SVC-${hash}`);
    t.is(servicePortPolicyLocalChainName(spn, 'tcp'), `KUBE-SVL-${hash}`);
    t.is(serviceExternalChainName(spn, 'tcp'), `KUBE-EXT-${hash}`);
    t.is(serviceFirewallChainName(spn, 'tcp'), `KUBE-FW-${hash}`);
  });
}

const ENDPOINT_HASHES: [string, string, string][] = [
  ['ns1/svc1:p80', '10.180.0.1:80', 'SXIVWICOYRO3J4NJ'],
  ['ns2/svc2:p80', '10.180.0.2:80', 'RS4RBKLTHTF2IUXJ'],
  ['ns3/svc3:p80', '10.180.0.3:80', 'OYPFS5VJICHGATKP'],
  ['ns4/svc4:p80', '10.180.0.4:80', 'UKSFD7AGPMPPLUHC'],
  ['ns4/svc4:p80', '10.180.0.5:80', 'C6EBXVWJJZMIWKLZ'],
  ['ns5/svc5:p80', '10.180.0.3:80', 'I77PXRDZVX7PMWMN'],
  ['ns1/svc1', '10.0.1.1:80', '3JOIVZTXZZRGORX4'],
];

test('endpoint chains hash name + protocol + ip:port', (t) => {
  for (const [spn, endpoint, hash] of ENDPOINT_HASHES) {
    t.is(servicePortEndpointChainName(spn, 'tcp', endpoint), `KUBE-SEP-${hash}`, endpoint);
  }
});

test('PortNames: endpoint chains by address and port, memoised, pruned', (t) => {
  for (const [spn, endpoint, hash] of ENDPOINT_HASHES) {
    const [ipString, port] = endpoint.split(':') as [string, string];
    const n = new PortNames(spn + 'tcp');
    t.is(n.endpoint({ ipString, port: Number(port) }), `KUBE-SEP-${hash}`, endpoint);
  }
  // Past 32 endpoints the memo is indexed: every name stays the same object and the hash.
  const n = new PortNames('ns1/svc1:p80tcp');
  const eps = Array.from({ length: 80 }, (_, i) => ({
    ipString: `10.${i % 3}.${i}.${i * 3}`,
    port: [0, 7, 80, 443, 8080, 65535][i % 6]!,
  }));
  const first = eps.map((e) => n.endpoint(e));
  eps.forEach((e, i) => {
    t.is(first[i], servicePortEndpointChainName('ns1/svc1:p80', 'tcp', `${e.ipString}:${e.port}`));
    t.is(n.endpoint({ ...e }), first[i]!);
  });
  t.is(new Set(first).size, eps.length);
  // A port alone or an address alone does not find another endpoint's name.
  t.not(n.endpoint({ ipString: eps[0]!.ipString, port: 1 }), first[0]!);
  // Below the index threshold too: one address on two ports is two endpoints.
  const few = new PortNames('ns1/svc1:p80tcp');
  const a = few.endpoint({ ipString: '10.0.0.1', port: 80 });
  const b = few.endpoint({ ipString: '10.0.0.1', port: 81 });
  const c = few.endpoint({ ipString: '10.0.0.2', port: 80 });
  t.is(b, servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.0.0.1:81'));
  t.is(c, servicePortEndpointChainName('ns1/svc1:p80', 'tcp', '10.0.0.2:80'));
  t.is(new Set([a, b, c]).size, 3);
  n.prune(eps.slice(0, 10));
  eps.forEach((e, i) => t.is(n.endpoint(e), first[i]!));
});

test('the protocol is part of the hash', (t) => {
  t.not(
    servicePortPolicyClusterChain('ns1/svc1:p80', 'udp'),
    servicePortPolicyClusterChain('ns1/svc1:p80', 'tcp'),
  );
});

test('isServiceChainName knows the per-service prefixes only', (t) => {
  t.true(isServiceChainName('KUBE-SVC-XPGD46QRK7WJZT7O'));
  t.true(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ'));
  t.false(isServiceChainName('KUBE-SERVICES'));
  t.false(isServiceChainName('KUBE-MARK-MASQ'));
});
