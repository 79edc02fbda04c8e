// kube-proxy's ipvs mode as a Proxier (pkg/proxy/ipvs/proxier.go syncProxyRules): the handlers
// feed the shared ServiceMap; sync() takes only the services that changed and DIFFS what they
// want (desired.ts) against what is installed -- virtual services added/edited/deleted, real
// servers added or gracefully deleted, ipset members and kube-ipvs0 addresses reference-counted
// -- so one endpoint change is one real-server operation, whatever the cluster size.
// classify() is the dataplane's entry for the first packet of a flow.
import type { Service } from '../../api/types.ts';
import { ipToU32, parseCidr, prefixMask, u32ToIp } from '../../packet/addr.ts';
import type { IpvsConfig, ProxyCommonConfig } from '../config.ts';
import { ServiceMapProxier } from '../service-map-proxier.ts';
import type { ServiceMapSnapshot } from '../service-map.ts';
import { IPPROTO_TCP, IPPROTO_UDP, SCHED_MH_FALLBACK, SvcFlag } from './constants.ts';
import { destKey } from './dest.ts';
import { desiredForPort } from './desired.ts';
import type { DesiredContext, DesiredVs } from './desired.ts';
import { GracefulTermination, rsName } from './graceful.ts';
import { ipsetList } from './ipset.ts';
import { ipvsIptablesRules } from './iptables-rules.ts';
import type { IpvsRules } from './iptables-rules.ts';
import { Ipvs } from './ipvs.ts';
import { ipvsadmConnections, ipvsadmList } from './ipvsadm.ts';
import type { IpvsadmListOptions } from './ipvsadm.ts';
import { KubeIpsets, SetId } from './kube-ipsets.ts';
import { marksForMasquerade } from './masquerade.ts';
import type { MasqueradeOptions, PacketContext } from './masquerade.ts';
import { isSchedulerName } from './schedulers/index.ts';
import type { VirtualService } from './service.ts';

/** svclab's per-service scheduler annotation (upstream kube-proxy has only the global flag). */
export const SCHEDULER_ANNOTATION = 'svclab.io/ipvs-scheduler';

/**
 * The common configuration and KubeProxyConfiguration's `ipvs` fields side by side (nodeIPs:
 * this node's addresses outside kube-ipvs0, for NodePort virtual services).
 */
export interface IpvsProxierOptions extends ProxyCommonConfig, IpvsConfig {
  /** KubeProxyConfiguration's `iptables.randomFully`: ipvs mode writes iptables rules too. */
  readonly randomFully?: boolean;
  /** Caller's clock in ms (graceful termination); default 0. */
  readonly now?: () => number;
}

/** What one Service has installed. */
interface Installed {
  readonly vs: Map<string, { svc: VirtualService; bind: boolean }>;
  /** Set members as flat quads `[SetId, a, b, c]`. */
  readonly entries: number[];
  readonly lbNoNodeAccess: (readonly [string, string, number])[];
}

/** Operation counters: how a test proves a sync was a diff, not a rebuild. */
export interface IpvsOps {
  vsAdd: number;
  vsEdit: number;
  vsDel: number;
  bind: number;
  unbind: number;
}

export class IpvsProxier extends ServiceMapProxier {
  readonly ipvs = new Ipvs();
  readonly ipsets: KubeIpsets;
  readonly graceful: GracefulTermination;
  readonly ops: IpvsOps = { vsAdd: 0, vsEdit: 0, vsDel: 0, bind: 0, unbind: 0 };
  /** The last sync: services re-synced, time in ServiceMap.snapshot() and in the ipvs diff (wall ms). */
  lastSync = { services: 0, snapshotMs: 0, diffMs: 0 };
  /** Addresses on the dummy kube-ipvs0 (reference-counted: an external IP may serve two services). */
  private readonly bound = new Map<number, number>();
  /** Bumped whenever an address is bound to or unbound from kube-ipvs0 (isLocalAddress changes). */
  localGeneration = 0;
  private readonly objects = new Map<string, Service>();
  private readonly installed = new Map<string, Installed>();
  private readonly vsRefs = new Map<string, { svc: VirtualService; refs: number }>();
  private readonly extraDirty = new Set<string>();
  private readonly desiredCtx: DesiredContext;
  private readonly masq: MasqueradeOptions;
  private readonly now: () => number;
  private rules: IpvsRules | undefined;
  /** KUBE-IPVS-OUT-FILTER's `LB ip,proto,port` keys, rebuilt after a sync that changed something. */
  private lbNoNodeAccess: Set<string> | undefined;

