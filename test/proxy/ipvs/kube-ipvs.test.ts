// svclab's ipvs mode against kube-proxy's own expectations in pkg/proxy/ipvs/proxier_test.go
// (kubernetes/kubernetes commit f3c7e72904cd9a65e4198cc30326a0d600462902): the tests whose
// expectations are literal (virtual servers and their real servers, ipset entries, and the
// iptables rules as jump target / --match-set / -s per chain, checked in order as
// checkIptables does), with their inputs as Services and EndpointSlices and
// buildFakeProxier's node (test-node, no node IPs: no NodePort virtual servers).
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ipsetSave } from '../../../src/proxy/ipvs/ipset.ts';
import { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import type { Service } from '../../../src/api/types.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

function fakeProxier(): IpvsProxier {
  const p = new IpvsProxier({ nodeName: 'test-node', nodeIPs: [], now: () => 0 });
  p.onServiceSynced();
  p.onEndpointSlicesSynced();
  return p;
}

/** One expected rule: netlinktest.ExpectedIptablesRule. */
interface Rule {
  readonly jump: string;
  readonly set?: string;
  readonly source?: string;
}

/** checkIptables: each listed chain holds exactly these rules, in this order. */
function checkIptables(t: ExecutionContext, p: IpvsProxier, want: Record<string, Rule[]>): void {
  const lines = p.iptablesRules().restoreLines;
  for (const [chain, rules] of Object.entries(want)) {
    const got = lines
      .filter((l) => l.startsWith(`-A ${chain} `))
      .map((l) => {
        const set = / --match-set (\S+)/.exec(l)?.[1];
        const source = / -s (\S+)/.exec(l)?.[1];
        return {
          jump: / -j (\S+)/.exec(l)?.[1] ?? '',
          ...(set !== undefined ? { set } : {}),
          ...(source !== undefined ? { source } : {}),
        };
      });
    t.deepEqual(got, rules, chain);
  }
}

/** checkIPSet: each listed set holds exactly these entries (ipset's own syntax). */
function checkIPSet(t: ExecutionContext, p: IpvsProxier, want: Record<string, string[]>): void {
  const adds = ipsetSave(p.ipsets.all()).split('\n');
  for (const [name, entries] of Object.entries(want)) {
    const got = adds.filter((l) => l.startsWith(`add ${name} `)).map((l) => l.split(' ')[2]);
    t.deepEqual(got.sort(), [...entries].sort(), name);
  }
}

/** checkIPVS: the number of virtual servers, and one's real servers. */
function checkIPVS(t: ExecutionContext, p: IpvsProxier, n: number, vs: string, rs: string[]): void {
  const text = p.ipvsadm();
  t.is(text.split('\n').filter((l) => /^(TCP|UDP|SCTP) {2}/.test(l)).length, n, 'VSNum');
  const block = text.split(/\n(?=(?:TCP|UDP|SCTP) {2})/).find((b) => b.startsWith(`TCP  ${vs} `));
  t.truthy(block, vs);
  const got = [...(block ?? '').matchAll(/-> (\S+)/g)].map((m) => m[1]);
  t.deepEqual(got, rs);
}

const p80 = { name: 'p80', port: 80, protocol: 'TCP' as const, targetPort: 80 };

test('TestLoadBalancerSourceRanges', (t) => {
  const p = fakeProxier();
  p.onServiceAdd(
    makeService(
      'ns1',
      'svc1',
      {
        type: 'LoadBalancer',
        clusterIP: '10.20.30.41',
        ports: [p80],
        loadBalancerSourceRanges: ['10.0.0.0/8'],
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
  );
  p.onEndpointSliceAdd(makeSlice('ns1', 'svc1', 'svc1-1', [ep('10.180.0.1')], [tcp('p80', 80)]));
  p.sync();
  checkIPVS(t, p, 2, '1.2.3.4:80', ['10.180.0.1:80']);
  checkIPSet(t, p, {
    'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-FW': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-SOURCE-CIDR': ['1.2.3.4,tcp:80,10.0.0.0/8'],
  });
  checkIptables(t, p, {
    'KUBE-SERVICES': [
      { jump: 'RETURN', source: '127.0.0.0/8' },
      { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-NODE-PORT' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
      { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
    ],
    'KUBE-PROXY-FIREWALL': [{ jump: 'KUBE-SOURCE-RANGES-FIREWALL', set: 'KUBE-LOAD-BALANCER-FW' }],
    'KUBE-SOURCE-RANGES-FIREWALL': [
      { jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-SOURCE-CIDR' },
      { jump: 'DROP' },
    ],
  });
});

test('TestOnlyLocalLoadBalancing', (t) => {
  const p = fakeProxier();
  p.onServiceAdd(
    makeService(
      'ns1',
      'svc1',
      {
        type: 'LoadBalancer',
        clusterIP: '10.20.30.41',
        ports: [{ ...p80, nodePort: 3001 }],
        externalTrafficPolicy: 'Local',
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } },
    ),
  );
  p.onEndpointSliceAdd(
    makeSlice(
      'ns1',
      'svc1',
      'svc1-1',
      [ep('10.180.0.1', { nodeName: 'test-node' }), ep('10.180.1.1', { nodeName: 'other-node' })],
      [tcp('p80', 80)],
    ),
  );
  p.sync();
  // The remote endpoint is no real server of the LB IP (Local policy).
  checkIPVS(t, p, 2, '1.2.3.4:80', ['10.180.0.1:80']);
  checkIPSet(t, p, {
    'KUBE-LOAD-BALANCER': ['1.2.3.4,tcp:80'],
    'KUBE-LOAD-BALANCER-LOCAL': ['1.2.3.4,tcp:80'],
  });
  checkIptables(t, p, {
    'KUBE-SERVICES': [
      { jump: 'RETURN', source: '127.0.0.0/8' },
      { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-NODE-PORT' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
      { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
    ],
    'KUBE-LOAD-BALANCER': [
      { jump: 'RETURN', set: 'KUBE-LOAD-BALANCER-LOCAL' },
      { jump: 'KUBE-MARK-MASQ' },
    ],
  });
});

// Its endpoint slices belong to a Service named p80 that does not exist: left out.
test('TestAcceptIPVSTraffic', (t) => {
  const p = fakeProxier();
  const svcs: [Service['spec']['type'], string, string][] = [
    ['ClusterIP', '10.20.30.40', 'svc1'],
    ['LoadBalancer', '10.20.30.41', 'svc2'],
    ['NodePort', '10.20.30.42', 'svc3'],
  ];
  for (const [type, clusterIP, name] of svcs) {
    p.onServiceAdd(
      makeService(
        'ns1',
        name,
        {
          type,
          clusterIP,
          ports: [{ ...p80, nodePort: 80 }],
          ...(type === 'ClusterIP' ? { externalIPs: ['5.6.7.8'] } : {}),
        },
        type === 'LoadBalancer' ? { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } : undefined,
      ),
    );
  }
  p.sync();
  checkIptables(t, p, {
    'KUBE-SERVICES': [
      { jump: 'RETURN', source: '127.0.0.0/8' },
      { jump: 'KUBE-LOAD-BALANCER', set: 'KUBE-LOAD-BALANCER' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-CLUSTER-IP' },
      { jump: 'KUBE-MARK-MASQ', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'ACCEPT', set: 'KUBE-EXTERNAL-IP' },
      { jump: 'KUBE-NODE-PORT' },
      { jump: 'ACCEPT', set: 'KUBE-CLUSTER-IP' },
      { jump: 'ACCEPT', set: 'KUBE-LOAD-BALANCER' },
    ],
  });
});
