// The ipvs Proxier end to end: what `ipvsadm -Ln` shows for the and the seed's services,
// classify() for new flows (rr rotation, ClientIP persistence, no endpoints), Local policy,
// scheduler choice, kube-ipvs0 addresses and the ipsets.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { IPPROTO_TCP, TCP_SYN } from '../../../src/proxy/ipvs/constants.ts';
import { IpvsVerdict } from '../../../src/proxy/ipvs/ipvs.ts';
import { IpvsProxier, SCHEDULER_ANNOTATION } from '../../../src/proxy/ipvs/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';
import {
  kubernetesService,
  myapp,
  MYAPP_PODS,
  myappProxier,
  myappSlice,
  proxier,
} from './proxier-fixture.ts';

const HEADER =
  'IP Virtual Server version 1.2.1 (size=4096)\n' +
  'Prot LocalAddress:Port Scheduler Flags\n' +
  '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n';

const trim = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');

test('ipvsadm -Ln for default/kubernetes: the issue example', (t) => {
  const p = proxier();
  kubernetesService(p);
  p.sync();
  t.is(
    trim(p.ipvsadm()),
    trim(HEADER) +
      'TCP  10.96.0.1:443 rr\n  -> 10.0.100.10:6443             Masq    1      0          0\n',
  );
  t.deepEqual(p.kubeIpvs0Addresses(), ['10.96.0.1']);
});

test("the seed's myapp: ClusterIP with 3 pods, then as NodePort 32642 on this node", (t) => {
  const p = myappProxier();
  const pods =
    '  -> 10.244.1.2:80                Masq    1      0          0\n' +
    '  -> 10.244.2.2:80                Masq    1      0          0\n' +
    '  -> 10.244.2.3:80                Masq    1      0          0\n';
  t.is(trim(p.ipvsadm()), trim(HEADER) + 'TCP  10.96.72.106:80 rr\n' + pods);
  p.onServiceUpdate(
    myapp(),
    myapp({
      type: 'NodePort',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80, nodePort: 32642 }],
    }),
  );
  p.sync();
  t.is(
    trim(p.ipvsadm()),
    trim(HEADER) + 'TCP  10.0.100.11:32642 rr\n' + pods + 'TCP  10.96.72.106:80 rr\n' + pods,
  );
  t.true(p.ipsets.get('KUBE-NODE-PORT-TCP').has('32642'));
  // The node IP is not bound to kube-ipvs0; the cluster IP is.
  t.deepEqual(p.kubeIpvs0Addresses(), ['10.96.72.106']);
});

test('rr: new connections to the cluster IP rotate over the pods (newest real server first)', (t) => {
  const p = myappProxier();
  const got = [];
  for (let i = 0; i < 6; i++)
    got.push(
      p.classifyDest(IPPROTO_TCP, '10.244.1.9', 40000 + i, '10.96.72.106', 80, TCP_SYN, i)?.ip,
    );
  t.deepEqual(got, [
    '10.244.2.3',
    '10.244.2.2',
    '10.244.1.2',
    '10.244.2.3',
    '10.244.2.2',
    '10.244.1.2',
  ]);
  t.true(
    trim(p.ipvsadm()).includes('  -> 10.244.2.3:80                Masq    1      0          2\n'),
  );
});

test('ClientIP affinity is "persistent TIMEOUT": one client keeps its pod across connections', (t) => {
  const p = proxier();
  p.onServiceAdd(
    myapp({
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
    }),
  );
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  t.true(p.ipvsadm().includes('TCP  10.96.72.106:80 rr persistent 600\n'));
  const a = [0, 1, 2, 3].map(
    (i) => p.classifyDest(IPPROTO_TCP, '10.244.1.9', 41000 + i, '10.96.72.106', 80, TCP_SYN, i)?.ip,
  );
  t.is(new Set(a).size, 1);
  const b = p.classifyDest(IPPROTO_TCP, '10.244.2.9', 41000, '10.96.72.106', 80, TCP_SYN, 5)?.ip;
  t.not(b, a[0]);
  t.true(
    p.ipvsadmConnections(5).includes('TCP 09:59  NONE        10.244.1.9:0       10.96.72.106:80'),
  );
});

