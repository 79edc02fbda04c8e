// A packet's journey for the web view: one real request (curl on a source host, as a
// scenario runs it) through the live cluster's dataplanes, recorded hop by hop. While the
// request runs, every node's dataplane `process` is wrapped: each packet of the request's
// connections is kept with its header before and after the node, the rules it walked (the
// dataplane's tracer, as `svclab trace` uses it), the verdict and any ICMP error the node
// generated. Packets of other traffic crossing at the same time are left out by following
// the connection's tuples from hop to hop (and the connections a proxy such as
// ingress-nginx opens while serving it).
import type { Cluster } from '../control/cluster.ts';
import type { SimNode } from '../control/node-setup.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import { formatEntry } from '../conntrack/format.ts';
import { DROP_NAMES, Verdict } from '../dataplane/counters.ts';
import { IfaceKind } from '../dataplane/routes.ts';
import { tryIpToU32, u32ToIp } from '../packet/addr.ts';
import { parsePacket } from '../packet/parse.ts';
import { HOOK_NAMES } from '../proxy/hooks.ts';
import type { Hook, TraceEvent } from '../proxy/hooks.ts';
import type { ToolResult } from './runtime.ts';
import { badRequest } from './status.ts';
import type {
  Header,
  Hop,
  Journey,
  JourneyRequest,
  JourneySource,
  PlaceId,
  TraceStep,
} from './web-contract.ts';

/** What the web view needs of the world the cluster runs in, beyond ClusterRuntime. */
export interface JourneyDriver {
  runtime: 'sim' | 'lab';
  mode: string;
  /** Every node's dataplane (the simulation's or the lab's network). */
  nodes: ReadonlyMap<string, SimNode>;
  /** Fixed sources: the in-cluster client, the outside host, the nodes. */
  sources(): JourneySource[];
  externalIP: string;
  /** Run argv (curl) on a source (`node/NAME`, `pod/NS/NAME`, `client`, `external`). */
  run(from: string, argv: string[]): Promise<ToolResult>;
  /** The dataplanes' clock, ms (conntrack timeouts). */
  nowMs(): number;
}

/** At most this many crossings are kept; a request's connection needs a few dozen. */
export const MAX_HOPS = 400;

const PROTO: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
const TCP_FLAG_NAMES: [number, string][] = [
  [0x02, 'SYN'],
  [0x10, 'ACK'],
  [0x08, 'PSH'],
  [0x01, 'FIN'],
  [0x04, 'RST'],
];
const ICMP_NAMES: Record<string, string> = {
  '0/0': 'echo-reply',
  '8/0': 'echo-request',
  '3/0': 'net-unreachable',
  '3/1': 'host-unreachable',
  '3/3': 'port-unreachable',
  '3/4': 'frag-needed',
  '3/13': 'admin-prohibited',
  '11/0': 'ttl-exceeded',
};

export function headerOf(b: Uint8Array): Header {
  const p = parsePacket(b);
  let flags = '';
  if (p.proto === 6) {
    flags = TCP_FLAG_NAMES.filter(([bit]) => (p.tcpFlags & bit) !== 0)
      .map(([, n]) => n)
      .join(',');
  } else if (p.proto === 1) {
    flags = ICMP_NAMES[`${p.icmpType}/${p.icmpCode}`] ?? `type ${p.icmpType} code ${p.icmpCode}`;
  }
  const l4Header = p.proto === 6 ? ((b[p.l4Offset + 12] ?? 0x50) >> 4) * 4 : p.proto === 17 ? 8 : 8;
  return {
    proto: PROTO[p.proto] ?? String(p.proto),
    src: u32ToIp(p.src),
    sport: p.sport,
    dst: u32ToIp(p.dst),
    dport: p.dport,
    flags,
    length: p.l4Offset < 0 ? 0 : Math.max(0, p.l4Length - l4Header),
  };
}

