// The simulated cluster network: every node's dataplane, the hosts on it (pods on their
// node's veths, each node's own stack, outside clients behind the node network's
// router) and the links between them, with latency, on the cluster's virtual clock.
//
//   pod ──veth──► node dataplane ──uplink──► other node's dataplane ──veth──► pod
//                      │ local                        ▲
//                      ▼                              │
//                 node's own stack          router ◄──┴──► outside clients
//
// Every packet that crosses a link can be captured (pcap), and every step is a timer
// on the virtual clock, so a run is deterministic.
import type { Cluster } from '../control/cluster.ts';
import { MICROSECOND } from '../control/clock.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import { Verdict } from '../dataplane/counters.ts';
import { LOCAL_IF } from '../dataplane/node.ts';
import { IfaceKind } from '../dataplane/routes.ts';
import { ipToU32, tryIpToU32, u32ToIp } from '../packet/addr.ts';
import { SimHost } from './host.ts';
import { startUserspaceRelay } from './userspace-relay.ts';
import {
  type NodeSetupOptions,
  type ProxyMode,
  type SimNode,
  defaultRouter,
  seededStream,
  setUpNode,
} from '../control/node-setup.ts';
import { Rng } from '../control/rng.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';
import { isRoutedServiceAddress } from '../control/service-addresses.ts';

/** One kind of link: propagation delay, serialization at a bandwidth, an MTU, random loss. */
export interface LinkProfile {
  latencyNs: number;
  /** Bits per second; 0 = no serialization delay. Packets queue FIFO behind each other. */
  bandwidthBps: number;
  /** Larger packets are dropped (and counted): svclab does not fragment. */
  mtu: number;
  /** Probability in [0, 1) that a packet is lost, from the seeded RNG. */
  loss: number;
}

export type LinkKind = 'veth' | 'node' | 'external';

export const DEFAULT_LINKS: Readonly<Record<LinkKind, LinkProfile>> = {
  /** pod ↔ node. */
  veth: { latencyNs: 10 * MICROSECOND, bandwidthBps: 0, mtu: 1500, loss: 0 },
  /** node ↔ node and node ↔ router on the node network. */
  node: { latencyNs: 100 * MICROSECOND, bandwidthBps: 0, mtu: 1500, loss: 0 },
  /** router ↔ outside client. */
  external: { latencyNs: 1000 * MICROSECOND, bandwidthBps: 0, mtu: 1500, loss: 0 },
};

/** Packets the links dropped, by reason. */
export interface LinkDrops {
  mtu: number;
  loss: number;
}

/** Where a captured packet was seen. */
export interface CaptureEvent {
  tsNs: number;
  packet: Uint8Array;
  /** e.g. `k8s-node01:eth0:in`, `pod/myapp-…:out`, `external/client:in`. */
  point: string;
}

export interface SimNetworkOptions {
  /** --proxy-mode, written into the kube-proxy ConfigMap; absent: what the ConfigMap says. */
  mode?: ProxyMode;
  /** The other kube-proxy flags (--masquerade-all, --cluster-cidr, --nodeport-addresses). */
  kubeProxy?: KubeProxySettings;
  /** --ipvs-scheduler for ipvs mode. */
  scheduler?: string;
  links?: Partial<Record<LinkKind, Partial<LinkProfile>>>;
  conntrack?: NodeSetupOptions['conntrack'];
  capture?: (e: CaptureEvent) => void;
}

interface PodAttachment {
  host: SimHost;
  /** The host's name, here so a send reads no other object for it (see send). */
  name: string;
  node: SimNode;
  ifIndex: number;
  /** The pod's end of its veth: what a packet the node sends it does on arrival. */
  deliver: (pkt: Uint8Array) => void;
}

/** A node as the node network sees it: arrivals on its uplink (eth0). */
interface NodeOnWire {
  sim: SimNode;
  name: string;
  deliver: (pkt: Uint8Array) => void;
}

/** An outside host behind the router. */
interface ExternalHost {
  host: SimHost;
  name: string;
  deliver: (pkt: Uint8Array) => void;
}