test('no endpoints: the virtual service exists and the first packet gets NO_DEST', (t) => {
  const p = proxier();
  p.onServiceAdd(myapp());
  p.sync();
  t.true(p.ipvsadm().endsWith('TCP  10.96.72.106:80 rr\n'));
  const id = p.classify(
    IPPROTO_TCP,
    ipToU32('10.244.1.9'),
    1234,
    ipToU32('10.96.72.106'),
    80,
    TCP_SYN,
    60,
    0,
  );
  t.is(id, IpvsVerdict.NO_DEST);
  t.is(p.ipvs.services.find(IPPROTO_TCP, ipToU32('10.96.72.106'), 80)?.noDestCount, 1);
  // Not a service at all, and a non-SYN without a connection:
  t.is(
    p.classify(IPPROTO_TCP, 1, 1, ipToU32('10.96.72.107'), 80, TCP_SYN, 60, 0),
    IpvsVerdict.NOT_SERVICE,
  );
  t.is(
    p.classify(IPPROTO_TCP, 1, 1, ipToU32('10.96.72.106'), 80, 0x10, 60, 0),
    IpvsVerdict.NOT_SYN,
  );
});

test('deleting the Service deletes its virtual services and unbinds its address', (t) => {
  const p = myappProxier();
  p.onServiceDelete(myapp());
  p.sync();
  t.is(p.ipvsadm(), HEADER);
  t.deepEqual(p.kubeIpvs0Addresses(), []);
  t.is(p.ipsets.get('KUBE-CLUSTER-IP').size, 0);
});

test('externalTrafficPolicy Local: node ports use local endpoints, the cluster IP all of them', (t) => {
  const p = proxier();
  const spec = {
    type: 'NodePort' as const,
    externalTrafficPolicy: 'Local' as const,
    ports: [{ name: 'http', protocol: 'TCP' as const, port: 80, targetPort: 80, nodePort: 30001 }],
  };
  p.onServiceAdd(myapp(spec));
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  const out = trim(p.ipvsadm());
  t.true(
    out.includes(
      'TCP  10.0.100.11:30001 rr\n  -> 10.244.1.2:80                Masq    1      0          0\nTCP  10.96.72.106:80',
    ),
  );
  t.true(p.ipsets.get('KUBE-NODE-PORT-LOCAL-TCP').has('30001'));
  // The local pod reaching itself through the service is masqueraded (hairpin set).
  t.true(p.ipsets.get('KUBE-LOOP-BACK').has('10.244.1.2,tcp:80,10.244.1.2'));
});

test('--ipvs-scheduler mh sets mh-port; the svclab annotation picks a scheduler per service', (t) => {
  const p = proxier({ scheduler: 'mh', mhFallback: true });
  kubernetesService(p);
  const svc = myapp();
  svc.metadata.annotations = { [SCHEDULER_ANNOTATION]: 'sh' };
  p.onServiceAdd(svc);
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  const out = p.ipvsadm();
  t.true(out.includes('TCP  10.96.0.1:443 mh (mh-fallback,mh-port)\n'));
  t.true(out.includes('TCP  10.96.72.106:80 sh\n'));
  // Changing only the annotation re-syncs the service (edit, not re-create).
  const before = p.ops.vsAdd;
  const next = myapp();
  next.metadata.annotations = { [SCHEDULER_ANNOTATION]: 'lc' };
  p.onServiceUpdate(svc, next);
  p.sync();
  t.true(p.ipvsadm().includes('TCP  10.96.72.106:80 lc\n'));
  t.is(p.ops.vsAdd, before);
  t.is(p.ops.vsEdit, 1);
});

test('headless and ExternalName services get no virtual service', (t) => {
  const p = proxier();
  p.onServiceAdd(
    makeService('default', 'myapp-headless', {
      clusterIP: 'None',
      ports: [{ protocol: 'TCP', port: 80, targetPort: 80 }],
    }),
  );
  p.onServiceAdd(
    makeService('default', 'my-service-1', {
      type: 'ExternalName',
      externalName: 'hub.atguigu.com',
      ports: [],
    }),
  );
  p.onEndpointSliceAdd(
    makeSlice('default', 'myapp-headless', 's1', [ep('10.244.1.2')], [tcp('', 80)]),
  );
  p.sync();
  t.is(p.ipvsadm(), HEADER);
});

test('nothing is installed before both Services and EndpointSlices have synced', (t) => {
  const q = new IpvsProxier({ nodeName: 'n', nodeIPs: ['10.0.0.1'] });
  q.onServiceAdd(myapp());
  q.onEndpointSliceAdd(myappSlice(MYAPP_PODS));
  q.onServiceSynced();
  q.sync();
  t.is(q.ipvsadm(), HEADER);
  q.onEndpointSlicesSynced();
  q.sync();
  t.true(q.ipvsadm().includes('TCP  10.96.72.106:80 rr'));
});
