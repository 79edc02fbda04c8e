import test from 'ava';
import { ipToU32 } from '../../src/packet/addr.ts';
import {
  DEFAULT_AFFINITY_SECONDS,
  type EndpointInfo,
  categorizeEndpoints,
  endpointsForPort,
  parseSlicePorts,
  servicePortInfos,
  servicePortKey,
  servicePortNameString,
  usesClusterEndpoints,
  usesLocalEndpoints,
} from '../../src/proxy/model.ts';
import { ep, makeService, makeSlice, tcp } from './fixtures.ts';
import type { EndpointSlice } from '../../src/api/types.ts';

/**
 * Endpoints per service-port key from a service's slices, as endpointslicecache.go:
 * ports matched by (name, protocol), duplicates by `ip:port` collapsed (isLocal wins),
 * and each list sorted by the `ip:port` string (kube-proxy's byEndpoint sort — note
 * it is a string sort, so 10.0.0.10 precedes 10.0.0.2).
 */
function endpointsFromSlices(
  namespace: string,
  serviceName: string,
  slices: readonly EndpointSlice[],
  nodeName: string,
): Map<string, readonly EndpointInfo[]> {
  const parsed = slices.map((s) => parseSlicePorts(s, nodeName));
  const out = new Map<string, readonly EndpointInfo[]>();
  for (const ports of parsed) {
    for (const { portName: port, protocol } of ports) {
      const key = servicePortKey({ namespace, name: serviceName, port, protocol });
      if (out.has(key)) continue;
      const list = endpointsForPort(parsed, port, protocol);
      if (list.length > 0) out.set(key, list);
    }
  }
  return out;
}

const port = { name: 'http', port: 80, protocol: 'TCP' as const, targetPort: 8080 };

test('ServicePortName.String(): ns/name, plus :port only when the port is named', (t) => {
  t.is(
    servicePortNameString({
      namespace: 'default',
      name: 'kubernetes',
      port: 'https',
      protocol: 'TCP',
    }),
    'default/kubernetes:https',
  );
  t.is(
    servicePortNameString({ namespace: 'ns1', name: 'svc1', port: '', protocol: 'TCP' }),
    'ns1/svc1',
  );
  t.is(
    servicePortKey({ namespace: 'ns1', name: 'svc1', port: 'dns', protocol: 'UDP' }),
    'ns1/svc1:dns/UDP',
  );
});

test('headless and ExternalName services are skipped, as kube-proxy does', (t) => {
  t.deepEqual(servicePortInfos(makeService('ns', 'h', { clusterIP: 'None', ports: [port] })), []);
  t.deepEqual(
    servicePortInfos(
      makeService('ns', 'e', { type: 'ExternalName', externalName: 'x.example', ports: [port] }),
    ),
    [],
  );
  t.deepEqual(servicePortInfos(makeService('ns', 'n', { ports: [port] })), []);
  t.is(
    servicePortInfos(makeService('ns', 'c', { clusterIP: '10.96.0.5', ports: [port] })).length,
    1,
  );
});

test('service port info: addresses, policies, affinity default, health check port', (t) => {
  const [info] = servicePortInfos(
    makeService(
      'ns',
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.5',
        ports: [{ ...port, nodePort: 30080 }],
        externalIPs: ['192.168.99.1', 'fd00::1'],
        loadBalancerSourceRanges: [' 203.0.113.0/25', 'bogus', '2001:db8::/32'],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        sessionAffinity: 'ClientIP',
      },
      { loadBalancer: { ingress: [{ ip: '1.2.3.4' }, { hostname: 'lb.example' }] } },
    ),
  );
  if (info === undefined) return t.fail();
  t.is(info.clusterIP, ipToU32('10.96.0.5'));
  t.is(info.nodePort, 30080);
  t.deepEqual(info.externalIPs, ['192.168.99.1']);
  t.deepEqual(info.loadBalancerIPs, ['1.2.3.4']);
  t.deepEqual(info.loadBalancerSourceRanges, ['203.0.113.0/25']);
  t.true(info.externalPolicyLocal);
  t.false(info.internalPolicyLocal);
  t.is(info.healthCheckNodePort, 31000);
  t.is(info.stickyMaxAgeSeconds, DEFAULT_AFFINITY_SECONDS);
});

test('externalTrafficPolicy Local only counts for externally reachable services', (t) => {
  const [info] = servicePortInfos(
    makeService('ns', 'c', {
      clusterIP: '10.96.0.5',
      ports: [port],
      externalTrafficPolicy: 'Local',
    }),
  );
  t.false(info?.externalPolicyLocal);
  t.is(info?.healthCheckNodePort, 0);
});

test('endpoints: ports matched by name and protocol, duplicates collapsed, string-sorted', (t) => {
  const slices = [
    makeSlice(
      'ns',
      's',
      's-1',
      [ep('10.0.0.2'), ep('10.0.0.10')],
      [tcp('http', 8080), { name: 'dns', port: 53, protocol: 'UDP' }],
    ),
    makeSlice(
      'ns',
      's',
      's-2',
      [ep('10.0.0.2', { nodeName: 'me' }), ep('10.0.0.3')],
      [tcp('http', 8080)],
    ),
  ];
  const m = endpointsFromSlices('ns', 's', slices, 'me');
  const http = m.get('ns/s:http/TCP') ?? [];
  t.deepEqual(
    http.map((e) => e.endpoint),
    ['10.0.0.10:8080', '10.0.0.2:8080', '10.0.0.3:8080'],
  );
  t.true(http.find((e) => e.ipString === '10.0.0.2')?.isLocal, 'the local copy wins');
  t.deepEqual(
    (m.get('ns/s:dns/UDP') ?? []).map((e) => e.endpoint),
    ['10.0.0.10:53', '10.0.0.2:53'],
  );
  t.false(m.has('ns/s:dns/TCP'));
});

