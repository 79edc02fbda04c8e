// `svclab lab show …`: the live lab in the formats of the simulated views — kubectl get
// tables, ipvsadm -Ln, iptables-save / iptables -nvL, nft list ruleset, conntrack -L.
import type { Cluster } from '../control/cluster.ts';
import { KubectlError, renderGet } from '../control/kubectl-get.ts';
import type { SimNode } from '../control/node-setup.ts';
import { formatList } from '../conntrack/format.ts';
import { IptablesProxier } from '../proxy/iptables/proxier.ts';
import { IpvsDataplaneProxier } from '../proxy/ipvs/dataplane.ts';
import { NftablesProxier } from '../proxy/nftables/proxier.ts';

export const SHOW_VIEWS = [
  'svc',
  'pods',
  'endpoints',
  'endpointslices',
  'deploy',
  'ingress',
  'nodes',
  'ipvs',
  'iptables',
  'iptables-save',
  'nft',
  'conntrack',
] as const;

export interface ShowRequest {
  what: string;
  node?: string;
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
}

export interface ShowResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

const ok = (stdout: string, stderr = ''): ShowResult => ({ stdout, stderr, exitCode: 0 });
const fail = (stderr: string): ShowResult => ({ stdout: '', stderr, exitCode: 1 });

export function renderShow(cluster: Cluster, node: SimNode, r: ShowRequest): ShowResult {
  const nowMs = cluster.now() / 1e6;
  const px = node.proxier;
  switch (r.what) {
    case 'ipvs':
      if (!(px instanceof IpvsDataplaneProxier)) return fail('the lab is not in ipvs mode\n');
      return ok(px.ipvs.ipvsadm({}));
    case 'iptables':
      if (!(px instanceof IptablesProxier)) return fail('the lab is not in iptables mode\n');
      return ok(px.list('nat', { verbose: true }));
    case 'iptables-save':
      if (!(px instanceof IptablesProxier)) return fail('the lab is not in iptables mode\n');
      return ok(px.save({}));
    case 'nft':
      if (!(px instanceof NftablesProxier)) return fail('the lab is not in nftables mode\n');
      return ok(px.listRuleset());
    case 'conntrack': {
      const { stdout, stderr } = formatList(node.dataplane.ct.list(nowMs), {});
      return ok(stdout, stderr);
    }
    default:
      try {
        const out = renderGet(cluster, r.what, [], {
          namespace: r.namespace ?? 'default',
          allNamespaces: r.allNamespaces === true,
          output: r.output ?? 'wide',
        });
        return ok(out.stdout, out.stderr);
      } catch (e) {
        if (e instanceof KubectlError) return fail(`${e.message}\n`);
        throw e;
      }
  }
}
