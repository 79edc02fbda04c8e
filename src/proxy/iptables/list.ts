// `iptables -t TABLE -n[v][x]L [CHAIN]` output, column for column as iptables 1.8.9
// (xshared.c print_header / print_rule_details, libxtables xtables_print_num).
// With -n, iptables-nft 1.8.9 prints the protocol column as a number (`6`, `0`).
import { u32ToIp } from '../../packet/addr.ts';
import { PROTOCOL_NAMES } from './parse.ts';
import { listRuleOptions, targetName } from './render.ts';
import { chainPrintOrder } from './rules.ts';
import type { Rule, RuleSet, Table, TableName } from './rules.ts';
import type { ObjectFragment } from './service-fragment.ts';
import { chainRules } from './table-rules.ts';

export interface ListOptions {
  /** -v: counters and interface columns (default true). */
  readonly verbose?: boolean;
  /** -x: exact counters instead of K/M/G suffixes (default false). */
  readonly exact?: boolean;
  /** -n: numeric addresses and protocols (default true; names only change `prot`/`*`). */
  readonly numeric?: boolean;
  /** Protocols by name even with -n (`tcp`, `all`), as iptables before 1.8 lists them. */
  readonly protocolNames?: boolean;
  /** List one chain only. */
  readonly chain?: string;
}

const pad = (s: string, w: number) => s.padEnd(w, ' ');
const lpad = (s: string, w: number) => s.padStart(w, ' ');

/** xtables_print_num in table mode. */
export function formatCount(n: number, exact: boolean): string {
  if (exact) return lpad(String(n), 8) + ' ';
  if (n <= 99999) return lpad(String(n), 5) + ' ';
  for (const unit of ['K', 'M', 'G']) {
    n = Math.floor((n + 500) / 1000);
    if (n <= 9999) return lpad(String(n), 4) + unit + ' ';
  }
  n = Math.floor((n + 500) / 1000);
  return lpad(String(n), 4) + 'T ';
}

/** xtables_print_num with FMT_NOTABLE (the policy line): no padding. */
function formatCountBare(n: number, exact: boolean): string {
  return formatCount(n, exact).trimStart();
}

function header(verbose: boolean, exact: boolean): string {
  let s = '';
  if (verbose) s += exact ? `${lpad('pkts', 8)} ${lpad('bytes', 10)} ` : ' pkts bytes ';
  s += pad('target', 9) + ' ';
  s += ' prot opt';
  if (verbose) s += ' ' + pad('in', 6) + ' ' + pad('out', 6) + ' ';
  s += ' ' + pad('source', 19) + ' ';
  s += ' ' + pad('destination', 19) + ' ';
  return s;
}

function address(a: number, prefix: number, inv: boolean, numeric: boolean): string {
  const text =
    prefix <= 0 && !inv
      ? numeric
        ? '0.0.0.0/0'
        : 'anywhere'
      : u32ToIp(a) + (prefix === 32 ? '' : `/${prefix}`);
  return (inv ? '!' : ' ') + pad(text, 19) + ' ';
}

function row(t: Table, i: number, r: Rule, o: Required<Omit<ListOptions, 'chain'>>): string {
  const c = t.counters;
  let s = '';
  if (o.verbose) s += formatCount(c.pkts[i] ?? 0, o.exact) + formatCount(c.bytes[i] ?? 0, o.exact);
  s += pad(targetName(r.target), 9) + ' ';
  s += r.protoInv ? '!' : ' ';
  const prot =
    o.numeric && !o.protocolNames
      ? String(r.proto)
      : r.proto === 0
        ? 'all'
        : (PROTOCOL_NAMES[r.proto] ?? String(r.proto));
  s += pad(prot, 5);
  s += '-- ';
  if (o.verbose) {
    const any = o.numeric ? '*' : 'any';
    s += ' ' + pad((r.inInv ? '!' : '') + (r.inIface || any), 6) + ' ';
    s += pad((r.outInv ? '!' : '') + (r.outIface || any), 6) + ' ';
  }
  s += address(r.src, r.srcPrefix, r.srcInv, o.numeric);
  s += address(r.dst, r.dstPrefix, r.dstInv, o.numeric);
  return s + listRuleOptions(r);
}

/** One table as `iptables -t TABLE -nvL` prints it (ends with a newline). */
export function iptablesList(rs: RuleSet, table: TableName, opts: ListOptions = {}): string {
  const t = table === 'filter' ? rs.filter : rs.nat;
  const o = {
    verbose: opts.verbose ?? true,
    exact: opts.exact ?? false,
    numeric: opts.numeric ?? true,
    protocolNames: opts.protocolNames ?? false,
  };
  const blocks: string[] = [];
  // Service rules are written again as objects for this view only (table-rules.ts).
  const made = new Map<number, ObjectFragment>();
  for (const ci of chainPrintOrder(t)) {
    const name = t.chainName[ci]!;
    if (opts.chain !== undefined && name !== opts.chain) continue;
    const lines: string[] = [];
    if (ci < t.builtins) {
      let pol = `Chain ${name} (policy ${t.chainDrop[ci] === 1 ? 'DROP' : 'ACCEPT'}`;
      if (o.verbose) {
        pol += ` ${formatCountBare(t.counters.policyPkts[ci] ?? 0, o.exact)}packets, `;
        pol += `${formatCountBare(t.counters.policyBytes[ci] ?? 0, o.exact)}bytes`;
      }
      lines.push(pol + ')');
    } else {
      lines.push(`Chain ${name} (${t.references[ci] ?? 0} references)`);
    }
    lines.push(header(o.verbose, o.exact));
    const first = t.chainFirst[ci]!;
    const rules = chainRules(t, ci, made, false);
    for (let k = 0; k < rules.length; k++) lines.push(row(t, first + k, rules[k]!, o));
    blocks.push(lines.join('\n'));
  }
  if (opts.chain !== undefined && blocks.length === 0) {
    throw new Error(`iptables: No chain/target/match by that name (${opts.chain}).`);
  }
  return blocks.join('\n\n') + '\n';
}
