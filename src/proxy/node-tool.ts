// Running a node's tool: find the node's views, parse argv with the tools' grammar
// (tool-args.ts), render. This is all the CLI, the scenario session, the lab and the API
// server's node-tool endpoint do with `iptables`, `ipvsadm`, `nft`, `ipset`, `conntrack`.
//
// conntrack is rendered here, not by a mode: the table is the node dataplane's, mode-neutral
// state, so a ToolNode carries the dataplane's conntrack table (src/conntrack, rank 1, below
// proxy; the dataplane itself is rank 3 and cannot be imported here) beside the proxier.
import type { Conntrack } from '../conntrack/conntrack.ts';
import { formatCount, formatList, formatStats } from '../conntrack/format.ts';
import type { DataplaneProxier } from './hooks.ts';
import { type IptablesBinary, type ToolRequest, parseToolArgv } from './tool-args.ts';
import {
  type NodeViews,
  type ToolOutput,
  ToolError,
  iptablesRulesFromSave,
  lineNumbers,
  toolFail,
  toolOk,
} from './views.ts';

export { NODE_TOOL_NAMES, parseToolArgv } from './tool-args.ts';
export type { ToolOutput } from './views.ts';

/** The node a tool runs on: its proxier and its dataplane's conntrack table. */
export interface ToolNode {
  readonly proxier: DataplaneProxier;
  readonly dataplane: { readonly ct: Conntrack };
  /** The node's iptables binary (default: iptables v1.8.9 (nf_tables)). */
  readonly iptables?: IptablesBinary;
}

/** The views of a node's proxier: every mode's proxier renders its own (views()). */
export function nodeViewsOf(proxier: DataplaneProxier): NodeViews {
  return proxier.views();
}

/** Render a parsed request on a node. */
export function renderNodeTool(node: ToolNode, req: ToolRequest, nowMs: number): ToolOutput {
  try {
    switch (req.tool) {
      case 'conntrack': {
        const ct = node.dataplane.ct;
        if (req.op === 'count') return toolOk(formatCount(ct.count));
        if (req.op === 'stats') return toolOk(formatStats(ct.stats));
        const { stdout, stderr } = formatList(ct.list(nowMs, req.filter), {
          extended: req.extended,
        });
        return toolOk(stdout, stderr);
      }
      case 'iptables-save': {
        const binary = node.iptables;
        const r = binary === undefined ? req : { ...req, binary };
        return toolOk(nodeViewsOf(node.proxier).iptablesSave(r, nowMs));
      }
      case 'iptables': {
        const views = nodeViewsOf(node.proxier);
        if (req.op === 'rules') {
          const save = views.iptablesSave({
            tool: 'iptables-save',
            table: req.table,
            counters: false,
          });
          return toolOk(iptablesRulesFromSave(save, req));
        }
        const binary = node.iptables;
        const out = views.iptablesList(binary === undefined ? req : { ...req, binary });
        return toolOk(req.lineNumbers ? lineNumbers(out) : out);
      }
      case 'nft':
        return toolOk(nodeViewsOf(node.proxier).nftList(req));
      case 'ipvsadm':
        return toolOk(nodeViewsOf(node.proxier).ipvsadm(req, nowMs));
      case 'ipset':
        return toolOk(nodeViewsOf(node.proxier).ipsetList(req));
    }
  } catch (e) {
    if (e instanceof ToolError) return toolFail(e.stderr, e.exitCode);
    throw e;
  }
}

/** Parse argv (argv[0] is the tool) with the tools' grammar and render it on `node`. */
export function runNodeTool(node: ToolNode, argv: readonly string[], nowMs: number): ToolOutput {
  const req = parseToolArgv(argv);
  return 'tool' in req ? renderNodeTool(node, req, nowMs) : req;
}
