// iptables mode's node views: its rules through iptables-save / iptables -L; no IPVS
// services, no ipsets, and no nftables table of kube-proxy's own. (The rules also exist in
// the kernel as iptables-nft's `table ip nat`/`filter`; svclab prints them the way
// iptables-save does and leaves `nft list ruleset` empty, as before.)
import {
  type IpsetRequest,
  type IptablesListRequest,
  type IptablesSaveRequest,
  type IpvsadmRequest,
  type NftRequest,
  type NodeViews,
  ToolError,
  emptyIpvsadm,
  noIpsets,
  noNftTables,
} from '../views.ts';
import { iptablesList } from './list.ts';
import type { RuleSet } from './rules.ts';
import { iptablesSave, saveOptionsOf } from './save.ts';

/** The views of a rule set (read through `rules()` so a sync's new table is seen). */
export class IptablesNodeViews implements NodeViews {
  readonly mode: string = 'iptables';

  constructor(private readonly rules: () => RuleSet) {}

  iptablesSave(r: IptablesSaveRequest, nowMs = 0): string {
    return iptablesSave(this.rules(), saveOptionsOf(r, nowMs));
  }

  iptablesList(r: IptablesListRequest): string {
    return listOrThrow(this.rules(), r);
  }

  nftList(r: NftRequest): string {
    return noNftTables(r);
  }

  ipvsadm(r: IpvsadmRequest): string {
    return emptyIpvsadm(r);
  }

  ipsetList(r: IpsetRequest): string {
    return noIpsets(r);
  }
}

/** iptablesList, its "no such chain" as the tool's error. */
export function listOrThrow(rules: RuleSet, r: IptablesListRequest): string {
  try {
    return iptablesList(rules, r.table, {
      verbose: r.verbose,
      exact: r.exact,
      protocolNames: r.binary?.protocolNames ?? false,
      ...(r.chain !== undefined ? { chain: r.chain } : {}),
    });
  } catch (e) {
    if (e instanceof Error && e.message.startsWith('iptables: No chain'))
      throw new ToolError(`${e.message}\n`, 1);
    throw e;
  }
}
