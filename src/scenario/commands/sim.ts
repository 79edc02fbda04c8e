// Commands that reach into the simulation where a real cluster has no command:
//   ready POD true|false          a readiness probe starts failing or passing
//   packet tcp|udp SRC[:PORT] DST:PORT [--flags S|SA|A|F|R] [--ttl N] [--node NAME]
//                                 one crafted packet into a node's dataplane: its verdict
//   counters [NODE]               the node dataplane's verdict and drop counters
import { DROP_NAMES, Verdict } from '../../dataplane/counters.ts';
import { IfaceKind } from '../../dataplane/routes.ts';
import { tryIpToU32, u32ToIp } from '../../packet/addr.ts';
import { buildTcp, buildUdp } from '../../packet/build.ts';
import { parsePacket } from '../../packet/parse.ts';
import { TcpFlags } from '../../packet/tcp.ts';
import { ingressFor } from '../../sim/probe.ts';
import { type CommandContext, type ExecResult, fail, ok } from './command.ts';

export function readyCommand(args: string[], ctx: CommandContext): ExecResult {
  const [target, value] = args;
  if (target === undefined || (value !== 'true' && value !== 'false')) {
    return fail('usage: ready [NS/]POD true|false\n', 2);
  }
  const name = target.replace(/^pod\//, '');
  const [ns, pod] = name.includes('/')
    ? (name.split('/', 2) as [string, string])
    : ['default', name];
  const c = ctx.session.cluster;
  const match = c
    .list('Pod', ns)
    .find((p) => p.metadata.name === pod || p.metadata.name.startsWith(pod));
  if (match === undefined) return fail(`Error from server (NotFound): pods "${pod}" not found\n`);
  c.setPodReady(ns, match.metadata.name, value === 'true');
  return ok(`pod/${match.metadata.name} ready=${value}\n`);
}

const FLAGS: Record<string, number> = {
  S: TcpFlags.SYN,
  A: TcpFlags.ACK,
  F: TcpFlags.FIN,
  R: TcpFlags.RST,
  P: TcpFlags.PSH,
};

function endpoint(s: string): { ip: number; port: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(s);
  const ip = m ? tryIpToU32(m[1]!) : undefined;
  return ip === undefined ? undefined : { ip, port: Number(m![2] ?? 40000) };
}

export function packetCommand(args: string[], ctx: CommandContext): ExecResult {
  const [proto, from, to] = args;
  const src = from === undefined ? undefined : endpoint(from);
  const dst = to === undefined ? undefined : endpoint(to);
  if ((proto !== 'tcp' && proto !== 'udp') || src === undefined || dst === undefined) {
    return fail(
      'usage: packet tcp|udp SRC[:PORT] DST:PORT [--flags S] [--ttl N] [--node NAME]\n',
      2,
    );
  }
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const flags = [...(opt('--flags') ?? 'S')].reduce((f, c) => f | (FLAGS[c] ?? 0), 0);
  const ttl = Number(opt('--ttl') ?? 64);
  const net = ctx.session.net;
  const nodeName = opt('--node') ?? ctx.on;
  const sim = net.nodes.get(nodeName);
  if (sim === undefined) return fail(`packet: no node "${nodeName}"\n`);
  const pkt =
    proto === 'tcp'
      ? buildTcp({ src: src.ip, dst: dst.ip, sport: src.port, dport: dst.port, flags, seq: 1, ttl })
      : buildUdp({
          src: src.ip,
          dst: dst.ip,
          sport: src.port,
          dport: dst.port,
          payload: new Uint8Array(8),
          ttl,
        });
  const dp = sim.dataplane;
  const emitted: Uint8Array[] = [];
  const prev = dp.emit;
  const before = Float64Array.from(dp.counters.drops);
  dp.emit = (p) => emitted.push(p);
  let v: Verdict;
  try {
    v = dp.process(pkt, ingressFor(sim, src.ip));
  } finally {
    dp.emit = prev;
  }
  const after = parsePacket(pkt);
  let line: string;
  if (v === Verdict.Drop) {
    const reason = DROP_NAMES.find((_, i) => dp.counters.drops[i]! > before[i]!) ?? 'dropped';
    line = `DROP (${reason})`;
  } else if (v === Verdict.Local) {
    line = `LOCAL ${u32ToIp(after.dst)}:${after.dport}`;
  } else {
    const iface = dp.ifaces[dp.outIf];
    const via = iface?.kind === IfaceKind.Uplink ? ` via ${u32ToIp(dp.nextHop)}` : '';
    line = `FORWARD ${u32ToIp(after.src)}:${after.sport} -> ${u32ToIp(after.dst)}:${after.dport} out ${iface?.name ?? dp.outIf}${via}`;
  }
  const icmp = emitted.map((e) => {
    const i = parsePacket(e);
    return `ICMP type ${i.icmpType} code ${i.icmpCode} from ${u32ToIp(i.src)} to ${u32ToIp(i.dst)}\n`;
  });
  return ok(`${line}\n${icmp.join('')}`);
}

export function countersCommand(args: string[], ctx: CommandContext): ExecResult {
  const name = args[0] ?? ctx.on;
  const sim = ctx.session.net.nodes.get(name);
  if (sim === undefined) return fail(`counters: no node "${name}"\n`);
  const s = sim.dataplane.counters.summary();
  const links = ctx.session.net.linkDrops;
  const lines = Object.entries(s).map(([k, v]) => `${k}: ${v}\n`);
  // Link drops are the network's, not the node's: shown with every node's counters.
  lines.push(`links:lost: ${links.loss}\n`, `links:over-mtu: ${links.mtu}\n`);
  return ok(lines.join(''));
}