const tupleKey = (h: { proto: string; src: string; sport: number; dst: string; dport: number }) =>
  `${h.proto} ${h.src}:${h.sport} ${h.dst}:${h.dport}`;
const reverseKey = (h: { proto: string; src: string; sport: number; dst: string; dport: number }) =>
  `${h.proto} ${h.dst}:${h.dport} ${h.src}:${h.sport}`;

/** The tuple an ICMP error quotes (the packet that caused it), if it quotes one. */
function quotedTuple(b: Uint8Array): Header | undefined {
  const p = parsePacket(b);
  if (p.proto !== 1 || p.innerOffset < 0) return undefined;
  const inner = b.subarray(p.innerOffset);
  const ihl = (inner[0]! & 0x0f) * 4;
  if (inner.length < ihl + 4) return undefined;
  const ip = (o: number) =>
    u32ToIp(
      ((inner[o]! << 24) | (inner[o + 1]! << 16) | (inner[o + 2]! << 8) | inner[o + 3]!) >>> 0,
    );
  return {
    proto: PROTO[inner[9]!] ?? String(inner[9]),
    src: ip(12),
    dst: ip(16),
    sport: (inner[ihl]! << 8) | inner[ihl + 1]!,
    dport: (inner[ihl + 2]! << 8) | inner[ihl + 3]!,
    flags: '',
    length: 0,
  };
}

export interface Target {
  ip: string;
  port: number;
  /** The URL curl is given. */
  url: string;
  /** Extra curl arguments (the Host header of an ingress rule). */
  args: string[];
}

/** Where `to` sends the request (JourneyRequest.to's forms). */
export function resolveTarget(cluster: Cluster, to: string, fromKind: string): Target {
  const t = to.trim();
  const ing = /^https?:\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(t);
  if (ing !== null) {
    const host = ing[1]!;
    const path = ing[3] ?? '/';
    if (tryIpToU32(host) !== undefined) {
      const port = Number(ing[2] ?? 80);
      return { ip: host, port, url: `http://${host}:${port}${path}`, args: [] };
    }
    // An ingress host: send it to the ingress controller's Service, Host header set.
    const ctl = cluster
      .list('Service')
      .find(
        (s) =>
          /ingress-nginx/.test(s.metadata.name) &&
          s.spec.type !== 'ExternalName' &&
          (s.spec.ports ?? []).some((p) => p.port === 80),
      );
    if (ctl === undefined) {
      throw badRequest(`no ingress controller Service (ingress-nginx) to send ${t} to`);
    }
    const p80 = ctl.spec.ports!.find((p) => p.port === 80)!;
    const outside = fromKind === 'external';
    if (outside && p80.nodePort !== undefined) {
      const node = resolveNodes(cluster.config)[0]!;
      return {
        ip: node.ip,
        port: p80.nodePort,
        url: `http://${node.ip}:${p80.nodePort}${path}`,
        args: ['-H', `Host: ${host}`],
      };
    }
    const ip = ctl.spec.clusterIP!;
    return { ip, port: 80, url: `http://${ip}:80${path}`, args: ['-H', `Host: ${host}`] };
  }
  const addr = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(t);
  if (addr !== null && tryIpToU32(addr[1]!) !== undefined) {
    const port = Number(addr[2]);
    if (!(port >= 1 && port <= 65535)) throw badRequest(`bad port in "${t}"`);
    return { ip: addr[1]!, port, url: `http://${addr[1]}:${port}/`, args: [] };
  }
  const svc = /^(?:svc\/)?(?:([a-z0-9-]+)\/)?([a-z0-9-]+):(\d+)$/.exec(t);
  if (svc === null) {
    throw badRequest(
      `"${t}" is not NAME:PORT, svc/NS/NAME:PORT, IP:PORT or http://HOST/PATH (an ingress rule)`,
    );
  }
  const ns = svc[1] ?? 'default';
  const s = cluster.get('Service', ns, svc[2]!);
  if (s === undefined) throw badRequest(`no Service ${ns}/${svc[2]}`);
  if (s.spec.type === 'ExternalName') {
    throw badRequest(
      `${ns}/${svc[2]} is an ExternalName Service: DNS answers a CNAME to ${s.spec.externalName}, and no packet goes to a Service address`,
    );
  }
  const ip = s.spec.clusterIP;
  if (ip === undefined || ip === 'None') {
    throw badRequest(
      `${ns}/${svc[2]} is headless: it has no ClusterIP; DNS answers with the pods' IPs, so send to a pod IP:PORT`,
    );
  }
  const port = Number(svc[3]);
  return { ip, port, url: `http://${ip}:${port}/`, args: [] };
}

