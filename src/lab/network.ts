// The lab's cluster network: the same per-node dataplanes as the simulation
// (control/node-setup.ts), wired to TUN devices instead of simulated links.
//
//   pod/client TUN ──► node dataplane ── pod iface ──► pod TUN
//                         │ local           │ uplink
//                         ▼                 ▼
//                   node netns TUN    next hop node's dataplane (inIf 1)
//                                     or the router ──► external netns TUN
//
// Everything runs synchronously in the TUN read callback: a packet read from one
// device is processed (and rewritten in place) by one or more dataplanes and written
// to another device before the callback returns. Packets a dataplane generates (ICMP
// errors) are queued and sent once the packet that caused them is done, so no
// dataplane is re-entered while it is processing.
import type { Cluster } from '../control/cluster.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';
import {
  type ProxyMode,
  type SimNode,
  defaultRouter,
  setUpNode,
  vethName,
} from '../control/node-setup.ts';
import { Verdict } from '../dataplane/counters.ts';
import { LOCAL_IF } from '../dataplane/node.ts';
import { IfaceKind } from '../dataplane/routes.ts';
import { ipToU32, tryIpToU32 } from '../packet/addr.ts';
import { isRoutedServiceAddress } from '../control/service-addresses.ts';

/** Where the network writes packets: a TUN device in the lab, an array in tests. */
export interface PacketPort {
  sendOne(packet: Uint8Array): boolean;
}

export interface LabNetworkOptions {
  mode: ProxyMode;
  /** kube-proxy's other flags, written into the kube-proxy ConfigMap with the mode. */
  kubeProxy?: KubeProxySettings;
}

/** Packets the lab network moved or lost, by cause (the dataplanes count their own). */
export interface LabCounters {
  /** Packets read from a device and handed to a dataplane or the router. */
  received: number;
  /** Packets written to a device. */
  delivered: number;
  /** Dropped by a dataplane (filter, invalid, no route: see its counters). */
  dataplaneDrops: number;
  /** For an address with no device (a pod not wired yet or gone, an unknown outside host). */
  noDevice: number;
  /** The device would not take it (queue full). */
  txDropped: number;
}

interface PodAttachment {
  node: SimNode;
  ifIndex: number;
  port: PacketPort;
}

const dstOf = (p: Uint8Array) => ((p[16]! << 24) | (p[17]! << 16) | (p[18]! << 8) | p[19]!) >>> 0;

export class LabNetwork {
  readonly cluster: Cluster;
  readonly mode: ProxyMode;
  readonly nodes = new Map<string, SimNode>();
  readonly routerIP: number;
  readonly counters: LabCounters = {
    received: 0,
    delivered: 0,
    dataplaneDrops: 0,
    noDevice: 0,
    txDropped: 0,
  };
  private readonly pods = new Map<number, PodAttachment>();
  private readonly nodePorts = new Map<SimNode, PacketPort>();
  private readonly external = new Map<number, PacketPort>();
  private readonly nodeByIp = new Map<number, SimNode>();
  private readonly emitted: Array<{ node: SimNode; packet: Uint8Array; ifIndex: number }> = [];
  private draining = false;

  constructor(cluster: Cluster, opts: LabNetworkOptions) {
    this.cluster = cluster;
    this.mode = opts.mode;
    const nodes = resolveNodes(cluster.config);
    this.routerIP = ipToU32(defaultRouter(nodes[0]!.ip));
    for (const n of nodes) {
      // The lab has no userspace relay process: a ConfigMap switch to it makes kube-proxy exit.
      const node = setUpNode(cluster, n.name, {
        ...opts.kubeProxy,
        mode: opts.mode,
        unavailableModes: ['userspace'],
      });
      node.dataplane.emit = (packet, ifIndex) =>
        this.emitted.push({ node, packet: packet.slice(), ifIndex });
      this.nodes.set(n.name, node);
      this.nodeByIp.set(node.ip, node);
    }
  }

