// nftables mode's node views: kube-proxy's `table ip kube-proxy` through `nft list`; no
// IPVS services, no ipsets. iptables-nft sees no ip filter/nat rules of kube-proxy's on such
// a node: `iptables -L` shows the empty built-in chains and `iptables-save` prints nothing.
// Those empty chains are printed by iptables mode's renderer (a deliberate import across
// modes: it is iptables' own output format, not iptables mode's state).
import { loadRestoreText } from '../iptables/load.ts';
import { listOrThrow } from '../iptables/views.ts';
import {
  type IpsetRequest,
  type IptablesListRequest,
  type IptablesSaveRequest,
  type IpvsadmRequest,
  type NftRequest,
  type NodeViews,
  ToolError,
  emptyIpvsadm,
  nftError,
  noIpsets,
} from '../views.ts';
import { listRuleset } from './list.ts';
import type { Ruleset } from './ruleset.ts';

export class NftablesNodeViews implements NodeViews {
  readonly mode: string = 'nftables';

  /** `now`: the proxier's clock in seconds (affinity expiries). */
  constructor(
    private readonly ruleset: () => Ruleset,
    private readonly now: () => number,
  ) {}

  iptablesSave(_r: IptablesSaveRequest): string {
    return '';
  }

  iptablesList(r: IptablesListRequest): string {
    return listOrThrow(loadRestoreText(''), r);
  }

  nftList(r: NftRequest): string {
    const rs = this.ruleset();
    const text = listRuleset(rs, this.now());
    const words = r.line.split(' ');
    const missing = (): never => {
      throw new ToolError(nftError('No such file or directory', words, words.length - 1), 1);
    };
    const ours =
      (r.family === undefined || r.family === rs.family) && (r.table ?? rs.name) === rs.name;
    switch (r.what) {
      case 'ruleset':
        return ours ? text : '';
      case 'tables':
        return ours ? `table ${rs.family} ${rs.name}\n` : '';
      case 'table':
        return ours ? text : missing();
      default: {
        if (!ours) return missing();
        // One chain, set or map block of the listing, inside its table.
        const head = `\t${r.what} ${r.name} {\n`;
        const start = text.indexOf(head);
        if (start < 0) return missing();
        const end = text.indexOf('\n\t}\n', start);
        return `table ${rs.family} ${rs.name} {\n${text.slice(start, end + 4)}}\n`;
      }
    }
  }

  ipvsadm(r: IpvsadmRequest): string {
    return emptyIpvsadm(r);
  }

  ipsetList(r: IpsetRequest): string {
    return noIpsets(r);
  }
}
