// The probes of the kernel differential test, and each side's verdict on one in the same
// words. A probe is one first packet: from a local pod, from another node's pod, from
// outside, or from the node itself (its IP, 127.0.0.1), to every address kube-proxy serves
// (ClusterIP, NodePort on the node IP and on 127.0.0.1, LoadBalancer IP, externalIP, a
// Service without endpoints, a single-pod Service for hairpin, an ETP Local NodePort, a
// port a ClusterIP does not serve, a pod directly), TCP, UDP and ICMP echo, some with TTL 1.
//
// An outcome is a string compared whole: what left the node and where (the packet's
// every header field; a port MASQUERADE --random-fully chose reads "R"), the ICMP error
// the node sent (its IP ID, which the kernel draws, zeroed), local delivery (the NATed
// tuple from conntrack), or DROP. Both sides' checksums are verified on the way.
import { Verdict } from '../../src/dataplane/counters.ts';
import { Drop } from '../../src/dataplane/counters.ts';
import { LOCAL_IF } from '../../src/dataplane/node.ts';
import { IfaceKind } from '../../src/dataplane/routes.ts';
import type { Cluster } from '../../src/control/cluster.ts';
import type { SimNode } from '../../src/control/node-setup.ts';
import { ipToU32, tryIpToU32, u32ToIp } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { internetChecksum, l4ChecksumValid } from '../../src/packet/checksum.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { ingressFor } from '../../src/sim/probe.ts';
import type { CtEvent, LocalProbe, LocalResult } from './kernel-node.ts';

export const EXTERNAL = '192.168.1.50';

export type Source = 'pod' | 'remote-pod' | 'external' | 'node' | 'loopback';

export interface Probe {
  id: number;
  /** Human words: `pod 10.244.1.2 → ClusterIP web:80/tcp`. */
  name: string;
  from: Source;
  proto: 'tcp' | 'udp' | 'icmp';
  src: string;
  dst: string;
  /** The source port (ICMP: the echo id). Unique per probe: it names the probe's packets. */
  sport: number;
  dport: number;
  ttl: number;
}

/** The probe's first packet, byte for byte what both sides get. */
export function probePacket(p: Probe): Uint8Array {
  const base = { src: p.src, dst: p.dst, ttl: p.ttl, id: p.id & 0xffff };
  if (p.proto === 'tcp') {
    return buildTcp({ ...base, sport: p.sport, dport: p.dport, flags: TcpFlags.SYN, seq: 1000 });
  }
  if (p.proto === 'udp') {
    return buildUdp({ ...base, sport: p.sport, dport: p.dport, payload: new Uint8Array(8) });
  }
  return buildIcmpEcho({ ...base, echoId: p.sport, seq: 1, data: new Uint8Array(8) });
}

/** Whether the probe is sent by the node's own sockets (else written into a device). */
export const fromNode = (p: Probe): boolean => p.from === 'node' || p.from === 'loopback';

interface Target {
  what: string;
  ip: string;
  port: number;
  proto: 'tcp' | 'udp';
}

