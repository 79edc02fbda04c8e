import test from 'ava';
import { cidrContains, ipToU32, parseCidr } from '../../src/packet/addr.ts';
import { Cluster, formatApplyResult } from '../../src/control/cluster.ts';
import type { Service } from '../../src/api/types.ts';
import { service } from './fixtures.ts';

const svcOf = (c: Cluster, name: string): Service => c.get('Service', 'default', name)!;

test('a ClusterIP Service gets a random address from the service CIDR', (t) => {
  const c = new Cluster();
  const [r] = c.apply([service('myapp', { app: 'myapp' })]);
  t.is(r!.action, 'created');
  t.is(formatApplyResult(r!), 'service/myapp created');
  const s = svcOf(c, 'myapp');
  t.true(cidrContains(parseCidr('10.96.0.0/12'), ipToU32(s.spec.clusterIP!)));
  t.deepEqual(s.spec.clusterIPs, [s.spec.clusterIP]);
  t.deepEqual(s.status, { loadBalancer: {} });
});

const conflicts: [string, Partial<Service['spec']>, string][] = [
  [
    'kube-dns address',
    { clusterIP: '10.96.0.10' },
    'Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: provided IP is already allocated',
  ],
  [
    'kubernetes address',
    { clusterIP: '10.96.0.1' },
    'Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.1"}: failed to allocate IP 10.96.0.1: provided IP is already allocated',
  ],
  [
    'outside the range',
    { clusterIP: '192.168.1.1' },
    'Service "dup" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.1.1"}: failed to allocate IP 192.168.1.1: provided IP (192.168.1.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
  ],
];

for (const [name, spec, message] of conflicts) {
  test(`explicit clusterIP rejected: ${name}`, (t) => {
    const c = new Cluster();
    const [r] = c.apply([service('dup', { app: 'x' }, undefined, spec)]);
    t.is(r!.error?.reason, 'Invalid');
    t.is(r!.error?.message, message);
    t.is(c.get('Service', 'default', 'dup'), undefined);
  });
}

test('an explicit clusterIP is honoured and released on delete', (t) => {
  const c = new Cluster();
  c.apply([service('a', { app: 'a' }, undefined, { clusterIP: '10.96.100.100' })]);
  t.is(svcOf(c, 'a').spec.clusterIP, '10.96.100.100');
  t.truthy(
    c.apply([service('b', { app: 'a' }, undefined, { clusterIP: '10.96.100.100' })])[0]!.error,
  );
  c.delete('Service', 'default', 'a');
  t.false(c.clusterIPs.has('10.96.100.100'));
  const [r] = c.apply([service('b', { app: 'a' }, undefined, { clusterIP: '10.96.100.100' })]);
  t.is(r!.error, undefined);
});

test('a tiny service CIDR runs out with a clear error', (t) => {
  const c = new Cluster({ serviceCIDR: '10.96.0.0/29', dnsServiceIP: '10.96.0.6' });
  // 6 usable: kubernetes (.1) and kube-dns (.6) are taken, 4 remain.
  const rs = c.apply([1, 2, 3, 4, 5].map((i) => service(`s${i}`, { app: 'x' })));
  t.deepEqual(
    rs.slice(0, 4).map((r) => r.action),
    ['created', 'created', 'created', 'created'],
  );
  t.is(rs[4]!.error?.reason, 'InternalError');
  t.is(
    rs[4]!.error?.message,
    'Internal error occurred: failed to allocate a serviceIP: range is full',
  );
});

test('NodePort: allocated in range, explicit honoured, conflict rejected, released on delete', (t) => {
  const c = new Cluster();
  c.apply([
    service('np', { app: 'x' }, [{ name: 'http', port: 80, targetPort: 80 }], { type: 'NodePort' }),
    service('fixed', { app: 'x' }, [{ name: 'http', port: 80, targetPort: 80, nodePort: 30080 }], {
      type: 'NodePort',
    }),
  ]);
  const np = svcOf(c, 'np').spec.ports[0]!.nodePort!;
  t.true(np >= 30000 && np <= 32767);
  t.is(svcOf(c, 'fixed').spec.ports[0]!.nodePort, 30080);
  const [r] = c.apply([
    service('clash', { app: 'x' }, [{ name: 'http', port: 80, targetPort: 80, nodePort: 30080 }], {
      type: 'NodePort',
    }),
  ]);
  t.is(
    r!.error?.message,
    'Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated',
  );
  c.delete('Service', 'default', 'fixed');
  t.false(c.nodePorts.has(30080));
  t.is(
    c.apply([
      service(
        'clash',
        { app: 'x' },
        [{ name: 'http', port: 80, targetPort: 80, nodePort: 30080 }],
        { type: 'NodePort' },
      ),
    ])[0]!.action,
    'created',
  );
});

