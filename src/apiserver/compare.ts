// The web view's "modes side by side": one new connection's first packet classified by
// kube-proxy in iptables, ipvs and nftables modes over the same Services, with N extra
// Services beside the live cluster's, so the linear walk of iptables mode shows against
// the hash and map lookups of the others. A throw-away cluster holds copies of the live
// cluster's Services and EndpointSlices plus the extra ones (one endpoint each), and one
// node per mode is set up on it; `svclab trace`'s probe sends the packet.
import type { EndpointSlice, KubeObject, Service } from '../api/types.ts';
import { Cluster } from '../control/cluster.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import { type ProxyMode, setUpNode } from '../control/node-setup.ts';
import { Verdict } from '../dataplane/counters.ts';
import { ipToU32, tryIpToU32, u32ToIp } from '../packet/addr.ts';
import { parsePacket } from '../packet/parse.ts';
import { HOOK_NAMES } from '../proxy/hooks.ts';
import { runNodeTool } from '../proxy/node-tool.ts';
import { probe } from '../sim/probe.ts';
import { resolveTarget } from './journey.ts';
import { badRequest } from './status.ts';
import type { CompareMode, CompareResult, TraceStep } from './web-contract.ts';

export const MAX_COMPARE_SERVICES = 10_000;
const MODES: ProxyMode[] = ['iptables', 'ipvs', 'nftables'];

/**
 * Extra Service i. kube-proxy walks its Services in Go map order (random), so a target
 * sits halfway down KUBE-SERVICES on average; svclab's proxiers keep them sorted by
 * namespace/name, so half the extra Services go in a namespace sorting before the
 * cluster's own (`a-extra`) and half after (`z-extra`), putting the target halfway too.
 */