/** The source's host and address: a fixed source, or any pod with an IP. */
export function resolveSource(
  cluster: Cluster,
  driver: JourneyDriver,
  from: string,
): JourneySource {
  const fixed = driver.sources().find((s) => s.id === from);
  if (fixed !== undefined) return fixed;
  const m = /^pod\/(?:([a-z0-9-]+)\/)?([a-z0-9.-]+)$/.exec(from);
  if (m !== null) {
    const ns = m[1] ?? 'default';
    const pod = cluster.get('Pod', ns, m[2]!);
    if (pod?.status.podIP === undefined) throw badRequest(`no pod ${ns}/${m[2]} with an IP`);
    return { id: `pod/${ns}/${m[2]}`, kind: 'pod', label: m[2]!, ip: pod.status.podIP };
  }
  throw badRequest(
    `unknown source "${from}" (${driver
      .sources()
      .map((s) => s.id)
      .join(', ')}, or pod/NS/NAME)`,
  );
}

/** Addresses → places on the topology, for a hop's `from` and `to`. */
function placeIndex(cluster: Cluster, driver: JourneyDriver): Map<string, PlaceId> {
  const m = new Map<string, PlaceId>();
  for (const s of driver.sources()) m.set(s.ip, s.id);
  for (const n of resolveNodes(cluster.config)) m.set(n.ip, `node/${n.name}`);
  for (const p of cluster.list('Pod')) {
    if (p.status.podIP !== undefined && p.spec.hostNetwork !== true) {
      m.set(p.status.podIP, `pod/${p.metadata.namespace ?? 'default'}/${p.metadata.name}`);
    }
  }
  return m;
}

type Patched = SimNode['dataplane'] & { process: (b: Uint8Array, inIf: number) => Verdict };