test('a rejected Service leaves no allocation behind', (t) => {
  const c = new Cluster();
  c.apply([service('fixed', { app: 'x' }, [{ port: 80, nodePort: 30080 }], { type: 'NodePort' })]);
  const ipsBefore = c.clusterIPs.used;
  const portsBefore = c.nodePorts.used;
  const [r] = c.apply([
    service(
      'bad',
      { app: 'x' },
      [
        { name: 'a', port: 80 },
        { name: 'b', port: 81, nodePort: 30080 },
      ],
      { type: 'NodePort' },
    ),
  ]);
  t.truthy(r!.error);
  t.is(c.clusterIPs.used, ipsBefore);
  t.is(c.nodePorts.used, portsBefore);
});

test('ports sharing a number (53/UDP + 53/TCP) share one NodePort', (t) => {
  const c = new Cluster();
  c.apply([
    service(
      'dns',
      { app: 'dns' },
      [
        { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, targetPort: 53, protocol: 'TCP' },
      ],
      { type: 'NodePort' },
    ),
  ]);
  const [a, b] = svcOf(c, 'dns').spec.ports;
  t.is(a!.nodePort, b!.nodePort);
});

test('re-applying keeps the allocated clusterIP and nodePort (unchanged); type change releases the nodePort', (t) => {
  const c = new Cluster();
  const manifest = service('myapp', { app: 'myapp' }, undefined, { type: 'NodePort' });
  c.apply([manifest]);
  const first = svcOf(c, 'myapp');
  const [again] = c.apply([manifest]);
  t.is(again!.action, 'unchanged');
  t.is(svcOf(c, 'myapp').spec.clusterIP, first.spec.clusterIP);
  const np = first.spec.ports[0]!.nodePort!;
  const [changed] = c.apply([service('myapp', { app: 'myapp' }, undefined, { type: 'ClusterIP' })]);
  t.is(changed!.action, 'configured');
  t.is(svcOf(c, 'myapp').spec.clusterIP, first.spec.clusterIP);
  t.is(svcOf(c, 'myapp').spec.ports[0]!.nodePort, undefined);
  t.false(c.nodePorts.has(np));
  const [imm] = c.apply([
    service('myapp', { app: 'myapp' }, undefined, { clusterIP: '10.96.200.1' }),
  ]);
  t.regex(
    imm!.error!.message,
    /spec\.clusterIPs\[0\]: Invalid value: \[\]string\{"10\.96\.200\.1"\}: may not change once set/,
  );
});

test('headless and ExternalName Services get no ClusterIP and no NodePorts', (t) => {
  const c = new Cluster();
  const before = c.clusterIPs.used;
  c.apply([
    service('myapp-headless', { app: 'myapp' }, undefined, { clusterIP: 'None' }),
    service('my-service-1', undefined, [], {
      type: 'ExternalName',
      externalName: 'hub.atguigu.com',
    }),
  ]);
  t.is(c.clusterIPs.used, before);
  const h = svcOf(c, 'myapp-headless');
  t.is(h.spec.clusterIP, 'None');
  t.deepEqual(h.spec.clusterIPs, ['None']);
  const e = svcOf(c, 'my-service-1');
  t.is(e.spec.clusterIP, undefined);
  t.is(e.spec.externalName, 'hub.atguigu.com');
  t.is(
    c
      .list('EndpointSlice', 'default')
      .filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === 'my-service-1').length,
    0,
  );
});

test('LoadBalancer: nodePorts plus an ingress IP from the (simulated) pool, released on delete', (t) => {
  const c = new Cluster({ loadBalancerPool: '192.168.100.240/30' });
  c.apply([
    service('lb1', { app: 'x' }, undefined, { type: 'LoadBalancer' }),
    service('lb2', { app: 'x' }, undefined, { type: 'LoadBalancer' }),
    service('lb3', { app: 'x' }, undefined, { type: 'LoadBalancer' }),
  ]);
  t.deepEqual(svcOf(c, 'lb1').status?.loadBalancer.ingress, [{ ip: '192.168.100.241' }]);
  t.deepEqual(svcOf(c, 'lb2').status?.loadBalancer.ingress, [{ ip: '192.168.100.242' }]);
  t.deepEqual(svcOf(c, 'lb3').status?.loadBalancer, {}); // pool exhausted: <pending>
  t.truthy(svcOf(c, 'lb1').spec.ports[0]!.nodePort);
  c.delete('Service', 'default', 'lb1');
  c.apply([service('lb3', { app: 'x' }, undefined, { type: 'LoadBalancer' })]);
  t.deepEqual(svcOf(c, 'lb3').status?.loadBalancer.ingress, [{ ip: '192.168.100.241' }]);
});

test('LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort', (t) => {
  const c = new Cluster();
  c.apply([
    service('lb', { app: 'x' }, undefined, {
      type: 'LoadBalancer',
      externalTrafficPolicy: 'Local',
    }),
  ]);
  const hc = svcOf(c, 'lb').spec.healthCheckNodePort!;
  t.true(c.nodePorts.has(hc));
  c.delete('Service', 'default', 'lb');
  t.false(c.nodePorts.has(hc));
});
