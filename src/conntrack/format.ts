// conntrack-tools 1.4.x output, byte for byte: `conntrack -L` lines as libnetfilter_conntrack's
// __snprintf_conntrack_default builds them (src/conntrack/snprintf_default.c), the summary
// line conntrack prints on stderr, `-C` and `-S`.

import { u32ToIp } from '../packet/addr.ts';
import { CtStatus, IPPROTO_ICMP, TCP_STATE_NAMES } from './constants.ts';
import type { CtEntry, CtTuple } from './entries.ts';
import type { CtStats } from './stats.ts';

/** The conntrack-tools version svclab impersonates. */
export const CONNTRACK_TOOLS_VERSION = '1.4.7';

// proto2str[] in libnetfilter_conntrack src/conntrack/snprintf.c; others print "unknown".
const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: 'icmp',
  6: 'tcp',
  17: 'udp',
  33: 'dccp',
  47: 'gre',
  58: 'icmpv6',
  132: 'sctp',
  136: 'udplite',
};

export interface FormatOptions {
  /** -o extended: prefix the layer-3 protocol ("ipv4     2 "). */
  readonly extended?: boolean;
  /** nf_conntrack_acct=1: "packets=N bytes=N" after each tuple. */
  readonly counters?: boolean;
}

/** printf("%-8s %u ", name, num). */
function protoField(name: string, num: number): string {
  return `${name.padEnd(8)} ${num} `;
}

/** __snprintf_address + __snprintf_proto for one tuple. */
function tupleField(proto: number, t: CtTuple): string {
  const addr = `src=${u32ToIp(t.src)} dst=${u32ToIp(t.dst)} `;
  if (proto === IPPROTO_ICMP) {
    return `${addr}type=${t.dport >>> 8} code=${t.dport & 0xff} id=${t.sport} `;
  }
  if (proto === 6 || proto === 17 || proto === 132 || proto === 33 || proto === 136) {
    return `${addr}sport=${t.sport} dport=${t.dport} `;
  }
  return addr;
}

/** One `conntrack -L` line (no newline). */
export function formatEntry(e: CtEntry, opts: FormatOptions = {}): string {
  let s = opts.extended ? protoField('ipv4', 2) : '';
  s += protoField(PROTO_NAMES[e.proto] ?? 'unknown', e.proto);
  s += `${e.timeout} `;
  if (e.tcpState >= 0) s += `${TCP_STATE_NAMES[e.tcpState] ?? 'NONE'} `;
  s += tupleField(e.proto, e.orig);
  if (opts.counters) s += `packets=${e.origPackets} bytes=${e.origBytes} `;
  if (!(e.status & CtStatus.SEEN_REPLY)) s += '[UNREPLIED] ';
  s += tupleField(e.proto, e.reply);
  if (opts.counters) s += `packets=${e.replyPackets} bytes=${e.replyBytes} `;
  if (e.status & CtStatus.ASSURED) s += '[ASSURED] ';
  s += `mark=${e.mark} use=${e.use} `;
  return s.slice(0, -1); // "Delete the last blank space"
}

/** conntrack's closing line on stderr, e.g. "... 3 flow entries have been shown.\n". */
export function summaryLine(n: number, verb: 'shown' | 'deleted' | 'updated' = 'shown'): string {
  return `conntrack v${CONNTRACK_TOOLS_VERSION} (conntrack-tools): ${n} flow entries have been ${verb}.\n`;
}

/** `conntrack -L` (or -D with verb 'deleted'): entry lines on stdout, the summary on stderr. */
export function formatList(
  entries: readonly CtEntry[],
  opts: FormatOptions = {},
  verb: 'shown' | 'deleted' = 'shown',
): { stdout: string; stderr: string } {
  let stdout = '';
  for (const e of entries) stdout += `${formatEntry(e, opts)}\n`;
  return { stdout, stderr: summaryLine(entries.length, verb) };
}

/** `conntrack -C`: the entry count. */
export function formatCount(n: number): string {
  return `${n}\n`;
}

/**
 * `conntrack -S`: one line per CPU, printf("cpu=%-4u\t") then "%s=%u " per counter the kernel
 * sends (ctnetlink_ct_stat_cpu_fill_info order). svclab has one CPU.
 */
export function formatStats(s: CtStats, cpu = 0): string {
  const fields: [string, number][] = [
    ['found', s.found],
    ['invalid', s.invalid],
    ['insert', s.insert],
    ['insert_failed', s.insertFailed],
    ['drop', s.drop],
    ['early_drop', s.earlyDrop],
    ['error', s.error],
    ['search_restart', s.searchRestart],
    ['clash_resolve', s.clashResolve],
    ['chaintoolong', s.chainTooLong],
  ];
  let line = `cpu=${String(cpu).padEnd(4)}\t`;
  for (const [k, v] of fields) line += `${k}=${v >>> 0} `;
  return `${line}\n`;
}