/** Run one request from `req.from` to `req.to` and record its packets at every node. */
export async function runJourney(
  cluster: Cluster,
  driver: JourneyDriver,
  req: JourneyRequest,
): Promise<Journey> {
  const source = resolveSource(cluster, driver, req.from);
  const target = resolveTarget(cluster, req.to, source.kind);
  const places = placeIndex(cluster, driver);
  const argv = ['curl', '-sS', '--connect-timeout', '1', '-m', '2', ...target.args, target.url];
  const hops: Hop[] = [];
  let truncated = false;
  // Tuples (either direction) of the journey's connections; leg by tuple.
  const tracked = new Map<string, number>();
  /** Hosts the journey's connections reached: a connection they open is the next leg. */
  const reached = new Map<string, number>();
  let legs = 0;
  const requestKeys = new Set<string>();
  const seenAtNode = new Set<string>();
  const nodeByIp = new Map<number, string>();
  for (const [name, n] of driver.nodes) nodeByIp.set(n.ip >>> 0, name);

  const track = (h: Header, leg: number) => {
    tracked.set(tupleKey(h), leg);
    tracked.set(reverseKey(h), leg);
  };
  const classify = (
    h: Header,
    b: Uint8Array,
  ): { leg: number; direction: Hop['direction'] } | undefined => {
    const k = tupleKey(h);
    const known = tracked.get(k);
    if (known !== undefined) {
      // The first tuple stored for a leg is the request direction.
      return { leg: known, direction: requestKeys.has(k) ? 'request' : 'reply' };
    }
    const q = h.proto === 'icmp' ? quotedTuple(b) : undefined;
    if (q !== undefined) {
      const leg = tracked.get(tupleKey(q));
      if (leg !== undefined)
        return { leg, direction: requestKeys.has(tupleKey(q)) ? 'reply' : 'request' };
      return undefined;
    }
    const opening = h.proto === 'udp' || (h.proto === 'tcp' && h.flags === 'SYN');
    if (!opening) return undefined;
    if (legs === 0 && h.src === source.ip && h.dst === target.ip && h.dport === target.port) {
      return { leg: legs++, direction: 'request' };
    }
    const relay = reached.get(h.src);
    if (relay !== undefined && legs < 4) return { leg: legs++, direction: 'request' };
    return undefined;
  };

  const restore: (() => void)[] = [];
  for (const [name, sim] of driver.nodes) {
    const dp = sim.dataplane as Patched;
    const original = dp.process;
    const prevEmit = dp.emit;
    let emitted: Uint8Array[] | undefined;
    dp.emit = (p, ifIndex) => {
      emitted?.push(p.slice());
      prevEmit(p, ifIndex);
    };
    let steps: TraceStep[] = [];
    dp.tracer = (hook: Hook, e: TraceEvent) => {
      steps.push({
        hook: HOOK_NAMES[hook] ?? String(hook),
        table: e.table,
        chain: e.chain,
        ruleNum: e.ruleNum,
        kind: e.kind,
        text: e.text,
        ...(e.result === undefined ? {} : { result: e.result }),
      });
    };
    dp.process = (b: Uint8Array, inIf: number): Verdict => {
      const before = headerOf(b);
      const which = classify(before, b);
      if (which === undefined) {
        steps = [];
        return original.call(dp, b, inIf);
      }
      steps = [];
      emitted = [];
      const drops = Array.from(dp.counters.drops);
      const verdict = original.call(dp, b, inIf);
      const after = headerOf(b);
      const myEmitted = emitted;
      emitted = undefined;
      if (which.direction === 'request' && !tracked.has(tupleKey(before))) {
        requestKeys.add(tupleKey(before));
        track(before, which.leg);
      }
      if (which.direction === 'request') requestKeys.add(tupleKey(after));
      if (before.proto !== 'icmp') track(after, which.leg);
      if (hops.length >= MAX_HOPS) {
        truncated = true;
        return verdict;
      }
      const inI = dp.ifaces[inIf];
      const outIdx = verdict === Verdict.Forward ? dp.outIf : -1;
      const outI = outIdx >= 0 ? dp.ifaces[outIdx] : undefined;
      const placeOf = (ip: string) =>
        places.get(ip) ?? (ip === driver.externalIP ? 'external' : `ip/${ip}`);
      let from: PlaceId;
      if (inI === undefined || inI.kind === IfaceKind.Local) from = `node/${name}`;
      else if (inI.kind === IfaceKind.Pod) from = placeOf(before.src);
      else {
        // The uplink: from another node (it forwarded), or from the router (outside).
        const prev = hops.findLast(
          (h) => h.after.dst === before.dst && h.after.src === before.src && h.node !== name,
        );
        from =
          prev !== undefined
            ? `node/${prev.node}`
            : placeOf(before.src).startsWith('node/')
              ? placeOf(before.src)
              : 'router';
      }
      let to: PlaceId;
      if (verdict === Verdict.Drop) to = `node/${name}`;
      else if (verdict === Verdict.Local || outI === undefined || outI.kind === IfaceKind.Local)
        to = `node/${name}`;
      else if (outI.kind === IfaceKind.Pod) to = placeOf(after.dst);
      else {
        const hopIp = dp.nextHop !== 0 ? dp.nextHop >>> 0 : (tryIpToU32(after.dst) ?? 0);
        const peer = nodeByIp.get(hopIp);
        to = peer !== undefined ? `node/${peer}` : 'router';
      }
      if (to.startsWith('pod/') || to.startsWith('node/')) {
        if (which.direction === 'request' && to !== `node/${name}`)
          reached.set(after.dst, which.leg);
      }
      if (verdict === Verdict.Local) reached.set(after.dst, which.leg);
      // A connection's first packet at a node is NEW there (rules walked); later ones and
      // every reply follow the conntrack entry.
      const seenKey = `${name} ${tupleKey(before)}`;
      const firstAtNode = which.direction === 'request' && !seenAtNode.has(seenKey);
      seenAtNode.add(seenKey);
      const nat: string[] = [];
      const dstMoved = before.dst !== after.dst || before.dport !== after.dport;
      const srcMoved = before.src !== after.src || before.sport !== after.sport;
      const dstText = `${before.dst}:${before.dport} → ${after.dst}:${after.dport}`;
      const srcText = `${before.src}:${before.sport} → ${after.src}:${after.sport}`;
      const viaCt = firstAtNode ? '' : ' (conntrack)';
      if (which.direction === 'request') {
        if (dstMoved) nat.push(`DNAT ${dstText}${viaCt}`);
        if (srcMoved) {
          const masq = steps.some((x) => /MASQUERADE|masquerade/.test(x.text));
          nat.push(`SNAT ${srcText}${masq ? ' (MASQUERADE)' : viaCt}`);
        }
      } else {
        if (srcMoved)
          nat.push(`un-DNAT ${srcText} (conntrack: the reply comes from the Service address)`);
        if (dstMoved) nat.push(`un-SNAT ${dstText} (conntrack: back to the client's own address)`);
      }
      let drop: string | undefined;
      if (verdict === Verdict.Drop) {
        const i = drops.findIndex((n, k) => dp.counters.drops[k]! > n);
        drop = i >= 0 ? DROP_NAMES[i] : 'dropped';
      }
      const trace = steps;
      steps = [];
      hops.push({
        seq: hops.length,
        direction: which.direction,
        leg: which.leg,
        node: name,
        from,
        to,
        inIface: dp.describeIface(inIf),
        outIface: outIdx >= 0 ? dp.describeIface(outIdx) : verdict === Verdict.Local ? 'local' : '',
        before,
        after,
        verdict:
          verdict === Verdict.Forward ? 'forward' : verdict === Verdict.Local ? 'local' : 'drop',
        nat,
        ct:
          before.proto === 'icmp' && before.flags.includes('unreachable')
            ? 'related'
            : firstAtNode
              ? 'new'
              : 'established',
        trace,
        ...(drop === undefined ? {} : { drop }),
        emitted: myEmitted.map(headerOf),
      });
      return verdict;
    };
    restore.push(() => {
      delete (dp as unknown as Record<string, unknown>)['process'];
      dp.emit = prevEmit;
      dp.tracer = undefined;
    });
  }
  let result: ToolResult;
  try {
    result = await driver.run(source.id, argv);
  } finally {
    for (const r of restore) r();
  }
  // The conntrack entries of the journey's connections, on each node they crossed.
  const conntrack: Journey['conntrack'] = [];
  const now = driver.nowMs();
  const seen = new Set<string>();
  for (const h of hops) {
    if (h.direction !== 'request' || h.ct !== 'new' || h.before.proto === 'icmp') continue;
    const key = `${h.node} ${tupleKey(h.before)}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const ct = driver.nodes.get(h.node)?.dataplane.ct;
    const entry = ct
      ?.list(now)
      .find(
        (e) =>
          u32ToIp(e.orig.src) === h.before.src &&
          u32ToIp(e.orig.dst) === h.before.dst &&
          e.orig.sport === h.before.sport &&
          e.orig.dport === h.before.dport,
      );
    if (entry !== undefined) conntrack.push({ node: h.node, entry: formatEntry(entry) });
  }
  return summarize(source, req.to, target, argv, result, hops, truncated, conntrack, places);
}

function summarize(
  from: JourneySource,
  to: string,
  target: Target,
  argv: string[],
  result: ToolResult,
  hops: Hop[],
  truncated: boolean,
  conntrack: Journey['conntrack'],
  places: Map<string, PlaceId>,
): Journey {
  const first = hops.find((h) => h.leg === 0 && h.direction === 'request');
  const dnat = hops.find((h) => h.leg === 0 && h.nat.some((n) => n.startsWith('DNAT')));
  const dropped = hops.find((h) => h.verdict === 'drop');
  const replied = hops.some(
    (h) => h.leg === 0 && h.direction === 'reply' && h.before.proto !== 'icmp',
  );
  let outcome: Journey['outcome'];
  let summary: string;
  const dst = `${target.ip}:${target.port}`;
  if (dropped !== undefined && !replied) {
    const icmp = dropped.emitted.find((e) => e.proto === 'icmp');
    if (dropped.drop === 'rule-reject' || icmp !== undefined) {
      outcome = 'rejected';
      const rule = dropped.trace.findLast((s) => s.kind === 'rule');
      summary =
        `${dropped.node} rejected the connection to ${dropped.before.dst}:${dropped.before.dport}` +
        (rule !== undefined ? ` (${rule.table} ${rule.chain}: ${rule.text})` : '') +
        (icmp !== undefined ? `, answering ICMP ${icmp.flags}` : '') +
        ': the Service has no ready endpoints.';
    } else {
      outcome = 'dropped';
      summary = `${dropped.node} dropped the packet to ${dropped.before.dst}:${dropped.before.dport} (${dropped.drop ?? 'dropped'}).`;
    }
  } else if (replied && result.exitCode === 0) {
    outcome = 'answered';
    const d = dnat?.nat.find((n) => n.startsWith('DNAT'));
    summary =
      d !== undefined
        ? `${dnat!.node}: ${d}; the backend answered and the reply was un-NATed by conntrack.`
        : `${dst} answered directly (no NAT).`;
    // A proxy (ingress-nginx) in the way: its own connection to the backend is leg 1.
    const upstream = hops.find(
      (h) => h.leg > 0 && h.direction === 'request' && h.to.startsWith('pod/'),
    );
    if (upstream !== undefined) {
      const proxy = hops.find((h) => h.leg === 0 && h.to.startsWith('pod/'))?.to ?? upstream.from;
      summary += ` ${proxy.slice(4)} proxied the request to ${upstream.to.slice(4)} (${upstream.after.dst}:${upstream.after.dport}) over a connection of its own.`;
    }
  } else if (replied) {
    outcome = 'rejected';
    summary = `the connection was refused (${result.stderr.trim() || `exit ${result.exitCode}`}).`;
  } else if (first === undefined) {
    outcome = 'failed';
    summary =
      `no node's dataplane saw a packet to ${dst}` +
      (from.kind === 'external'
        ? ': the router sends only node IPs and LoadBalancer IPs into the cluster (a ClusterIP is reachable from inside; from outside use a NodePort or a LoadBalancer IP)'
        : '') +
      ` (${result.stderr.trim() || `exit ${result.exitCode}`}).`;
  } else {
    outcome = 'dropped';
    summary = `no answer came back from ${dst} (${result.stderr.trim() || `exit ${result.exitCode}`}).`;
  }
  let backend: Journey['backend'];
  if (dnat !== undefined) {
    const pod = places.get(dnat.after.dst);
    backend = {
      ip: dnat.after.dst,
      port: dnat.after.dport,
      ...(pod?.startsWith('pod/') ? { pod: pod.slice(4) } : {}),
    };
  }
  return {
    from,
    to,
    dst,
    command: argv.map((a) => (/^[\w./:=@,-]+$/.test(a) ? a : `'${a}'`)).join(' '),
    outcome,
    summary,
    stdout: result.stdout.split('\n').slice(0, 20).join('\n'),
    stderr: result.stderr,
    exitCode: result.exitCode,
    hops,
    truncated,
    conntrack,
    ...(backend === undefined ? {} : { backend }),
  };
}