/** Every probe for the node `sim` of `cluster`. */
export function probesFor(cluster: Cluster, sim: SimNode, firstId: number): Probe[] {
  const nodeIp = u32ToIp(sim.ip);
  const targets: Target[] = [];
  const nodePorts: Target[] = [];
  for (const s of cluster.list('Service')) {
    const name = s.metadata.name;
    for (const port of s.spec.ports ?? []) {
      const proto = (port.protocol ?? 'TCP').toLowerCase() as 'tcp' | 'udp';
      const label = `${name}:${port.port}/${proto}`;
      if (s.spec.clusterIP !== undefined && s.spec.clusterIP !== 'None') {
        targets.push({ what: `ClusterIP ${label}`, ip: s.spec.clusterIP, port: port.port, proto });
      }
      if (port.nodePort !== undefined) {
        nodePorts.push({
          what: `NodePort ${name}:${port.nodePort}/${proto}`,
          ip: nodeIp,
          port: port.nodePort,
          proto,
        });
      }
      for (const ing of s.status?.loadBalancer?.ingress ?? []) {
        if (ing.ip !== undefined)
          targets.push({ what: `LB ${label}`, ip: ing.ip, port: port.port, proto });
      }
      for (const ip of s.spec.externalIPs ?? []) {
        targets.push({ what: `externalIP ${label}`, ip, port: port.port, proto });
      }
    }
  }
  targets.push(...nodePorts);
  const web = cluster.get('Service', 'default', 'web');
  if (web?.spec.clusterIP !== undefined) {
    targets.push({
      what: 'ClusterIP web:81/tcp (no such port)',
      ip: web.spec.clusterIP,
      port: 81,
      proto: 'tcp',
    });
  }
  const pods = cluster
    .list('Pod')
    .filter((p) => p.status.podIP !== undefined && !p.spec.hostNetwork)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const local = pods.filter((p) => p.spec.nodeName === sim.node.name).map((p) => p.status.podIP!);
  const remote = pods.filter((p) => p.spec.nodeName !== sim.node.name).map((p) => p.status.podIP!);
  if (remote[0] !== undefined)
    targets.push({ what: `pod ${remote[0]}:80/tcp`, ip: remote[0], port: 80, proto: 'tcp' });
  if (local[0] !== undefined)
    targets.push({ what: `pod ${local[0]}:80/tcp`, ip: local[0], port: 80, proto: 'tcp' });

  const probes: Probe[] = [];
  let id = firstId;
  const add = (from: Source, src: string, t: Target, ttl = 64, proto: Probe['proto'] = t.proto) => {
    probes.push({
      id,
      name: `${from} ${src} → ${t.what}${ttl !== 64 ? ` TTL ${ttl}` : ''}${proto !== t.proto ? ` (${proto})` : ''}`,
      from,
      proto,
      src,
      dst: t.ip,
      sport: 20000 + id,
      dport: proto === 'icmp' ? 0 : t.port,
      ttl,
    });
    id++;
  };
  const sources: [Source, string][] = [
    ...local.slice(0, 2).map((ip): [Source, string] => ['pod', ip]),
    ...(remote[0] !== undefined ? [['remote-pod', remote[0]] as [Source, string]] : []),
    ['external', EXTERNAL],
  ];
  for (const [from, src] of sources) {
    for (const t of targets) {
      // A pod is not where outside traffic to a ClusterIP comes from, but a router may
      // send it anyway: probed too, the rules decide.
      add(from, src, t);
    }
  }
  for (const t of targets)
    if (t.proto === 'tcp' || t.what.startsWith('ClusterIP')) add('node', nodeIp, t);
  for (const t of targets) {
    if (t.what.startsWith('NodePort')) add('loopback', '127.0.0.1', { ...t, ip: '127.0.0.1' });
  }
  for (const t of targets
    .filter((x) => x.what.startsWith('ClusterIP') && x.proto === 'tcp')
    .slice(0, 2)) {
    add('loopback', '127.0.0.1', t);
  }
  // ip_forward()'s TTL check and ICMP: from a local pod (or from outside on a node without pods).
  const [from, src] = sources[0]!;
  for (const t of targets) {
    if (t.what.startsWith('ClusterIP') || t.what.startsWith('pod')) add(from, src, t, 1);
    if (t.what.startsWith('ClusterIP web:80') || t.what.startsWith('pod'))
      add(from, src, t, 64, 'icmp');
  }
  return probes;
}

// ---- outcomes -----------------------------------------------------------------------