  constructor(readonly options: IpvsProxierOptions) {
    super(options.nodeName, options.nodeIPs);
    const scheduler = options.scheduler ?? 'rr';
    if (!isSchedulerName(scheduler)) throw new Error(`unknown IPVS scheduler ${scheduler}`);
    this.ipsets = new KubeIpsets(options.ipsetSeed ?? 0);
    this.graceful = new GracefulTermination(this.ipvs);
    this.now = options.now ?? (() => 0);
    this.ipvs.setTimeouts(
      options.tcpTimeout ?? 0,
      options.tcpFinTimeout ?? 0,
      options.udpTimeout ?? 0,
    );
    const cidr =
      options.clusterCIDR === undefined ? undefined : parseCidr(options.clusterCIDR, true);
    this.masq = {
      masqueradeAll: options.masqueradeAll ?? false,
      clusterCIDR: cidr === undefined ? undefined : [cidr.base, prefixMask(cidr.prefix)],
    };
    const fallback = options.mhFallback === true ? SCHED_MH_FALLBACK : 0;
    const sched = (name: string) => ({ name, flags: name === 'mh' ? fallback : 0 });
    const byDefault = sched(scheduler);
    this.desiredCtx = {
      nodeIPs: options.nodeIPs,
      nodeIP: options.nodeIPs[0] === undefined ? undefined : ipToU32(options.nodeIPs[0]),
      scheduler: (service) => {
        const annotated = this.schedulerFor(service);
        return annotated === undefined ? byDefault : sched(annotated);
      },
    };
  }

  // The shared handlers feed the ServiceMap; ipvs also keeps each Service object, for the
  // scheduler annotation, and re-syncs a Service whose annotation changed.
  override onServiceAdd(service: Service): void {
    this.remember(undefined, service);
    super.onServiceAdd(service);
  }
  override onServiceUpdate(oldService: Service, service: Service): void {
    this.remember(oldService, service);
    super.onServiceUpdate(oldService, service);
  }
  override onServiceDelete(service: Service): void {
    this.objects.delete(nsName(service));
    super.onServiceDelete(service);
  }

  private remember(oldService: Service | undefined, service: Service): void {
    const key = nsName(service);
    const before = oldService?.metadata.annotations?.[SCHEDULER_ANNOTATION];
    if (before !== service.metadata.annotations?.[SCHEDULER_ANNOTATION]) this.extraDirty.add(key);
    this.objects.set(key, service);
  }

  /** syncProxyRules, as a diff over the services that changed since the last sync. */
  sync(): void {
    if (!this.initialized) return;
    const t0 = performance.now();
    const snap = this.serviceMap.snapshot();
    const t1 = performance.now();
    const names = new Set([...snap.changed, ...this.extraDirty]);
    this.extraDirty.clear();
    this.ipvs.services.arena.reserve(this.recordsFor(names, snap));
    for (const name of names) this.syncService(name, snap);
    if (names.size > 0) {
      this.rules = undefined;
      this.lbNoNodeAccess = undefined;
    }
    this.graceful.check(this.now());
    this.lastSync = { services: names.size, snapshotMs: t1 - t0, diffMs: performance.now() - t1 };
  }

  /**
   * The first packet of a flow (see Ipvs.classify): a connection slot whose real server is
   * ipvs.conns.daddr/dport, or a negative IpvsVerdict.
   */
  classify(
    proto: number,
    saddr: number,
    sport: number,
    daddr: number,
    dport: number,
    tcpFlags: number,
    bytes: number,
    now: number,
  ): number {
    return this.ipvs.classify(proto, saddr, sport, daddr, dport, tcpFlags, bytes, now);
  }

  /** The first packet's real server as {ip, port}, or null (tests, `svclab trace`). */
  classifyDest(
    proto: number,
    src: string,
    sport: number,
    dst: string,
    dport: number,
    tcpFlags: number,
    now: number,
  ) {
    const id = this.classify(proto, ipToU32(src), sport, ipToU32(dst), dport, tcpFlags, 60, now);
    if (id < 0) return null;
    return { ip: u32ToIp(this.ipvs.conns.daddr[id]!), port: this.ipvs.conns.dport[id]! };
  }

  /** addrtype LOCAL: node addresses and 127/8, and the addresses bound to kube-ipvs0. */
  override isLocalAddress(ip: number): boolean {
    return super.isLocalAddress(ip) || this.bound.has(ip >>> 0);
  }

  /** Whether nat KUBE-SERVICES marks this new connection for masquerade. */
  marksForMasquerade(
    proto: number,
    src: number,
    dst: number,
    dport: number,
    ctx: PacketContext,
  ): boolean {
    return marksForMasquerade(this.ipsets, this.masq, proto, src, dst, dport, ctx);
  }

