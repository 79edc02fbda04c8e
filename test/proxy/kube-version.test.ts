// The cluster's kubernetesVersion reaches each node's kube-proxy (control/kube-proxy.ts
// passes it as the configuration's `version`) and selects its rule shapes: the current
// ones by default, older ones where kube-proxy changed (docs/proxy-*.md).
import test from 'ava';
import { Cluster } from '../../src/control/cluster.ts';
import { setUpNode } from '../../src/control/node-setup.ts';
import type { ProxyMode } from '../../src/control/node-setup.ts';
import { runNodeTool } from '../../src/proxy/node-tool.ts';

function nodeTool(kubernetesVersion: string, mode: ProxyMode, argv: string[]): string {
  const cluster = new Cluster({ kubernetesVersion });
  const n = setUpNode(cluster, 'k8s-node01', { mode });
  n.proxier.sync();
  const out = runNodeTool(n, argv, 0);
  if (out.exitCode !== 0) throw new Error(out.stderr);
  return out.stdout;
}

test('nftables: v1.34+ writes the pre-DNAT chains, v1.33 the older layout', (t) => {
  const current = nodeTool('v1.35.0', 'nftables', ['nft', 'list', 'ruleset']);
  t.regex(current, /chain filter-output-pre-dnat \{\n\t\ttype filter hook output priority -110;/);
  t.regex(current, /chain filter-input \{\n\t\ttype filter hook input priority filter;/);
  t.false(current.includes('filter-output-post-dnat'));
  const older = nodeTool('v1.33.1', 'nftables', ['nft', 'list', 'ruleset']);
  t.regex(older, /chain filter-output-post-dnat \{\n\t\ttype filter hook output priority -90;/);
  t.false(older.includes('pre-dnat'));
});

test('iptables: v1.31+ counts with nfacct, v1.29 does not', (t) => {
  const current = nodeTool('v1.32.0', 'iptables', ['iptables-save', '-t', 'filter']);
  t.regex(
    current,
    /^-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name {2}ct_state_invalid_dropped_pkts -j DROP$/m,
  );
  const older = nodeTool('v1.29.3', 'iptables', ['iptables-save', '-t', 'filter']);
  t.regex(older, /^-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP$/m);
});
