// NftablesProxier builders for tests, with kube-proxy's NewFakeProxier settings
// (pkg/proxy/nftables/proxier_test.go): node test-node at 192.168.0.2 (plus two more
// node IPs, as testNodeIPs), pod CIDR 10.0.0.0/8, service CIDR 172.30.0.0/16.
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { NftablesProxier } from '../../../src/proxy/nftables/proxier.ts';
import type { NftablesProxierOptions } from '../../../src/proxy/nftables/proxier.ts';
import type { FlowScenario } from '../flow-cases.ts';
import { TEST_NODE_IP, TEST_NODE_NAME } from '../iptables/kube-fixture.ts';

export const NFT_FAKE_OPTIONS: NftablesProxierOptions = {
  nodeName: TEST_NODE_NAME,
  nodeIPs: [TEST_NODE_IP, '192.168.1.2', '192.168.99.11'],
  clusterCIDR: '10.0.0.0/8',
  serviceCIDRs: ['172.30.0.0/16'],
};

export function nftProxier(
  services: readonly Service[],
  slices: readonly EndpointSlice[],
  opts: Partial<NftablesProxierOptions> = {},
): NftablesProxier {
  const px = new NftablesProxier({ ...NFT_FAKE_OPTIONS, ...opts });
  for (const s of services) px.onServiceAdd(s);
  for (const s of slices) px.onEndpointSliceAdd(s);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

/** A proxier for one of the shared packet-flow scenarios. */
export function scenarioProxier(s: FlowScenario): NftablesProxier {
  const { clusterCIDR, ...base } = NFT_FAKE_OPTIONS;
  const { services, slices } = s.objects();
  const px = new NftablesProxier({
    ...base,
    ...(s.options?.noClusterCIDR === true || clusterCIDR === undefined ? {} : { clusterCIDR }),
    ...(s.options?.masqueradeAll === true ? { masqueradeAll: true } : {}),
  });
  for (const svc of services) px.onServiceAdd(svc);
  for (const slice of slices) px.onEndpointSliceAdd(slice);
  px.sync();
  return px;
}