test('endpoints: IPv6/FQDN slices and zero ports are ignored; conditions default to ready', (t) => {
  const v6 = {
    ...makeSlice('ns', 's', 's-6', [ep('fd00::1')], [tcp('http', 80)]),
    addressType: 'IPv6' as const,
  };
  const zero = makeSlice('ns', 's', 's-0', [ep('10.0.0.9')], [tcp('http', 0)]);
  const plain = makeSlice(
    'ns',
    's',
    's-1',
    [{ addresses: ['10.0.0.1'], conditions: {} }],
    [tcp('http', 80)],
  );
  const m = endpointsFromSlices('ns', 's', [v6, zero, plain], 'me');
  const list = m.get('ns/s:http/TCP') ?? [];
  t.is(list.length, 1);
  t.like(list[0], { ready: true, serving: true, terminating: false, isLocal: false });
});

test('categorize: terminating-but-serving endpoints are a fallback only', (t) => {
  const [svc] = servicePortInfos(makeService('ns', 's', { clusterIP: '10.96.0.5', ports: [port] }));
  if (svc === undefined) return t.fail();
  const slice = (conds: { ready: boolean; serving: boolean; terminating: boolean }[]) =>
    endpointsFromSlices(
      'ns',
      's',
      [
        makeSlice(
          'ns',
          's',
          's-1',
          conds.map((c, i) => ep(`10.0.0.${i + 1}`, { conditions: c })),
          [tcp('http', 80)],
        ),
      ],
      'me',
    ).get('ns/s:http/TCP') ?? [];
  const mixed = slice([
    { ready: true, serving: true, terminating: false },
    { ready: false, serving: true, terminating: true },
  ]);
  t.deepEqual(
    categorizeEndpoints(mixed, svc).clusterEndpoints.map((e) => e.ipString),
    ['10.0.0.1'],
  );
  const terminating = slice([
    { ready: false, serving: true, terminating: true },
    { ready: false, serving: false, terminating: true },
  ]);
  const c = categorizeEndpoints(terminating, svc);
  t.deepEqual(
    c.clusterEndpoints.map((e) => e.ipString),
    ['10.0.0.1'],
  );
  t.true(c.hasAnyEndpoints);
  const none = categorizeEndpoints(
    slice([{ ready: false, serving: false, terminating: false }]),
    svc,
  );
  t.false(none.hasAnyEndpoints);
});

test('categorize: Local policy uses local endpoints and the union is reachable', (t) => {
  const [svc] = servicePortInfos(
    makeService('ns', 's', {
      type: 'NodePort',
      clusterIP: '10.96.0.5',
      ports: [{ ...port, nodePort: 30000 }],
      externalTrafficPolicy: 'Local',
    }),
  );
  if (svc === undefined) return t.fail();
  const eps =
    endpointsFromSlices(
      'ns',
      's',
      [
        makeSlice(
          'ns',
          's',
          's-1',
          [ep('10.0.0.1', { nodeName: 'me' }), ep('10.0.0.2', { nodeName: 'other' })],
          [tcp('http', 80)],
        ),
      ],
      'me',
    ).get('ns/s:http/TCP') ?? [];
  const c = categorizeEndpoints(eps, svc);
  t.deepEqual(
    c.localEndpoints.map((e) => e.ipString),
    ['10.0.0.1'],
  );
  t.deepEqual(
    c.clusterEndpoints.map((e) => e.ipString),
    ['10.0.0.1', '10.0.0.2'],
  );
  t.deepEqual(
    c.allReachableEndpoints.map((e) => e.ipString),
    ['10.0.0.1', '10.0.0.2'],
  );
});

// kube-proxy's serviceport.go: an externally reachable port always uses Cluster endpoints
// (pod → external IP traffic is short-circuited to them), even with both policies Local.
test('usesClusterEndpoints: internal Local + external Local still uses Cluster endpoints when reachable from outside', (t) => {
  const both = { internalTrafficPolicy: 'Local' as const, externalTrafficPolicy: 'Local' as const };
  const [nodePort] = servicePortInfos(
    makeService('ns', 'np', {
      type: 'NodePort',
      clusterIP: '10.96.0.5',
      ports: [{ ...port, nodePort: 30000 }],
      ...both,
    }),
  );
  const [clusterOnly] = servicePortInfos(
    makeService('ns', 'c', { clusterIP: '10.96.0.6', ports: [port], ...both }),
  );
  if (nodePort === undefined || clusterOnly === undefined) return t.fail();
  t.true(usesClusterEndpoints(nodePort));
  t.false(usesClusterEndpoints(clusterOnly));
  t.true(usesLocalEndpoints(clusterOnly));
});
