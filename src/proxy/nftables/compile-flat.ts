// What a sync compiles: the table straight into its flat program (program.ts), the form
// packets walk. The fixed part is small and built as objects, then flattened; every service
// port is written as integer records (flat-services.ts). The object Ruleset with its rule text
// (compile.ts) is only built when a listing, a dump or a trace asks for it.
import type { ServicePortEntry } from '../service-map.ts';
import type { AffinitySource } from './affinity.ts';
import { RulesetBuilder } from './builder.ts';
import { TABLE_COMMENT, hookOrder, writeFixedPart } from './compile.ts';
import type { NftablesOptions } from './compile.ts';
import { writeServicePortFlat } from './flat-services.ts';
import type { FlatContext } from './flat-services.ts';
import * as N from './names.ts';
import type { NameCache } from './names.ts';
import { flattenRuleset } from './program.ts';
import type { NftProgram } from './program.ts';
import { ProgramWriter } from './program-writer.ts';

/** The program of the whole table for `entries` (sorted by key, as the snapshot gives them). */
export function compileFlat(
  entries: readonly ServicePortEntry[],
  opts: NftablesOptions,
  names: NameCache,
  affinity: AffinitySource,
): NftProgram {
  names.nextGeneration();
  affinity.begin();
  const b = new RulesetBuilder(N.KUBE_PROXY_TABLE, TABLE_COMMENT);
  const fixed = writeFixedPart(b, entries, opts);
  const rs = b.build(hookOrder);
  // Sizes for the common case (no affinity, one policy chain): the writer grows past them.
  let endpoints = 0;
  for (const e of entries) endpoints += e.endpoints.length;
  const words = 32 * entries.length + 20 * endpoints;
  const flat = flattenRuleset(rs);
  const w = new ProgramWriter(
    flat.program,
    words + 2 * entries.length + endpoints,
    2 * entries.length + endpoints,
  );
  const s = fixed.sets;
  const table = flat.tableFor;
  const ctx: FlatContext = {
    w,
    names,
    affinity,
    masqueradeAll: fixed.masqueradeAll,
    masqueradeWithPort: fixed.masqueradeWithPort,
    clusterCIDR: fixed.clusterCIDR,
    nodeIP: fixed.nodeIP,
    markMasq: w.target(rs.chainIndex.get(N.MARK_MASQ_CHAIN)!),
    rejectChain: w.target(rs.chainIndex.get(N.REJECT_CHAIN)!),
    tables: {
      clusterIPs: table(s.clusterIPs.table),
      serviceIPs: table(s.serviceIPs.table),
      serviceNodePorts: table(s.serviceNodePorts.table),
      noEndpointServices: table(s.noEndpointServices.table),
      noEndpointNodePorts: table(s.noEndpointNodePorts.table),
      firewallIPs: table(s.firewallIPs.table),
    },
  };
  for (const e of entries) writeServicePortFlat(ctx, e);
  affinity.end();
  return w.finish();
}
