// ipvsadm's views as pure functions of the IPVS state, in ipvsadm 1.31's exact layout
// (ipvsadm.c print_title / print_service_entry / print_largenum / print_conn, checked
// against the format strings in Debian's 1.31 binary): `-Ln`, `--stats`, `--rate`,
// `--thresholds`, `--persistent-conn`, `--exact`, `-Lnc`, `-Sn`, `--timeout`. Services and
// servers are sorted as libipvs does (ipvs_cmp_services / ipvs_cmp_dests fed to glibc's
// merge sort), including its int-overflowing address comparison. Output is numeric (-n).
import { u32ToIp } from '../../packet/addr.ts';
import {
  ConnFlag,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPVS_CONN_TAB_SIZE,
  IPVS_VERSION,
  SCHED_MH_FALLBACK,
  SCHED_MH_PORT,
  SCHED_SH_FALLBACK,
  SCHED_SH_PORT,
  SvcFlag,
  fwdName,
  protoName,
} from './constants.ts';
import type { IpvsDest } from './dest.ts';
import type { Ipvs } from './ipvs.ts';
import type { VirtualService } from './service.ts';
import type { ServiceTable } from './table.ts';

export interface IpvsadmListOptions {
  /** --stats */
  readonly stats?: boolean;
  /** --rate */
  readonly rate?: boolean;
  /** --thresholds */
  readonly thresholds?: boolean;
  /** --persistent-conn */
  readonly persistentConn?: boolean;
  /** --exact: numbers without K/M/G/T. */
  readonly exact?: boolean;
  /** --nosort: kernel order (newest server first). */
  readonly nosort?: boolean;
}

/** printf("%-Ns") */
const left = (s: string, n: number): string => s.padEnd(n);
/** printf("%Ns") */
const right = (s: string, n: number): string => s.padStart(n);

/** print_largenum(): %9llu below 100 million, then K/M/G/T with %8llu. */
export function largenum(i: number, exact = false): string {
  if (exact) {
    const s = String(i);
    return right(s, s.length <= 8 ? 9 : s.length + 1);
  }
  if (i < 1e8) return right(String(i), 9);
  if (i < 1e9) return right(String(Math.floor(i / 1e3)), 8) + 'K';
  if (i < 1e11) return right(String(Math.floor(i / 1e6)), 8) + 'M';
  if (i < 1e14) return right(String(Math.floor(i / 1e9)), 8) + 'G';
  return right(String(Math.floor(i / 1e12)), 8) + 'T';
}

/** int subtraction of two u32 (ntohl(a) - ntohl(b) returned as int). */
const intDiff = (a: number, b: number): number => (a - b) | 0;

/** ipvs_cmp_services(). */
export function compareServices(a: VirtualService, b: VirtualService): number {
  return (
    intDiff(a.fwmark, b.fwmark) ||
    a.protocol - b.protocol ||
    intDiff(a.addr, b.addr) ||
    a.port - b.port
  );
}

/** ipvs_cmp_dests(). */
export function compareDests(a: IpvsDest, b: IpvsDest): number {
  return intDiff(a.addr, b.addr) || a.port - b.port;
}

