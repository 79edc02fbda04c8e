// Builders for defaulted Service / EndpointSlice objects, in the style of
// kube-proxy's makeTestService / makeTestEndpointSlice.
import type { Endpoint, EndpointPort, EndpointSlice, Service } from '../../src/api/types.ts';

type Spec = Service['spec'];

export function makeService(
  namespace: string,
  name: string,
  spec: Partial<Spec> & Pick<Spec, 'ports'>,
  status?: Service['status'],
): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ...spec },
    ...(status === undefined ? {} : { status }),
  };
}

/** One endpoint: ready unless conditions say otherwise. */
export function ep(ip: string, extra: Partial<Endpoint> = {}): Endpoint {
  return { addresses: [ip], conditions: { ready: true }, ...extra };
}

export function makeSlice(
  namespace: string,
  service: string,
  sliceName: string,
  endpoints: Endpoint[],
  ports: EndpointPort[],
): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: sliceName,
      namespace,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

export function tcp(name: string, port: number): EndpointPort {
  return { name, port, protocol: 'TCP' };
}