export class SimNetwork {
  readonly cluster: Cluster;
  /** The mode the network was set up in (kube-proxy's pods may switch it later: modeOn). */
  readonly mode: ProxyMode;
  readonly nodes = new Map<string, SimNode>();
  /** Each node's own stack (its node IP): kubelet, host-network pods, NodePort replies. */
  readonly nodeHosts = new Map<string, SimHost>();
  readonly routerIP: number;
  /** Packets the router dropped (no outside host at that address). */
  routerDrops = 0;
  private readonly links: Record<LinkKind, LinkProfile>;
  /** When each link (by key) finishes sending what is queued on it, ns. */
  private readonly busyUntil = new Map<string, number>();
  private readonly lossRandom: () => number;
  readonly linkDrops: LinkDrops = { mtu: 0, loss: 0 };
  private readonly capture: ((e: CaptureEvent) => void) | undefined;
  private readonly pods = new Map<number, PodAttachment>();
  /** By address as an int32 (`ip | 0`): a u32 past 2^31 would be a heap number as a key. */
  private readonly external = new Map<number, ExternalHost>();
  /** By address as an int32, as `external`. */
  private readonly nodeByIp = new Map<number, NodeOnWire>();
  /** Each node's uplink arrivals, by node. */
  private readonly onWire = new Map<SimNode, NodeOnWire>();
  /** Arrivals at the router (bound once: links queue it with the packet as its argument). */
  private readonly toRouter = (pkt: Uint8Array): void => this.atRouter(pkt);
  private readonly hostRng: Rng;

  constructor(cluster: Cluster, opts: SimNetworkOptions) {
    this.cluster = cluster;
    this.mode = opts.mode ?? 'iptables';
    this.links = {
      veth: { ...DEFAULT_LINKS.veth, ...opts.links?.veth },
      node: { ...DEFAULT_LINKS.node, ...opts.links?.node },
      external: { ...DEFAULT_LINKS.external, ...opts.links?.external },
    };
    this.lossRandom = seededStream(cluster.config.seed, 'link-loss');
    this.capture = opts.capture;
    this.hostRng = new Rng(Math.floor(seededStream(cluster.config.seed, 'hosts')() * 2 ** 32));
    const nodes = resolveNodes(cluster.config);
    this.routerIP = ipToU32(defaultRouter(nodes[0]!.ip));
    for (const n of nodes) {
      const sim = setUpNode(cluster, n.name, {
        ...opts.kubeProxy,
        ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
        ...(opts.scheduler !== undefined ? { scheduler: opts.scheduler } : {}),
        ...(opts.conntrack ? { conntrack: opts.conntrack } : {}),
      });
      sim.dataplane.emit = (pkt, ifIndex) => this.out(sim, pkt, ifIndex, this.nextHopFor(sim, pkt));
      this.nodes.set(n.name, sim);
      const wire: NodeOnWire = {
        sim,
        name: n.name,
        deliver: (pkt) => {
          if (this.capture) this.tap(`${n.name}:eth0:in`, pkt);
          this.atNode(sim, pkt, 1);
        },
      };
      this.nodeByIp.set(sim.ip | 0, wire);
      this.onWire.set(sim, wire);
      const host = this.newHost(n.name, [n.ip]);
      host.transmit = (pkt) => {
        if (this.capture) this.tap(`${n.name}:lo:out`, pkt);
        this.atNode(sim, pkt, LOCAL_IF);
      };
      this.nodeHosts.set(n.name, host);
      startUserspaceRelay(sim, host); // userspace mode: kube-proxy relays on the node's stack
    }
  }

  newHost(name: string, addresses: string[]): SimHost {
    const host = new SimHost({
      name,
      addresses,
      clock: this.cluster.clock,
      rng: new Rng(this.hostRng.nextU32()),
    });
    // A packet delivered here is the host's: links and dataplanes keep none, and captures
    // copy (tap), so the host may reuse its buffer once read.
    host.recyclePackets = true;
    return host;
  }

  /** Put a pod's host on its node's veth (the pod must be scheduled and have an IP). */
  attachPod(host: SimHost, nodeName: string): void {
    const sim = this.nodes.get(nodeName);
    const ip = host.addresses[0]!;
    const ifIndex = sim?.podIfaces.get(ip);
    if (sim === undefined || ifIndex === undefined) {
      throw new Error(`pod ${host.name} (${u32ToIp(ip)}) has no veth on ${nodeName}`);
    }
    this.pods.set(ip, {
      host,
      name: host.name,
      node: sim,
      ifIndex,
      deliver: (pkt) => host.receive(pkt),
    });
    const toNode = (pkt: Uint8Array): void => this.atNode(sim, pkt, ifIndex);
    host.transmit = (pkt) => {
      if (this.capture) this.tap(`pod/${host.name}:out`, pkt);
      this.send('veth', host.name, '', pkt, toNode);
    };
  }

  detachPod(ip: number): void {
    const a = this.pods.get(ip >>> 0);
    if (a === undefined) return;
    a.host.transmit = undefined;
    this.pods.delete(ip >>> 0);
  }

  podHost(ip: string | number): SimHost | undefined {
    const n = typeof ip === 'number' ? ip : tryIpToU32(ip);
    return n === undefined ? undefined : this.pods.get(n >>> 0)?.host;
  }