/** glibc's msort_with_tmp: top-down merge sort, left run wins ties (qsort of glibc <= 2.36). */
export function glibcMergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items;
  const n1 = items.length >> 1;
  const a = glibcMergeSort(items.slice(0, n1), cmp);
  const b = glibcMergeSort(items.slice(n1), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** print_sched_flags(): scheduler-specific names for SCHED1..3, comma-joined. */
export function schedFlags(svc: VirtualService): string {
  const f = svc.flags;
  const out: string[] = [];
  if (svc.schedulerName === 'sh') {
    if (f & SCHED_SH_FALLBACK) out.push('sh-fallback');
    if (f & SCHED_SH_PORT) out.push('sh-port');
  } else if (svc.schedulerName === 'mh') {
    if (f & SCHED_MH_FALLBACK) out.push('mh-fallback');
    if (f & SCHED_MH_PORT) out.push('mh-port');
  } else {
    if (f & SvcFlag.SCHED1) out.push('flag-1');
    if (f & SvcFlag.SCHED2) out.push('flag-2');
  }
  if (f & SvcFlag.SCHED3) out.push('flag-3');
  return out.join(',');
}

const addrPort = (addr: number, port: number): string => `${u32ToIp(addr)}:${port}`;

/** The service column: `TCP  10.96.0.1:443` ("%-4s %s", cut at 33 as ipvsadm does for IPv4). */
export function serviceName(svc: VirtualService): string {
  if (svc.fwmark !== 0) return `FWM  ${svc.fwmark}`;
  return `${left(protoName(svc.protocol), 4)} ${addrPort(svc.addr, svc.port)}`.slice(0, 33);
}

function sortedServices(table: ServiceTable, nosort: boolean): VirtualService[] {
  const all = [...table.services()];
  return nosort ? all : glibcMergeSort(all, compareServices);
}

function sortedDests(svc: VirtualService, nosort: boolean): IpvsDest[] {
  const all = svc.dests();
  return nosort ? all : glibcMergeSort(all, compareDests);
}

function title(o: IpvsadmListOptions): string[] {
  const sub = '  -> RemoteAddress:Port';
  const h = (cols: string[], widths: number[]) =>
    [
      left('Prot LocalAddress:Port', 33),
      ...cols.map((c, i) => (widths[i]! > 0 ? right(c, widths[i]!) : left(c, -widths[i]!))),
    ].join(' ');
  if (o.stats)
    return [h(['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'], [8, 8, 8, 8, 8]), sub];
  if (o.rate) return [h(['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'], [8, 8, 8, 8, 8]), sub];
  if (o.thresholds) {
    return [h(['Uthreshold', 'Lthreshold', 'ActiveConn', 'InActConn'], [-10, -10, -10, -10]), sub];
  }
  if (o.persistentConn) {
    return [h(['Weight', 'PersistConn', 'ActiveConn', 'InActConn'], [-9, -11, -10, -10]), sub];
  }
  return [
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
  ];
}

function serviceLine(svc: VirtualService, o: IpvsadmListOptions): string {
  const name = serviceName(svc);
  const x = o.exact === true;
  if (o.stats || o.rate) {
    const s = svc.stats;
    const r = s.rates();
    const nums = o.stats
      ? [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
      : [r.cps, r.inpps, r.outpps, r.inbps, r.outbps];
    return left(name, 33) + nums.map((n) => largenum(n, x)).join('');
  }
  let line = `${name} ${svc.schedulerName}`;
  const flags = schedFlags(svc);
  if (flags !== '') line += ` (${flags})`;
  if (svc.persistent) {
    line += ` persistent ${svc.timeout}`;
    if (svc.netmask !== 0xffffffff) line += ` mask ${u32ToIp(svc.netmask)}`;
  }
  if (svc.flags & SvcFlag.ONEPACKET) line += ' ops';
  return line;
}

function destLine(d: IpvsDest, o: IpvsadmListOptions): string {
  const name = addrPort(d.addr, d.port).slice(0, 28);
  const x = o.exact === true;
  if (o.stats) {
    const s = d.stats;
    return `  -> ${left(name, 28)}${[s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes].map((n) => largenum(n, x)).join('')}`;
  }
  if (o.rate) {
    const r = d.stats.rates();
    return `  -> ${left(name, 28)} ${right(String(r.cps), 8)} ${right(String(r.inpps), 8)} ${right(String(r.outpps), 8)}${largenum(r.inbps, x)}${largenum(r.outbps, x)}`;
  }
  if (o.thresholds) {
    return `  -> ${left(name, 28)} ${[d.uThreshold, d.lThreshold, d.activeConns, d.inactConns].map((n) => left(String(n), 10)).join(' ')}`;
  }
  if (o.persistentConn) {
    return `  -> ${left(name, 28)} ${left(String(d.weight), 9)} ${left(String(d.persistConns), 11)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}`;
  }
  return `  -> ${left(name, 28)} ${left(fwdName(d.connFlags), 7)} ${left(String(d.weight), 6)} ${left(String(d.activeConns), 10)} ${left(String(d.inactConns), 10)}`;
}

/** `ipvsadm -Ln [--stats|--rate|--thresholds|--persistent-conn] [--exact] [--nosort]`. */
export function ipvsadmList(table: ServiceTable, o: IpvsadmListOptions = {}): string {
  const lines = [
    `IP Virtual Server version ${IPVS_VERSION} (size=${IPVS_CONN_TAB_SIZE})`,
    ...title(o),
  ];
  for (const svc of sortedServices(table, o.nosort === true)) {
    lines.push(serviceLine(svc, o));
    for (const d of sortedDests(svc, o.nosort === true)) lines.push(destLine(d, o));
  }
  return lines.join('\n') + '\n';
}

/** `ipvsadm --timeout`. */
export function ipvsadmTimeout(ipvs: Ipvs): string {
  const t = ipvs.getTimeouts();
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}\n`;
}

/** `ipvsadm -Lnc`: /proc/net/ip_vs_conn through print_conn(); expired entries are not shown. */
export function ipvsadmConnections(ipvs: Ipvs, now: number): string {
  const c = ipvs.conns;
  const lines = [
    'IPVS connection entries',
    `pro expire ${left('state', 11)} ${left('source', 18)} ${left('virtual', 18)} destination`,
  ];
  for (const id of c.ids()) {
    const msLeft = c.expires[id]! - now;
    if (msLeft <= 0 && c.nControl[id] === 0) continue;
    const secs = Math.max(0, Math.floor(msLeft / 1000));
    const expire = `${String(Math.floor(secs / 60)).padStart(2, '0')}:${String(secs % 60).padStart(2, '0')}`;
    lines.push(
      [
        left(protoName(c.proto[id]!), 3),
        left(expire, 6),
        left(ipvs.stateName(id), 11),
        left(addrPort(c.caddr[id]!, c.cport[id]!), 18),
        left(addrPort(c.vaddr[id]!, c.vport[id]!), 18),
        addrPort(c.daddr[id]!, c.dport[id]!),
      ].join(' '),
    );
  }
  return lines.join('\n') + '\n';
}

/** `ipvsadm -Sn`: the rules that would rebuild the table (FMT_RULE). */
export function ipvsadmSave(table: ServiceTable): string {
  const lines: string[] = [];
  for (const svc of sortedServices(table, false)) {
    const opt =
      svc.fwmark !== 0
        ? `-f ${svc.fwmark}`
        : `${svc.protocol === IPPROTO_TCP ? '-t' : svc.protocol === IPPROTO_UDP ? '-u' : '--sctp-service'} ${addrPort(svc.addr, svc.port)}`;
    let line = `-A ${opt} -s ${svc.schedulerName}`;
    if (svc.persistent) {
      line += ` -p ${svc.timeout}`;
      if (svc.netmask !== 0xffffffff) line += ` -M ${u32ToIp(svc.netmask)}`;
    }
    if (svc.flags & SvcFlag.ONEPACKET) line += ' -o';
    const flags = schedFlags(svc);
    if (flags !== '') line += ` -b ${flags}`;
    lines.push(line);
    for (const d of sortedDests(svc, false)) {
      const sw =
        (d.connFlags & ConnFlag.FWD_MASK) === ConnFlag.MASQ
          ? '-m'
          : (d.connFlags & ConnFlag.FWD_MASK) === ConnFlag.TUNNEL
            ? '-i'
            : '-g';
      lines.push(`-a ${opt} -r ${addrPort(d.addr, d.port)} ${sw} -w ${d.weight}`);
    }
  }
  return lines.join('\n') + (lines.length > 0 ? '\n' : '');
}