  node(name: string): SimNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node named ${name}`);
    return n;
  }

  /** A pod's device: its node has the pod's interface once the pod has its IP. */
  attachPod(ip: number | string, nodeName: string, port: PacketPort): void {
    const addr = typeof ip === 'number' ? ip >>> 0 : ipToU32(ip);
    const node = this.node(nodeName);
    const ifIndex = node.podIfaces.get(addr);
    if (ifIndex === undefined)
      throw new Error(`no interface for ${typeof ip === 'string' ? ip : addr} on ${nodeName}`);
    this.pods.set(addr, { node, ifIndex, port });
  }

  /**
   * A host in a node's pod CIDR that is no pod (the lab's client): the node gets an
   * interface for it as the CNI would for a pod, outside the cluster's pod list.
   */
  attachPodLike(name: string, ip: string, nodeName: string, port: PacketPort): void {
    const node = this.node(nodeName);
    const addr = ipToU32(ip);
    const ifIndex = node.dataplane.addPod(vethName(name), addr);
    this.pods.set(addr, { node, ifIndex, port });
  }

  detachPod(ip: number | string): void {
    const addr = typeof ip === 'number' ? ip >>> 0 : tryIpToU32(ip);
    if (addr !== undefined) this.pods.delete(addr >>> 0);
  }

  /** The node namespace's device: where Local packets go, and the node's own traffic. */
  attachNode(nodeName: string, port: PacketPort): void {
    this.nodePorts.set(this.node(nodeName), port);
  }

  /** An outside host behind the node network's router. */
  attachExternal(ip: string, port: PacketPort): void {
    this.external.set(ipToU32(ip), port);
  }

  detachExternal(ip: string): void {
    this.external.delete(ipToU32(ip));
  }

  /** A packet read from a pod's (or the client's) device; `ip` is that pod's address. */
  fromPod(ip: number, packet: Uint8Array): void {
    this.counters.received++;
    const a = this.pods.get(ip);
    if (a === undefined) {
      this.counters.noDevice++;
      return;
    }
    this.atNode(a.node, packet, a.ifIndex);
    this.drain();
  }

  /** A packet the node's own stack sends (read from the node namespace's device). */
  fromNode(nodeName: string, packet: Uint8Array): void {
    this.counters.received++;
    this.atNode(this.node(nodeName), packet, LOCAL_IF);
    this.drain();
  }

  /** A packet from an outside host: it reaches the router first. */
  fromExternal(packet: Uint8Array): void {
    this.counters.received++;
    this.atRouter(packet);
    this.drain();
  }

  private write(port: PacketPort, packet: Uint8Array): void {
    if (port.sendOne(packet)) this.counters.delivered++;
    else this.counters.txDropped++;
  }

  private atNode(node: SimNode, packet: Uint8Array, inIf: number): void {
    const dp = node.dataplane;
    const v = dp.process(packet, inIf);
    if (v === Verdict.Drop) {
      this.counters.dataplaneDrops++;
      return;
    }
    if (v === Verdict.Local) {
      this.toNodeStack(node, packet);
      return;
    }
    this.out(node, packet, dp.outIf, dp.nextHop);
  }

  private toNodeStack(node: SimNode, packet: Uint8Array): void {
    const port = this.nodePorts.get(node);
    if (port === undefined) this.counters.noDevice++;
    else this.write(port, packet);
  }

  /** Send a packet out of a node interface toward `nextHop`. */
  private out(node: SimNode, packet: Uint8Array, ifIndex: number, nextHop: number): void {
    const iface = node.dataplane.ifaces[ifIndex];
    if (iface === undefined) {
      this.counters.noDevice++;
      return;
    }
    if (iface.kind === IfaceKind.Pod) {
      const pod = this.pods.get(dstOf(packet));
      if (pod === undefined || pod.node !== node) this.counters.noDevice++;
      else this.write(pod.port, packet);
      return;
    }
    if (iface.kind === IfaceKind.Local) {
      this.toNodeStack(node, packet);
      return;
    }
    const peer = this.nodeByIp.get(nextHop >>> 0);
    if (peer !== undefined) this.atNode(peer, packet, 1);
    else this.atRouter(packet);
  }

  /**
   * The node network's router: outside hosts by address, node IPs to that node,
   * LoadBalancer and external IPs to the first node (a MetalLB L2 speaker's choice).
   */
  private atRouter(packet: Uint8Array): void {
    const dst = dstOf(packet);
    const ext = this.external.get(dst);
    if (ext !== undefined) {
      this.write(ext, packet);
      return;
    }
    const node =
      this.nodeByIp.get(dst) ??
      (isRoutedServiceAddress(this.cluster, dst) ? this.nodes.values().next().value : undefined);
    if (node === undefined) {
      this.counters.noDevice++;
      return;
    }
    this.atNode(node, packet, 1);
  }

  /** Packets the dataplanes generated while processing: out of the interface they name. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let e = this.emitted.shift(); e !== undefined; e = this.emitted.shift()) {
        const r = e.node.dataplane.routes.lookup(dstOf(e.packet));
        const nextHop = r !== undefined && r.gateway !== 0 ? r.gateway : dstOf(e.packet);
        if (e.ifIndex === LOCAL_IF) this.toNodeStack(e.node, e.packet);
        else this.out(e.node, e.packet, e.ifIndex, nextHop);
      }
    } finally {
      this.draining = false;
    }
  }

  /** Why the dataplanes dropped packets (`drop:…`, `malformed:…`), summed over nodes. */
  dropReasons(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const n of this.nodes.values()) {
      for (const [k, v] of Object.entries(n.dataplane.counters.summary())) {
        if (k.startsWith('drop:') || k.startsWith('malformed:')) out[k] = (out[k] ?? 0) + v;
      }
    }
    return out;
  }

  /** Packets forwarded and dropped by all dataplanes together. */
  dataplaneTotals(): { forwarded: number; local: number; dropped: number } {
    let forwarded = 0;
    let local = 0;
    let dropped = 0;
    for (const n of this.nodes.values()) {
      const v = n.dataplane.counters.verdicts;
      forwarded += v[Verdict.Forward]!;
      local += v[Verdict.Local]!;
      dropped += v[Verdict.Drop]!;
    }
    return { forwarded, local, dropped };
  }
}
