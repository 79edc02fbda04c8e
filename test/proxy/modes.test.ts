// The mode factory: a proxier by mode name and one KubeProxyConfiguration, each mode
// reading the common fields and its own sub-object.
import test from 'ava';
import type { KubeProxyConfiguration } from '../../src/proxy/config.ts';
import type { DataplaneProxier } from '../../src/proxy/hooks.ts';
import { IptablesProxier } from '../../src/proxy/iptables/proxier.ts';
import { IpvsDataplaneProxier } from '../../src/proxy/ipvs/dataplane.ts';
import { PROXY_MODES, isProxyMode, newProxier } from '../../src/proxy/modes.ts';
import { NftablesProxier } from '../../src/proxy/nftables/proxier.ts';
import { UserspaceProxier } from '../../src/proxy/userspace/proxier.ts';
import { seededRandom } from '../../src/proxy/random.ts';
import { ep, makeService, makeSlice, tcp } from './fixtures.ts';
import { sendFirstPacket } from './flow.ts';

const CONFIG: KubeProxyConfiguration = {
  nodeName: 'node-a',
  nodeIPs: ['10.0.100.11'],
  clusterCIDR: '10.244.0.0/16',
};
const runtime = () => ({ random: seededRandom(1), nowNs: () => 0 });

function fed(px: DataplaneProxier): DataplaneProxier {
  px.onServiceAdd(
    makeService('default', 'web', {
      clusterIP: '10.96.0.100',
      ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }],
    }),
  );
  px.onEndpointSliceAdd(
    makeSlice('default', 'web', 'web-1', [ep('10.244.1.10')], [tcp('http', 8080)]),
  );
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

test('the modes by name, in the order svclab lists them', (t) => {
  t.deepEqual(PROXY_MODES, ['iptables', 'ipvs', 'nftables', 'userspace']);
  t.true(isProxyMode('ipvs'));
  t.true(isProxyMode('userspace'));
  t.false(isProxyMode('kernelspace'));
  t.false(isProxyMode('toString'));
});

test('each mode is its proxier, and serves a ClusterIP from the same configuration', (t) => {
  const want = {
    iptables: IptablesProxier,
    ipvs: IpvsDataplaneProxier,
    nftables: NftablesProxier,
    userspace: UserspaceProxier,
  };
  for (const mode of PROXY_MODES) {
    const px = fed(newProxier(mode, CONFIG, runtime()));
    t.true(px instanceof want[mode], mode);
    // userspace mode DNATs (REDIRECTs) to its own proxy port; its relay picks the backend.
    t.regex(
      sendFirstPacket(px, { src: '10.244.2.5', dst: '10.96.0.100', dport: 80 }).output,
      mode === 'userspace' ? /^10\.0\.100\.11:\d+$/ : /^10\.244\.1\.10:8080$/,
      mode,
    );
  }
});

test('a mode reads its own sub-object', (t) => {
  const ipvs = newProxier('ipvs', { ...CONFIG, ipvs: { scheduler: 'wlc' } }, runtime());
  t.regex((fed(ipvs) as IpvsDataplaneProxier).ipvs.ipvsadm(), /TCP {2}10\.96\.0\.100:80 wlc/);
  t.throws(() => newProxier('ipvs', { ...CONFIG, ipvs: { scheduler: 'nope' } }, runtime()), {
    message: /unknown IPVS scheduler nope/,
  });
  const ipt = newProxier(
    'iptables',
    { ...CONFIG, iptables: { localhostNodePorts: false } },
    runtime(),
  );
  t.regex(
    (ipt as IptablesProxier).save({ table: 'nat' }),
    /! -d 127\.0\.0\.0\/8 .*-j KUBE-NODEPORTS/,
  );
  const nft = newProxier(
    'nftables',
    { ...CONFIG, nftables: { serviceCIDRs: ['10.96.0.0/12'] } },
    runtime(),
  );
  t.regex((nft as NftablesProxier).listRuleset(), /ip daddr 10\.96\.0\.0\/12 drop/);
  // Another mode's sub-object changes nothing.
  const plain = newProxier('nftables', { ...CONFIG, ipvs: { scheduler: 'sh' } }, runtime());
  t.notRegex((plain as NftablesProxier).listRuleset(), /10\.96\.0\.0\/12/);
});
