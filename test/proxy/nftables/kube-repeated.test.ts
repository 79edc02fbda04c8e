// TestSyncProxyRulesRepeated in pkg/proxy/nftables/proxier_test.go (kubernetes/kubernetes
// commit 030880a5dc5449403c6d1f0aa146a7dc21d6c6dc): one proxier synced again and again
// as services come and go, each state compared with kube-proxy's expected transaction
// (its baseRules, the first part of fixtures/kube-overall-nftables.txt, plus the lines
// below) the way assertNFTablesTransactionEqual compares. kube-proxy flushes a deleted
// service's chains and deletes them a sync later (after a grace period); svclab builds
// a whole table per sync and drops them at once, so right after the deletion svclab
// already holds what kube-proxy holds once the stale chains are gone (the deliberate
// difference docs/proxy-nftables.md lists).
import { readFileSync } from 'node:fs';
import test from 'ava';
import { dumpTransaction } from '../../../src/proxy/nftables/dump.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import { nftProxier } from './fixture.ts';
import { sortNFTablesTransaction } from './kube-sort.ts';

const OVERALL = readFileSync(
  new URL('./fixtures/kube-overall-nftables.txt', import.meta.url),
  'utf8',
);
const BASE_RULES = OVERALL.slice(0, OVERALL.indexOf('# svc1'));

const svc = (ns: string, name: string, ip: string, port: number, portName: string) =>
  makeService(ns, name, {
    type: 'ClusterIP',
    clusterIP: ip,
    ports: [{ name: portName, port, protocol: 'TCP', targetPort: port }],
  });
const slice = (ns: string, name: string, ip: string, port: number, portName: string) =>
  makeSlice(ns, name, `${name}-1`, [ep(ip)], [tcp(portName, port)]);

const SVC1 = `
add chain ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-ULMVA6XW-ns1/svc1/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 }
add chain ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 ip saddr 10.0.1.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-5TPGNJF2-ns1/svc1/tcp/p80__10.0.1.1/80 meta l4proto tcp dnat to 10.0.1.1:80
`;
const SVC2 = `
add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 ip daddr 172.30.0.42 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080 numgen random mod 1 vmap { 0 : goto endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 }
add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 ip saddr 10.0.2.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080 meta l4proto tcp dnat to 10.0.2.1:8080
`;
const SVC3 = `
add chain ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 ip daddr 172.30.0.43 ip saddr != 10.0.0.0/8 jump mark-for-masquerade
add rule ip kube-proxy service-4AT6LBPK-ns3/svc3/tcp/p80 numgen random mod 1 vmap { 0 : goto endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 }
add chain ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 ip saddr 10.0.3.1 jump mark-for-masquerade
add rule ip kube-proxy endpoint-2OCDJSZQ-ns3/svc3/tcp/p80__10.0.3.1/80 meta l4proto tcp dnat to 10.0.3.1:80
`;

const STEP1 =
  BASE_RULES +
  `
add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy cluster-ips { 172.30.0.42 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 8080 : goto service-MHHHYRWA-ns2/svc2/tcp/p8080 }
` +
  SVC1 +
  SVC2;

const STEP2 =
  BASE_RULES +
  `
add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy cluster-ips { 172.30.0.42 }
add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
add element ip kube-proxy service-ips { 172.30.0.42 . tcp . 8080 : goto service-MHHHYRWA-ns2/svc2/tcp/p8080 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
` +
  SVC1 +
  SVC2 +
  SVC3;

// kube-proxy's state once the stale chains of the deleted ns2/svc2 are gone.
const STEP4 =
  BASE_RULES +
  `
add element ip kube-proxy cluster-ips { 172.30.0.41 }
add element ip kube-proxy cluster-ips { 172.30.0.43 }
add element ip kube-proxy service-ips { 172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80 }
add element ip kube-proxy service-ips { 172.30.0.43 . tcp . 80 : goto service-4AT6LBPK-ns3/svc3/tcp/p80 }
` +
  SVC1 +
  SVC3;

test('matches kube-proxy TestSyncProxyRulesRepeated, sync after sync', (t) => {
  const svc2 = svc('ns2', 'svc2', '172.30.0.42', 8080, 'p8080');
  const px = nftProxier(
    [svc('ns1', 'svc1', '172.30.0.41', 80, 'p80'), svc2],
    [slice('ns1', 'svc1', '10.0.1.1', 80, 'p80'), slice('ns2', 'svc2', '10.0.2.1', 8080, 'p8080')],
    { nodePortAddresses: ['192.168.0.2/32'] },
  );
  const state = () => sortNFTablesTransaction(dumpTransaction(px.ruleset));
  t.deepEqual(state(), sortNFTablesTransaction(STEP1), 'initial state');

  px.onServiceAdd(svc('ns3', 'svc3', '172.30.0.43', 80, 'p80'));
  px.onEndpointSliceAdd(slice('ns3', 'svc3', '10.0.3.1', 80, 'p80'));
  px.sync();
  t.deepEqual(state(), sortNFTablesTransaction(STEP2), 'a service and its endpoints added');

  px.onServiceDelete(svc2);
  px.sync();
  const deleted = state();
  // kube-proxy still shows the flushed chains here; svclab is already where kube-proxy is
  // after they are deleted.
  const flushed = [
    'add chain ip kube-proxy service-MHHHYRWA-ns2/svc2/tcp/p8080',
    'add chain ip kube-proxy endpoint-7RVP4LUQ-ns2/svc2/tcp/p8080__10.0.2.1/8080',
  ];
  t.deepEqual(
    sortNFTablesTransaction([...deleted, ...flushed].join('\n')),
    sortNFTablesTransaction(STEP4 + flushed.join('\n')),
    'a service deleted (kube-proxy: chains flushed)',
  );
  px.sync();
  t.deepEqual(state(), sortNFTablesTransaction(STEP4), 'stale chains deleted');
});