  /** An outside client on the router's far side (e.g. the seed's Windows browser). */
  addExternalHost(name: string, ip: string): SimHost {
    const host = this.newHost(name, [ip]);
    this.external.set(ipToU32(ip) | 0, {
      host,
      name,
      deliver: (pkt) => {
        if (this.capture) this.tap(`external/${name}:in`, pkt);
        host.receive(pkt);
      },
    });
    host.transmit = (pkt) => {
      if (this.capture) this.tap(`external/${name}:out`, pkt);
      this.send('external', name, '', pkt, this.toRouter);
    };
    return host;
  }

  /**
   * Put a packet on a link: dropped if over the MTU or lost, else delivered after the
   * link's queue, its serialization time and its propagation delay: `deliver(pkt)` then.
   * The link's name (`from>to`, the key of its queue) is only built when it has a bandwidth.
   */
  private send(
    kind: LinkKind,
    from: string,
    to: string,
    pkt: Uint8Array,
    deliver: (pkt: Uint8Array) => void,
  ): void {
    const l = this.links[kind];
    if (pkt.length > l.mtu) {
      this.linkDrops.mtu++;
      return;
    }
    if (l.loss > 0 && this.lossRandom() < l.loss) {
      this.linkDrops.loss++;
      return;
    }
    let delay = l.latencyNs;
    if (l.bandwidthBps > 0) {
      const now = this.cluster.now();
      const key = `${from}>${to}`;
      const start = Math.max(now, this.busyUntil.get(key) ?? 0);
      const done = start + (pkt.length * 8 * 1e9) / l.bandwidthBps;
      this.busyUntil.set(key, done);
      delay += done - now;
    }
    this.cluster.clock.postArg(delay, deliver, pkt);
  }

  // Callers test `this.capture` first: the point name is then only built when capturing.
  private tap(point: string, packet: Uint8Array): void {
    this.capture?.({ tsNs: this.cluster.now(), packet: packet.slice(), point });
  }

  /** A packet arrives at a node's dataplane through interface `inIf`. */
  private atNode(sim: SimNode, pkt: Uint8Array, inIf: number): void {
    const dp = sim.dataplane;
    const v = dp.process(pkt, inIf);
    if (v === Verdict.Drop) return;
    if (v === Verdict.Local) {
      const host = this.nodeHosts.get(sim.node.name)!;
      if (this.capture) this.tap(`${sim.node.name}:lo:in`, pkt);
      host.receive(pkt);
      return;
    }
    this.out(sim, pkt, dp.outIf, dp.nextHop);
  }

  /** Send a packet out of a node interface toward `nextHop`. */
  private out(sim: SimNode, pkt: Uint8Array, ifIndex: number, nextHop: number): void {
    const iface = sim.dataplane.ifaces[ifIndex];
    if (iface === undefined) return;
    if (iface.kind === IfaceKind.Pod) {
      const dst = ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0;
      const pod = this.pods.get(dst);
      if (this.capture) this.tap(`${sim.node.name}:${iface.name}:out`, pkt);
      if (pod !== undefined && pod.node === sim) this.send('veth', '', pod.name, pkt, pod.deliver);
      return;
    }
    if (iface.kind === IfaceKind.Local) {
      this.nodeHosts.get(sim.node.name)?.receive(pkt);
      return;
    }
    if (this.capture) this.tap(`${sim.node.name}:eth0:out`, pkt);
    const peer = this.nodeByIp.get(nextHop | 0);
    if (peer !== undefined) {
      this.send('node', sim.node.name, peer.name, pkt, peer.deliver);
    } else {
      this.send('node', sim.node.name, 'router', pkt, this.toRouter);
    }
  }

  /** Next hop for a packet the node itself emits out of `ifIndex`. */
  private nextHopFor(sim: SimNode, pkt: Uint8Array): number {
    const dst = ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0;
    const r = sim.dataplane.routes.lookup(dst);
    return r !== undefined && r.gateway !== 0 ? r.gateway : dst;
  }

  /**
   * The node network's router: node IPs go to that node, LoadBalancer IPs to the node
   * announcing them (the first node, as a MetalLB L2 speaker would), the rest outside.
   */
  private atRouter(pkt: Uint8Array): void {
    const dst = ((pkt[16]! << 24) | (pkt[17]! << 16) | (pkt[18]! << 8) | pkt[19]!) >>> 0;
    const ext = this.external.get(dst | 0);
    if (ext !== undefined) {
      this.send('external', '', ext.name, pkt, ext.deliver);
      return;
    }
    const node =
      this.nodeByIp.get(dst | 0) ??
      (isRoutedServiceAddress(this.cluster, dst)
        ? this.onWire.get(this.nodes.values().next().value!)
        : undefined);
    if (node === undefined) {
      this.routerDrops++;
      return;
    }
    this.send('node', 'router', node.name, pkt, node.deliver);
  }

  /** Run the simulation (controllers, timers, packets) for `ns` of virtual time. */
  run(ns: number): void {
    this.cluster.advance(ns);
  }
}