const ip = (b: Uint8Array, o: number) =>
  u32ToIp(((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0);
const u16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

/**
 * Every header field of a packet that left the node, as words: the IP header (ID, TTL, DF,
 * TOS, length), addresses and ports, and L4 fields; checksums are checked, not printed.
 * `orig` is the probe: a source port different from the probe's under masquerade reads R.
 */
export function describePacket(b: Uint8Array, orig?: Probe): string {
  const hl = (b[0]! & 0x0f) * 4;
  const proto = b[9]!;
  const len = u16(b, 2);
  const head = `tos ${b[1]} len ${len} id ${u16(b, 4)} df ${(b[6]! >> 6) & 1} ttl ${b[8]}`;
  const bad: string[] = [];
  if (internetChecksum(b, 0, hl) !== 0) bad.push('ip checksum BAD');
  const l4 = hl;
  const src = ip(b, 12);
  const dst = ip(b, 16);
  const srcU = ipToU32(src);
  const dstU = ipToU32(dst);
  if (proto === 6 || proto === 17) {
    if (!l4ChecksumValid(b, l4, len - hl, srcU, dstU, proto)) bad.push('l4 checksum BAD');
    let sport = String(u16(b, l4));
    if (orig !== undefined && Number(sport) !== orig.sport) sport = 'R';
    const rest =
      proto === 6
        ? `flags ${b[l4 + 13]} seq ${u16(b, l4 + 4)}.${u16(b, l4 + 6)} win ${u16(b, l4 + 14)}`
        : `ulen ${u16(b, l4 + 4)}`;
    return `${proto === 6 ? 'tcp' : 'udp'} ${src}:${sport} > ${dst}:${u16(b, l4 + 2)} ${rest} ${head}${bad.length ? ' ' + bad.join(' ') : ''}`;
  }
  if (proto === 1) {
    if (internetChecksum(b, l4, len) !== 0) bad.push('icmp checksum BAD');
    const type = b[l4]!;
    const code = b[l4 + 1]!;
    let what = `icmp ${src} > ${dst} type ${type} code ${code}`;
    if (type === 3 || type === 11) {
      const q = l4 + 8;
      if (internetChecksum(b, q, q + (b[q]! & 0x0f) * 4) !== 0) bad.push('quoted ip checksum BAD');
      const quoted = describeQuoted(b, q, len);
      what += ` quoting [${quoted}]`;
    } else what += ` id ${u16(b, l4 + 4)}`;
    return `${what} ${head}${bad.length ? ' ' + bad.join(' ') : ''}`;
  }
  return `proto ${proto} ${src} > ${dst} ${head}`;
}

function describeQuoted(b: Uint8Array, q: number, end: number): string {
  const hl = (b[q]! & 0x0f) * 4;
  const proto = b[q + 9]!;
  const l4 = q + hl;
  const ports =
    proto === 1 ? `type ${b[l4]} id ${u16(b, l4 + 4)}` : `${u16(b, l4)} > ${u16(b, l4 + 2)}`;
  const bytes = Array.from(b.subarray(q, end), (x) => x.toString(16).padStart(2, '0')).join('');
  return `${ip(b, q + 12)} > ${ip(b, q + 16)} proto ${proto} ${ports} ttl ${b[q + 8]} len ${end - q} ${bytes}`;
}

/** An ICMP error the node generated: everything but its IP ID (drawn by the kernel) and header checksum. */
export function describeError(b: Uint8Array): string {
  const c = b.slice();
  c[4] = 0;
  c[5] = 0;
  const hl = (c[0]! & 0x0f) * 4;
  const bad = internetChecksum(b, 0, hl) !== 0 ? ' ip checksum BAD' : '';
  c[10] = 0;
  c[11] = 0;
  // The header checksum follows the ID: recompute it so the description stays self-consistent.
  const s = internetChecksum(c, 0, hl);
  c[10] = s >> 8;
  c[11] = s & 0xff;
  return describePacket(c) + bad;
}

/** What the packet of `probe` became, as `describePacket` words, or the flow's words. */
const tuple = (proto: string, src: string, sport: number | string, dst: string, dport: number) =>
  `${proto} ${src}:${sport} > ${dst}:${dport}`;

/** svclab's verdict on `probe`, through the node's dataplane as `svclab trace` sends it. */
export function svclabOutcome(
  sim: SimNode,
  probe: Probe,
  want?: { ip: string; port: number },
): string {
  const dp = sim.dataplane;
  const emitted: Uint8Array[] = [];
  const prev = dp.emit;
  dp.emit = (p) => emitted.push(p);
  try {
    // DNAT picks an endpoint at random on both sides: try until svclab picks the kernel's.
    let last = '';
    for (let attempt = 0; attempt < 200; attempt++) {
      emitted.length = 0;
      dp.ct.table.flush();
      const before = Float64Array.from(dp.counters.drops);
      const b = probePacket(probe);
      const inIf = ingressFor(sim, ipToU32(probe.src));
      const v = dp.process(b, inIf);
      const dst = ip(b, 16);
      const dport = probe.proto === 'icmp' ? 0 : u16(b, 22);
      if (want !== undefined && (v === Verdict.Forward || v === Verdict.Local)) {
        if (dst !== want.ip || (probe.proto !== 'icmp' && dport !== want.port)) {
          last = `never picked the kernel's ${want.ip}:${want.port} (last ${dst}:${dport})`;
          continue;
        }
      }
      return describeSvclab(sim, probe, v, b, emitted, before);
    }
    return `svclab: ${last}`;
  } finally {
    dp.emit = prev;
  }
}

function describeSvclab(
  sim: SimNode,
  probe: Probe,
  v: Verdict,
  b: Uint8Array,
  emitted: Uint8Array[],
  before: Float64Array,
): string {
  const dp = sim.dataplane;
  const local = fromNode(probe);
  const sport = (): number | string => {
    if (probe.proto === 'icmp') return u16(b, 24);
    const s = u16(b, 20);
    return s !== probe.sport ? 'R' : s;
  };
  const dport = probe.proto === 'icmp' ? 0 : u16(b, 22);
  if (v === Verdict.Forward) {
    const dev = dp.ifaces[dp.outIf]?.kind === IfaceKind.Uplink ? 'eth0' : 'pod0';
    if (local) return `FORWARD ${dev} ${tuple(probe.proto, ip(b, 12), sport(), ip(b, 16), dport)}`;
    return `FORWARD ${dev} ${describePacket(b, probe)}`;
  }
  if (v === Verdict.Local)
    return `LOCAL ${tuple(probe.proto, ip(b, 12), sport(), ip(b, 16), dport)}`;
  const rejected = dp.counters.drops[Drop.RuleReject]! > before[Drop.RuleReject]!;
  if (local) return rejected ? 'REJECT' : 'DROP';
  if (emitted.length > 0) return `ICMP ${emitted.map(describeError).join(' + ')}`;
  return 'DROP';
}

/** The kernel's DNAT target for `probe`, from its conntrack event, when it has one. */
export function kernelTarget(
  events: readonly CtEvent[],
  probe: Probe,
): { ip: string; port: number } | undefined {
  const e = eventOf(events, probe);
  return e === undefined ? undefined : { ip: e.reply.src, port: e.reply.sport };
}

function eventOf(events: readonly CtEvent[], probe: Probe): CtEvent | undefined {
  return events.find(
    (e) =>
      e.proto === probe.proto &&
      e.orig.src === probe.src &&
      e.orig.sport === probe.sport &&
      e.orig.dst === probe.dst &&
      (probe.proto === 'icmp' || e.orig.dport === probe.dport),
  );
}

/** The probe's packet as it left the kernel node, found by its conntrack reply tuple. */
function forwarded(out: readonly { dev: string; bytes: Uint8Array }[], e: CtEvent, proto: string) {
  return out.find(({ bytes: b }) => {
    if (ip(b, 12) !== e.reply.dst || ip(b, 16) !== e.reply.src) return false;
    if (proto === 'icmp') return b[9] === 1 && b[20] === 8 && u16(b, 24) === e.reply.sport;
    return (
      (b[9] === 6 ? 'tcp' : b[9] === 17 ? 'udp' : '') === proto &&
      u16(b, 20) === e.reply.dport &&
      u16(b, 22) === e.reply.sport
    );
  });
}

/** An ICMP error the kernel node sent about the probe (found by the quoted source port or echo id). */
function errorAbout(out: readonly { dev: string; bytes: Uint8Array }[], probe: Probe) {
  return out.filter(({ bytes: b }) => {
    if (b[9] !== 1 || (b[20] !== 3 && b[20] !== 11)) return false;
    const q = 28;
    const qhl = (b[q]! & 0x0f) * 4;
    const l4 = q + qhl;
    if (ip(b, q + 12) !== probe.src) return false;
    if (probe.proto === 'icmp') return b[q + 9] === 1 && u16(b, l4 + 4) === probe.sport;
    return u16(b, l4) === probe.sport;
  });
}

/** The kernel's verdict on a probe written into a device. */
export function kernelOutcome(
  probe: Probe,
  events: readonly CtEvent[],
  out: readonly { dev: 'eth0' | 'pod0'; bytes: Uint8Array }[],
  local?: LocalResult,
): string {
  const e = eventOf(events, probe);
  const fwd = e === undefined ? undefined : forwarded(out, e, probe.proto);
  const sport = (ev: CtEvent): number | string =>
    ev.reply.dport !== probe.sport && probe.proto !== 'icmp' ? 'R' : ev.reply.dport;
  if (fromNode(probe)) {
    if (fwd !== undefined && e !== undefined) {
      return `FORWARD ${fwd.dev} ${tuple(probe.proto, e.reply.dst, sport(e), e.reply.src, probe.proto === 'icmp' ? 0 : e.reply.sport)}`;
    }
    const r = local?.result ?? 'none';
    if ((r === 'connected' || r === 'sent') && e !== undefined) {
      return `LOCAL ${tuple(probe.proto, e.reply.dst, sport(e), e.reply.src, e.reply.sport)}`;
    }
    if (r === 'refused') return 'REJECT';
    if (r === 'timeout' || r.startsWith('error:') || (r === 'sent' && e === undefined))
      return 'DROP';
    return `UNEXPLAINED ${r} event ${e === undefined ? 'none' : JSON.stringify(e)}`;
  }
  if (fwd !== undefined) return `FORWARD ${fwd.dev} ${describePacket(fwd.bytes, probe)}`;
  const errs = errorAbout(out, probe);
  if (errs.length > 0 && e === undefined)
    return `ICMP ${errs.map((x) => describeError(x.bytes)).join(' + ')}`;
  if (e !== undefined) {
    return `LOCAL ${tuple(probe.proto, e.reply.dst, sport(e), e.reply.src, probe.proto === 'icmp' ? 0 : e.reply.sport)}`;
  }
  return 'DROP';
}

/** The node's own probes, as the helper makes them (ICMP is not among them). */
export function localProbe(p: Probe): LocalProbe {
  return {
    id: p.id,
    proto: p.proto === 'udp' ? 'udp' : 'tcp',
    src: p.src,
    sport: p.sport,
    dst: p.dst,
    dport: p.dport,
  };
}

/** Ports a node's own connection may be delivered to locally: every port the probes name, and the targets'. */
export function listenPorts(cluster: Cluster, probes: readonly Probe[]): number[] {
  const ports = new Set<number>();
  for (const p of probes) if (p.proto !== 'icmp') ports.add(p.dport);
  for (const s of cluster.list('EndpointSlice'))
    for (const p of s.ports ?? []) if (p.port !== undefined) ports.add(p.port);
  ports.add(6443);
  return [...ports].sort((a, b) => a - b);
}

export const isIp = (s: string) => tryIpToU32(s) !== undefined;
export { LOCAL_IF };
