// The iptables side of ipvs mode: kube-proxy's restore payload for the current ipsets, the
// packet-path reading of it (mark 0x4000, hairpin MASQUERADE, source ranges, KUBE-IPVS-FILTER),
// and -- where the machine allows (root, ipset, iptables-restore) -- the payload and sets
// loaded into a real kernel in a throw-away network namespace, whose `ipset list` must be
// byte-identical to svclab's, References included.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP } from '../../../src/proxy/ipvs/constants.ts';
import { ipsetSave } from '../../../src/proxy/ipvs/ipset.ts';
import {
  FilterVerdict,
  inputFilter,
  postroutingMasquerades,
} from '../../../src/proxy/ipvs/masquerade.ts';
import type { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import { kubernetesService, myapp, myappSlice, proxier } from './proxier-fixture.ts';

const ip = ipToU32;
const OUTSIDE = { srcLocal: false, dstLocal: false, fromBridge: false };
const TO_LOCAL = { srcLocal: false, dstLocal: true, fromBridge: false };

function lbNode(): IpvsProxier {
  const p = proxier();
  kubernetesService(p);
  p.onServiceAdd(
    myapp(
      {
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31999,
        loadBalancerSourceRanges: ['203.0.113.0/24', '10.0.100.0/24'],
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 32642 }],
      },
      { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
    ),
  );
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  return p;
}

test('restore payload for a ClusterIP-only node', (t) => {
  const p = proxier();
  kubernetesService(p);
  p.sync();
  const nat = p.iptablesRules().restoreLines.slice(0, 17);
  t.deepEqual(nat, [
    '*nat',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-POSTROUTING - [0:0]',
    ':KUBE-NODE-PORT - [0:0]',
    ':KUBE-LOAD-BALANCER - [0:0]',
    ':KUBE-MARK-MASQ - [0:0]',
    '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
    '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.244.0.0/16 -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m addrtype --dst-type LOCAL -j KUBE-NODE-PORT',
    '-A KUBE-LOAD-BALANCER -j KUBE-MARK-MASQ',
    '-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT',
    '-A KUBE-POSTROUTING -m mark ! --mark 0x00004000/0x00004000 -j RETURN',
    '-A KUBE-POSTROUTING -j MARK --xor-mark 0x00004000',
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
    '-A KUBE-MARK-MASQ -j MARK --or-mark 0x00004000',
    'COMMIT',
    '*filter',
  ]);
});

test('masquerade marks: off-cluster to a cluster IP yes, a pod no; node ports unless Local', (t) => {
  const p = proxier();
  kubernetesService(p);
  p.onServiceAdd(
    myapp({
      type: 'NodePort',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 32642 }],
    }),
  );
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  t.true(p.marksForMasquerade(IPPROTO_TCP, ip('10.0.100.50'), ip('10.96.0.1'), 443, TO_LOCAL));
  t.false(p.marksForMasquerade(IPPROTO_TCP, ip('10.244.2.7'), ip('10.96.0.1'), 443, TO_LOCAL));
  t.true(p.marksForMasquerade(IPPROTO_TCP, ip('192.168.5.5'), ip('10.0.100.11'), 32642, TO_LOCAL));
  t.false(p.marksForMasquerade(IPPROTO_TCP, ip('127.0.0.1'), ip('10.96.0.1'), 443, TO_LOCAL));
  t.false(p.marksForMasquerade(IPPROTO_TCP, ip('192.168.5.5'), ip('10.0.100.11'), 22, TO_LOCAL));
  const local = lbNode();
  t.false(
    local.marksForMasquerade(IPPROTO_TCP, ip('192.168.5.5'), ip('10.0.100.11'), 32642, TO_LOCAL),
  );
  t.false(
    local.marksForMasquerade(IPPROTO_TCP, ip('203.0.113.9'), ip('198.51.100.7'), 80, OUTSIDE),
  );
});

test('hairpin: a local pod reaching itself through the service is masqueraded in POSTROUTING', (t) => {
  const p = lbNode();
  t.true(
    postroutingMasquerades(p.ipsets, IPPROTO_TCP, ip('10.244.1.2'), ip('10.244.1.2'), 80, false),
  );
  t.false(
    postroutingMasquerades(p.ipsets, IPPROTO_TCP, ip('10.244.1.3'), ip('10.244.1.2'), 80, false),
  );
  t.true(
    postroutingMasquerades(p.ipsets, IPPROTO_TCP, ip('10.244.1.3'), ip('10.244.1.2'), 80, true),
  );
});

test('filter: LB source ranges, and KUBE-IPVS-FILTER rejects a VIP port that is no service', (t) => {
  const p = lbNode();
  const s = p.ipsets;
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('203.0.113.9'), ip('198.51.100.7'), 80, true),
    FilterVerdict.Accept,
  );
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('192.0.2.1'), ip('198.51.100.7'), 80, true),
    FilterVerdict.Drop,
  );
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('10.0.100.11'), ip('198.51.100.7'), 80, true),
    FilterVerdict.Accept,
  );
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('10.244.1.9'), ip('10.96.72.106'), 22, true),
    FilterVerdict.Reject,
  );
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('10.244.1.9'), ip('10.96.72.106'), 80, true),
    FilterVerdict.Accept,
  );
  t.is(
    inputFilter(s, IPPROTO_TCP, ip('10.244.1.9'), ip('10.96.72.106'), 22, false),
    FilterVerdict.Accept,
  );
});

const canLoad =
  process.getuid?.() === 0 &&
  spawnSync('ipset', ['--version']).status === 0 &&
  spawnSync('iptables-restore', ['--version']).status === 0 &&
  spawnSync('unshare', ['-n', 'true']).status === 0;

(canLoad ? test : test.skip)(
  "interop: the sets and rules load into a real kernel; its `ipset list` equals svclab's (needs root, ipset, iptables)",
  (t) => {
    // The -m ipvs rule needs the (absent) IPVS module: leave the LB without node access rules.
    const p = proxier();
    kubernetesService(p);
    p.onServiceAdd(
      myapp({
        type: 'NodePort',
        externalIPs: ['192.0.2.10'],
        ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 32642 }],
      }),
    );
    p.onEndpointSliceAdd(myappSlice());
    p.sync();
    const dir = mkdtempSync(join(tmpdir(), 'svclab-ipvs-'));
    try {
      writeFileSync(join(dir, 'sets'), ipsetSave(p.ipsets.all()));
      writeFileSync(join(dir, 'rules'), p.iptablesRules().restoreLines.join('\n') + '\n');
      const script = `set -e; ipset restore < ${dir}/sets; iptables-restore --noflush < ${dir}/rules; ipset list`;
      const real = execFileSync('unshare', ['-n', 'sh', '-c', script], { encoding: 'utf8' });
      t.is(real, p.ipsetList());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