  /**
   * filter OUTPUT KUBE-IPVS-OUT-FILTER for a node-originated packet IPVS took for virtual service
   * vaddr:vport: `-s LB -m ipvs --vaddr LB --vproto P --vport N -j DROP` for each LB IP whose
   * source ranges leave out the node IP (the node reaching an address bound to kube-ipvs0 uses
   * that address as source: "for IPVS src and dst both would be lbIP").
   */
  dropsNodeToLoadBalancer(proto: number, src: number, vaddr: number, vport: number): boolean {
    if (src >>> 0 !== vaddr >>> 0) return false;
    if (this.lbNoNodeAccess === undefined) {
      this.lbNoNodeAccess = new Set();
      for (const i of this.installed.values()) {
        for (const [ip, p, port] of i.lbNoNodeAccess) this.lbNoNodeAccess.add(`${ip},${p},${port}`);
      }
    }
    if (this.lbNoNodeAccess.size === 0) return false;
    const p = proto === IPPROTO_TCP ? 'tcp' : proto === IPPROTO_UDP ? 'udp' : 'sctp';
    return this.lbNoNodeAccess.has(`${u32ToIp(vaddr)},${p},${vport}`);
  }

  /** Periodic housekeeping on the caller's clock: reap connections, graceful deletes, rates. */
  tick(now: number): void {
    this.ipvs.expire(now);
    if (this.graceful.check(now) > 0) this.rules = undefined;
    this.ipvs.tickEstimators(now);
  }

  /** `ip -4 addr show kube-ipvs0` addresses, sorted. */
  kubeIpvs0Addresses(): string[] {
    return [...this.bound.keys()].sort((a, b) => a - b).map(u32ToIp);
  }

  ipvsadm(opts: IpvsadmListOptions = {}): string {
    return ipvsadmList(this.ipvs.services, opts);
  }

  ipvsadmConnections(now: number): string {
    return ipvsadmConnections(this.ipvs, now);
  }

  /** kube-proxy's iptables-restore payload for ipvs mode. */
  iptablesRules(): IpvsRules {
    if (this.rules === undefined) {
      const lbNoNodeAccess = [...this.installed.values()].flatMap((i) => i.lbNoNodeAccess);
      const cidr = this.options.clusterCIDR;
      this.rules = ipvsIptablesRules(this.ipsets, {
        masqueradeAll: this.masq.masqueradeAll,
        clusterCIDR:
          cidr === undefined
            ? undefined
            : `${u32ToIp(parseCidr(cidr, true).base)}/${parseCidr(cidr, true).prefix}`,
        mark: '0x' + (1 << (this.options.masqueradeBit ?? 14)).toString(16).padStart(8, '0'),
        randomFully: this.options.randomFully ?? true,
        lbNoNodeAccess,
      });
    }
    return this.rules;
  }

  /** `ipset list`, References counted from the iptables rules. */
  ipsetList(): string {
    const refs = this.iptablesRules().references;
    for (const s of this.ipsets.all()) s.references = refs.get(s.name) ?? 0;
    return ipsetList(this.ipsets.all());
  }

  /**
   * At most how many arena records syncing `names` adds (a virtual service, its list head
   * and its real servers per address): reserved at once, so a full sync grows the arena
   * once instead of copying it at every growth step.
   */
  private recordsFor(names: ReadonlySet<string>, snap: ServiceMapSnapshot): number {
    let n = 0;
    for (const name of names) {
      for (const { info, endpoints } of snap.servicePorts(name)) {
        const nodePorts = info.nodePort !== 0 ? this.options.nodeIPs.length : 0;
        const addrs = 1 + info.externalIPs.length + info.loadBalancerIPs.length + nodePorts;
        n += addrs * (2 + endpoints.length);
      }
    }
    return n;
  }

  private schedulerFor(service: string): string | undefined {
    const obj = this.objects.get(service);
    const a = obj?.metadata.annotations?.[SCHEDULER_ANNOTATION];
    return a !== undefined && isSchedulerName(a) ? a : undefined;
  }

