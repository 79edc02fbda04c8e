// A node's IpvsProxier fed with Services and EndpointSlices, as the control plane would.
import type { Endpoint, Service } from '../../../src/api/types.ts';
import { IpvsProxier } from '../../../src/proxy/ipvs/proxier.ts';
import type { IpvsProxierOptions } from '../../../src/proxy/ipvs/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

export const NODE = 'k8s-node01';
export const NODE_IP = '10.0.100.11';

export function proxier(opts: Partial<IpvsProxierOptions> = {}, clock = { now: 0 }): IpvsProxier {
  const p = new IpvsProxier({
    nodeName: NODE,
    nodeIPs: [NODE_IP],
    clusterCIDR: '10.244.0.0/16',
    now: () => clock.now,
    ...opts,
  });
  p.onServiceSynced();
  p.onEndpointSlicesSynced();
  return p;
}

/** default/kubernetes: 10.96.0.1:443 -> the API server on k8s-master01. */
export function kubernetesService(p: IpvsProxier): void {
  p.onServiceAdd(
    makeService('default', 'kubernetes', {
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: 6443 }],
    }),
  );
  p.onEndpointSliceAdd(
    makeSlice('default', 'kubernetes', 'kubernetes', [ep('10.0.100.10')], [tcp('https', 6443)]),
  );
}

/** The seed's myapp Deployment (3 pods) behind a Service on port 80. */
export const MYAPP_PODS: readonly Endpoint[] = [
  ep('10.244.1.2', { nodeName: 'k8s-node01' }),
  ep('10.244.2.2', { nodeName: 'k8s-node02' }),
  ep('10.244.2.3', { nodeName: 'k8s-node02' }),
];

export function myapp(spec: Partial<Service['spec']> = {}, status?: Service['status']): Service {
  return makeService(
    'default',
    'myapp',
    {
      clusterIP: '10.96.72.106',
      selector: { app: 'myapp', release: 'stabel' },
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 80 }],
      ...spec,
    },
    status,
  );
}

export function myappSlice(pods: readonly Endpoint[] = MYAPP_PODS) {
  return makeSlice('default', 'myapp', 'myapp-abcde', [...pods], [tcp('http', 80)]);
}

/** A proxier with myapp's Service and its three pods, synced. */
export function myappProxier(clock = { now: 0 }): IpvsProxier {
  const p = proxier({}, clock);
  p.onServiceAdd(myapp());
  p.onEndpointSliceAdd(myappSlice());
  p.sync();
  return p;
}