function fillerService(i: number, base: number): [Service, EndpointSlice] {
  const name = `extra-${String(i).padStart(5, '0')}`;
  const namespace = i % 2 === 0 ? 'a-extra' : 'z-extra';
  const ip = u32ToIp(base + i);
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace },
      spec: {
        type: 'ClusterIP',
        clusterIP: ip,
        ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }],
        sessionAffinity: 'None',
      },
    } as Service,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-1`,
        namespace,
        labels: { 'kubernetes.io/service-name': name },
      },
      addressType: 'IPv4',
      endpoints: [
        {
          addresses: [u32ToIp(ipToU32('10.250.0.0') + i)],
          conditions: { ready: true },
        },
      ],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    } as EndpointSlice,
  ];
}

/** The parts of a stored object a fresh cluster accepts (no uid, versions or status). */
function copyOf<T extends KubeObject>(o: T): T {
  const { metadata, ...rest } = o as T & { status?: unknown };
  const copy = {
    ...rest,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      ...(metadata.labels ? { labels: metadata.labels } : {}),
    },
  } as unknown as T & { status?: unknown };
  if (copy.kind === 'Service') {
    // Without a selector the copy's endpoints are the copied slices, not the (podless)
    // throw-away cluster's.
    delete copy.status;
    const spec = { ...(copy as unknown as Service).spec };
    delete spec.selector;
    (copy as unknown as Service).spec = spec;
  }
  if (copy.kind === 'EndpointSlice' && metadata.labels) {
    const labels = { ...metadata.labels };
    delete labels['endpointslice.kubernetes.io/managed-by'];
    copy.metadata.labels = labels;
  }
  return copy;
}

/** How many rules a walk compared: in each chain, every rule up to where it left. */
export function rulesVisited(steps: readonly TraceStep[]): number {
  let n = 0;
  for (const s of steps) n += s.kind === 'rule' ? s.ruleNum : Math.max(0, s.ruleNum - 1);
  return n;
}

function tableSize(mode: string, text: string): number {
  const lines = text.split('\n');
  if (mode === 'iptables') return lines.filter((l) => l.startsWith('-A ')).length;
  if (mode === 'ipvs') return lines.filter((l) => /^(TCP|UDP|SCTP)\s/.test(l)).length;
  let inChain = false;
  let n = 0;
  for (const l of lines) {
    const t = l.trim();
    if (t.startsWith('chain ')) inChain = true;
    else if (t === '}') inChain = false;
    else if (inChain && t !== '' && !t.startsWith('type ') && !t.startsWith('policy ')) n++;
  }
  return n;
}

export function compareModes(live: Cluster, body: Record<string, unknown>): CompareResult {
  const services = Number(body['services'] ?? 0);
  if (!Number.isInteger(services) || services < 0 || services > MAX_COMPARE_SERVICES) {
    throw badRequest(`services: an integer from 0 to ${MAX_COMPARE_SERVICES}`);
  }
  const liveServices = live.list('Service').filter((s) => s.spec.type !== 'ExternalName');
  let to = typeof body['to'] === 'string' ? body['to'] : undefined;
  if (to === undefined) {
    const s = liveServices.find(
      (x) =>
        x.metadata.namespace === 'default' &&
        x.spec.clusterIP !== 'None' &&
        x.metadata.name !== 'kubernetes',
    );
    if (s === undefined) throw badRequest('no Service to send to: give "to"');
    to = `svc/${s.metadata.namespace}/${s.metadata.name}:${s.spec.ports?.[0]?.port ?? 80}`;
  }
  const target = resolveTarget(live, to, 'pod');
  const nodes = resolveNodes(live.config);
  const firstPod = live
    .list('Pod')
    .find((p) => p.status.podIP !== undefined && p.spec.hostNetwork !== true);
  const from =
    typeof body['from'] === 'string' && tryIpToU32(body['from']) !== undefined
      ? body['from']
      : (firstPod?.status.podIP ?? nodes[0]!.ip);
  const entry =
    live.list('Pod').find((p) => p.status.podIP === from)?.spec.nodeName ??
    nodes.find((n) => n.ip === from)?.name ??
    nodes[0]!.name;

  const cluster = new Cluster({ seed: live.config.seed });
  const objects: KubeObject[] = [];
  const namespaces = new Set(['a-extra', 'z-extra']);
  for (const ns of live.list('Namespace')) namespaces.add(ns.metadata.name);
  for (const name of namespaces) {
    if (cluster.get('Namespace', undefined, name) === undefined) {
      objects.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as KubeObject);
    }
  }
  for (const s of liveServices) objects.push(copyOf(s));
  for (const s of live.list('EndpointSlice')) objects.push(copyOf(s));
  // Extra ClusterIPs from the top of the service range, clear of the allocator's picks.
  const base = ipToU32('10.111.0.0');
  for (let i = 0; i < services; i++) objects.push(...fillerService(i, base));
  const failed = cluster.apply(objects).filter((r) => r.error !== undefined);
  if (failed.length > 0) {
    throw new Error(
      `compare: ${failed.length} objects not applied, first ${failed[0]!.kind}/${failed[0]!.name}: ${failed[0]!.error!.message ?? failed[0]!.error!.reason}`,
    );
  }
  cluster.settle();
  const modes: CompareMode[] = [];
  for (const mode of MODES) {
    const sim = setUpNode(cluster, entry, { mode });
    cluster.advance(2e9); // the proxier's bounded-frequency sync runs
    const steps: TraceStep[] = [];
    const t0 = process.hrtime.bigint();
    const out = probe(
      sim,
      { proto: 'tcp', src: ipToU32(from), dst: ipToU32(target.ip), dport: target.port },
      {
        tracer: (hook, e) =>
          steps.push({
            hook: HOOK_NAMES[hook] ?? String(hook),
            table: e.table,
            chain: e.chain,
            ruleNum: e.ruleNum,
            kind: e.kind,
            text: e.text,
            ...(e.result === undefined ? {} : { result: e.result }),
          }),
      },
    )[0]!;
    const micros = Number(process.hrtime.bigint() - t0) / 1e3;
    const after = parsePacket(out.packet);
    let result: string;
    if (out.verdict === Verdict.Drop)
      result = out.emitted.length > 0 ? 'REJECT (ICMP port unreachable)' : 'DROP';
    else if (after.dst !== ipToU32(target.ip) || after.dport !== target.port)
      result = `DNAT ${target.ip}:${target.port} → ${u32ToIp(after.dst)}:${after.dport}`;
    else result = 'no NAT';
    const tool =
      mode === 'iptables'
        ? ['iptables-save']
        : mode === 'ipvs'
          ? ['ipvsadm', '-Ln']
          : ['nft', 'list', 'ruleset'];
    const size = tableSize(mode, runNodeTool(sim, tool, cluster.now() / 1e6).stdout);
    modes.push({
      mode,
      visited:
        mode === 'ipvs' ? steps.filter((s) => s.kind === 'rule').length : rulesVisited(steps),
      unit: mode === 'ipvs' ? 'rules and lookups' : 'rules compared',
      steps,
      result,
      tableSize: size,
      micros,
    });
  }
  return { services, to, from, modes };
}