  private syncService(name: string, snap: ServiceMapSnapshot): void {
    const old = this.installed.get(name);
    const next: Installed = { vs: new Map(), entries: [], lbNoNodeAccess: [] };
    const ports = snap.servicePorts(name);
    const sched = ports.length === 0 ? undefined : this.desiredCtx.scheduler(name);
    for (const entry of ports) {
      const want = desiredForPort(entry, this.desiredCtx, sched);
      for (const d of want.vs) next.vs.set(d.key, this.applyVs(d, old?.vs.get(d.key)));
      const es = want.entries;
      for (let k = 0; k < es.length; k += 4) {
        this.ipsets.refMember(es[k]!, es[k + 1]!, es[k + 2]!, es[k + 3]!);
        next.entries.push(es[k]!, es[k + 1]!, es[k + 2]!, es[k + 3]!);
      }
      next.lbNoNodeAccess.push(...want.lbNoNodeAccess);
    }
    if (old !== undefined) {
      for (const [key, st] of old.vs) if (!next.vs.has(key)) this.releaseVs(key, st.bind, st.svc);
      const es = old.entries;
      for (let k = 0; k < es.length; k += 4)
        this.ipsets.unrefMember(es[k]!, es[k + 1]!, es[k + 2]!, es[k + 3]!);
    }
    if (next.vs.size === 0 && next.entries.length === 0) this.installed.delete(name);
    else this.installed.set(name, next);
  }

  /** syncService() + syncEndpoint() for one virtual service. */
  private applyVs(
    d: DesiredVs,
    prev: { svc: VirtualService; bind: boolean } | undefined,
  ): { svc: VirtualService; bind: boolean } {
    let ref = this.vsRefs.get(d.key);
    if (ref === undefined) {
      ref = { svc: this.ipvs.services.add(d.spec), refs: 0 };
      this.vsRefs.set(d.key, ref);
      this.ops.vsAdd++;
    }
    if (prev === undefined) ref.refs++;
    const svc = ref.svc;
    const s = d.spec;
    const flags = svc.flags & ~SvcFlag.HASHED;
    if (
      svc.schedulerName !== s.scheduler ||
      svc.timeout !== (s.timeout ?? 0) ||
      flags !== (s.flags ?? 0)
    ) {
      svc.edit(s);
      this.ops.vsEdit++;
    }
    const wasBound = prev?.bind ?? false;
    if (d.bind && !wasBound) this.bind(s.addr);
    if (!d.bind && wasBound) this.unbind(s.addr);
    this.syncDests(svc, d);
    return { svc, bind: d.bind };
  }

  private releaseVs(key: string, wasBound: boolean, svc: VirtualService): void {
    if (wasBound) this.unbind(svc.addr);
    const ref = this.vsRefs.get(key);
    if (ref === undefined || --ref.refs > 0) return;
    this.vsRefs.delete(key);
    this.graceful.dropService(svc);
    this.ipvs.services.delete(svc);
    this.ops.vsDel++;
  }

  /** syncEndpoint(): add what is missing, gracefully delete what is no longer wanted. */
  private syncDests(svc: VirtualService, d: DesiredVs): void {
    if (svc.numDests === 0) {
      // A new virtual service (most of a full sync): nothing to diff against, and no handle
      // made per server (service.ts addDestSlot).
      for (const ep of d.endpoints) svc.addDestSlot({ addr: ep.ip, port: ep.port, weight: 1 });
      return;
    }
    const want = new Set<number>();
    for (const ep of d.endpoints) {
      want.add(destKey(ep.ip, ep.port));
      if (svc.findDest(ep.ip, ep.port) >= 0) {
        const rs = rsName(d.key, ep.ip, ep.port);
        if (!this.graceful.inTerminationList(rs)) continue;
        this.graceful.moveOut(rs);
      }
      svc.addDestSlot({ addr: ep.ip, port: ep.port, weight: 1 });
    }
    for (const key of svc.destKeys()) {
      if (want.has(key)) continue;
      const addr = Math.floor(key / 65536);
      const port = key % 65536;
      const rs = rsName(d.key, addr, port);
      if (!this.graceful.inTerminationList(rs)) this.graceful.gracefulDelete(rs, svc, addr, port);
    }
  }

  private bind(addr: number): void {
    const n = this.bound.get(addr) ?? 0;
    this.bound.set(addr, n + 1);
    if (n === 0) {
      this.localGeneration++;
      this.ops.bind++;
      this.ipsets.refMember(SetId.IPVS_IPS, addr, 0, 0);
    }
  }

  private unbind(addr: number): void {
    const n = this.bound.get(addr) ?? 0;
    if (n > 1) this.bound.set(addr, n - 1);
    else if (n === 1) {
      this.bound.delete(addr);
      this.localGeneration++;
      this.ops.unbind++;
      this.ipsets.unrefMember(SetId.IPVS_IPS, addr, 0, 0);
    }
  }
}

function nsName(s: Service): string {
  return `${s.metadata.namespace ?? 'default'}/${s.metadata.name}`;
}
