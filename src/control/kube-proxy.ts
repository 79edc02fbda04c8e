// One node's kube-proxy process. It starts when the node's kube-proxy pod runs: reads
// `config.conf` from the kube-proxy ConfigMap (or, in a cluster without system pods, the
// settings it was given), picks the mode — falling back from ipvs to iptables on a node
// without the IPVS kernel modules where the cluster's version still did — logs what the
// real one logs at start-up, and feeds its proxier from the cluster. Deleting the pod stops
// it (the rules it wrote stay in the node's tables, as in the kernel); the DaemonSet's next
// pod starts a new kube-proxy that reads the file again, so editing the ConfigMap and
// deleting the pods switches a node's mode, as the seed does.
import { EventSource } from './events.ts';
import { parseCidr, u32ToIp } from '../packet/addr.ts';
import type { Pod } from '../api/types.ts';
import type { DataplaneProxier } from '../proxy/hooks.ts';
import { newProxier, type ProxyMode } from '../proxy/modes.ts';
import { seededStream } from '../proxy/random.ts';
import type { Cluster } from './cluster.ts';
import { type ResolvedNode, clusterMinor } from './cluster-config.ts';
import {
  KUBE_PROXY_CONFIG_KEY,
  KUBE_PROXY_CONFIGMAP,
  KUBE_PROXY_NAMESPACE,
  type KubeProxySettings,
  effectiveMode,
  parseKubeProxyConfiguration,
  validateKubeProxySettings,
} from './kube-proxy-config.ts';
import type { ProxyFeed } from './proxy-feed.ts';
import { cleanStaleUdpEntries } from './stale-udp.ts';
import type { Conntrack } from '../conntrack/conntrack.ts';

export const KUBE_PROXY_LABEL = 'k8s-app';
export const KUBE_PROXY_APP = 'kube-proxy';
/** Log lines kept per kube-proxy (the kubelet rotates container logs; this is the bound). */
const MAX_LOG_LINES = 2000;
/** kube-proxy exits on SIGTERM at once; the kubelet then removes the pod. */
const EXIT_DELAY_NS = 200e6;

/** What kube-proxy drives on its node: the dataplane's proxier slot and conntrack table. */
export interface KubeProxyHost {
  readonly proxier: DataplaneProxier;
  setProxier(p: DataplaneProxier): void;
  readonly ct: Conntrack;
}

export function isKubeProxyPod(p: Pod): boolean {
  return (
    p.metadata.namespace === KUBE_PROXY_NAMESPACE &&
    p.metadata.labels?.[KUBE_PROXY_LABEL] === KUBE_PROXY_APP
  );
}

export class KubeProxy {
  /** The mode the running proxier implements. */
  mode: ProxyMode = 'iptables';
  /** Syncs that deleted stale UDP conntrack entries, and how many entries in all. */
  staleUdpDeleted = 0;
  private host: KubeProxyHost | undefined;
  private feed: ProxyFeed | undefined;
  /** The pod this process runs as (its log is that pod's log). */
  private pod: { name: string; uid: string } | undefined;
  private readonly logs = new Map<string, KlogLine[]>();
  private restarts = 0;

  constructor(
    private readonly cluster: Cluster,
    readonly node: ResolvedNode,
    /** Used where the cluster has no kube-proxy ConfigMap (no system pods). */
    private readonly fallbackSettings: KubeProxySettings,
    /** Modes this world cannot run (the lab has no userspace relay): kube-proxy exits. */
    private readonly unavailable: readonly ProxyMode[] = [],
  ) {}

  /** The first start, before the dataplane exists: the proxier it is built with. */
  start(): DataplaneProxier {
    this.pod = this.runningPod();
    return this.boot();
  }

  /** Attach to the node's dataplane: feed the proxier, and restart with the pod. */
  bind(host: KubeProxyHost): void {
    this.host = host;
    this.attachFeed(host.proxier);
    this.cluster.store.watch('Pod', (ev) => {
      const p = ev.object;
      if (!isKubeProxyPod(p) || p.spec.nodeName !== this.node.name) return;
      if (ev.type === 'DELETED') {
        if (this.pod?.uid === p.metadata.uid) this.exit();
        this.logs.delete(p.metadata.name);
        return;
      }
      if (p.metadata.deletionTimestamp !== undefined) {
        if (this.pod?.uid === p.metadata.uid) this.terminate(p);
        return;
      }
      if (p.status.phase === 'Running' && this.pod === undefined) {
        this.pod = { name: p.metadata.name, uid: p.metadata.uid ?? '' };
        this.restarts++;
        const next = this.boot();
        if (next !== host.proxier) host.setProxier(next);
        this.attachFeed(host.proxier);
      }
    });
  }

  /** The log of the kube-proxy pod `name` on this node (undefined: not this node's). */
  podLog(name: string): readonly string[] | undefined {
    // Dated now: a live cluster's wall clock (Cluster.epochMs) is known only once it runs.
    return this.logs.get(name)?.map((l) => formatKlog(l, this.cluster.epochMs));
  }

  /** SIGTERM: kube-proxy stops syncing and exits; the kubelet then removes the pod. */
  private terminate(p: Pod): void {
    this.exit();
    const { namespace, name } = p.metadata;
    const uid = p.metadata.uid;
    this.cluster.clock.after(EXIT_DELAY_NS, () => {
      const cur = this.cluster.store.get('Pod', namespace!, name);
      if (cur !== undefined && cur.metadata.uid === uid)
        this.cluster.store.delete('Pod', namespace!, name, { gracePeriodSeconds: 0 });
    });
  }

  private exit(): void {
    this.feed?.stop();
    this.feed = undefined;
    this.pod = undefined;
  }

  private attachFeed(proxier: DataplaneProxier): void {
    if (this.pod === undefined && this.hasPods()) return;
    this.feed = this.cluster.attachProxier(proxier, {
      afterSync: () => this.cleanStale(),
    });
  }

  private cleanStale(): void {
    const host = this.host;
    // The userspace proxier (≤ v1.25) relays UDP itself: its entries end at the node's proxy
    // port, never at an endpoint, and it never ran CleanStaleEntries.
    if (host === undefined || host.ct.count === 0 || this.mode === 'userspace') return;
    const n = cleanStaleUdpEntries(
      host.ct,
      this.cluster.now() / 1e6,
      this.cluster.list('Service'),
      this.cluster.list('EndpointSlice'),
    );
    this.staleUdpDeleted += n;
  }

  private hasPods(): boolean {
    return this.cluster.config.systemPods;
  }

  private runningPod(): { name: string; uid: string } | undefined {
    const p = this.cluster
      .list('Pod', KUBE_PROXY_NAMESPACE)
      .find(
        (x) =>
          isKubeProxyPod(x) &&
          x.spec.nodeName === this.node.name &&
          x.metadata.deletionTimestamp === undefined,
      );
    return p === undefined ? undefined : { name: p.metadata.name, uid: p.metadata.uid ?? '' };
  }

  /** Read the configuration and build the proxier, logging as kube-proxy does. */
  private boot(): DataplaneProxier {
    const log = new KlogWriter(this.cluster, clusterMinor(this.cluster.config));
    const cm = this.cluster.store.get('ConfigMap', KUBE_PROXY_NAMESPACE, KUBE_PROXY_CONFIGMAP);
    let settings: KubeProxySettings = this.fallbackSettings;
    let failed: string | undefined;
    if (cm !== undefined) {
      const text = cm.data[KUBE_PROXY_CONFIG_KEY];
      const parsed =
        text === undefined
          ? ({ ok: false, error: `missing key ${KUBE_PROXY_CONFIG_KEY}` } as const)
          : parseKubeProxyConfiguration(text);
      if (parsed.ok) settings = parsed.settings;
      else failed = parsed.error;
    } else {
      failed = validateKubeProxySettings(settings);
    }
    let mode = effectiveMode(settings.mode);
    if (failed === undefined && mode === 'ipvs' && this.node.ipvsModules === false) {
      if (log.minor < 26) {
        log.fallback();
        mode = 'iptables';
      } else failed = "can't use the IPVS proxier: Ipvs not supported by the kernel";
    }
    if (failed === undefined && this.unavailable.includes(mode))
      failed = `svclab: ${mode} mode is not available here (the simulation has it)`;
    const proxier = this.newProxier(failed === undefined ? mode : 'iptables', settings);
    if (failed !== undefined) {
      // kube-proxy exits; the rules already in the node's tables stay, nothing syncs them.
      log.failed(failed);
      this.saveLog(log.lines);
      this.pod = undefined;
      return this.host?.proxier ?? proxier;
    }
    this.mode = mode;
    log.started(mode, this.node.ip, this.cluster.config.kubernetesVersion);
    if (mode === 'ipvs' && log.minor >= IPVS_DEPRECATED_MINOR) {
      // KEP-5495: kube-proxy also tells the node's watchers, as a Warning event on the Node.
      const node = this.cluster.store.get('Node', undefined, this.node.name);
      if (node !== undefined)
        this.cluster.events.event(
          new EventSource('kube-proxy', this.node.name),
          node,
          'Warning',
          'IPVSDeprecation',
          IPVS_DEPRECATION,
        );
    }
    this.saveLog(log.lines);
    return proxier;
  }

  private saveLog(lines: KlogLine[]): void {
    if (this.pod === undefined) return;
    this.logs.set(this.pod.name, lines.slice(-MAX_LOG_LINES));
  }

  private newProxier(mode: ProxyMode, s: KubeProxySettings): DataplaneProxier {
    const cfg = this.cluster.config;
    const node = this.node;
    const stream =
      this.restarts === 0 ? `proxy/${node.name}` : `proxy/${node.name}/${this.restarts}`;
    return newProxier(
      mode,
      {
        nodeName: node.name,
        // ipvs mode puts a NodePort virtual server on every address of the node's own
        // interfaces (not loopback, not kube-ipvs0): here eth0's and cni0's (the pod CIDR's
        // .1). The other modes match NodePorts by addrtype or `fib daddr type local` and
        // read only the primary IP from this list (nftables: nodePortAddresses primary).
        nodeIPs: mode === 'ipvs' ? [node.ip, podGatewayIP(node)] : [node.ip],
        clusterCIDR: s.clusterCIDR ?? cfg.podCIDR,
        version: cfg.kubernetesVersion,
        ...(s.masqueradeAll ? { masqueradeAll: true } : {}),
        // MASQUERADE --random-fully came with v1.16 (kubernetes#78547).
        ...(clusterMinor(cfg) < 16 ? { iptables: { randomFully: false } } : {}),
        ...(s.ipvsScheduler ? { ipvs: { scheduler: s.ipvsScheduler } } : {}),
        nftables: {
          serviceCIDRs: [cfg.serviceCIDR],
          ...(s.nodePortAddresses !== undefined
            ? { nodePortAddresses: nodePortAddressList(s.nodePortAddresses, node.ip) }
            : {}),
        },
      },
      { random: seededStream(cfg.seed, stream), nowNs: () => this.cluster.now() },
    );
  }
}

/** ipvs mode is deprecated from v1.35 (KEP-5495): kube-proxy logs this as an error. */
const IPVS_DEPRECATED_MINOR = 35;
const IPVS_DEPRECATION =
  "The ipvs proxier is now deprecated and may be removed in a future release. Please use 'nftables' instead.";

/** cni0's address: the first of the node's pod CIDR (node-setup.ts gives its pods this gateway). */
function podGatewayIP(node: ResolvedNode): string {
  return u32ToIp((parseCidr(node.podCIDR).base + 1) >>> 0);
}

/** `primary` stands for the node's primary IP (kube-proxy ≥ 1.29). */
function nodePortAddressList(list: readonly string[], nodeIP: string): string[] {
  return list.map((a) => (a === 'primary' ? `${nodeIP}/32` : a));
}

/** A klog line without its time: dated when read, against the cluster's wall clock then. */
interface KlogLine {
  sev: 'I' | 'W' | 'E' | 'F';
  /** Virtual time, ns. */
  ns: number;
  /** `file.go:66] message`. */
  text: string;
}

/** klog's header: `I0726 11:18:21.500000       1 ` (month, day, time to the microsecond). */
function formatKlog(l: KlogLine, epochMs: number): string {
  const d = new Date(epochMs + Math.floor(l.ns / 1e6));
  const p2 = (n: number) => String(n).padStart(2, '0');
  const us = String(Math.floor((epochMs * 1000 + l.ns / 1000) % 1e6)).padStart(6, '0');
  const head = `${l.sev}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${us}`;
  return `${head}       1 ${l.text}`;
}

/** klog's text lines: `I1206 22:30:01.123456       1 file.go:66] message`. */
class KlogWriter {
  readonly lines: KlogLine[] = [];
  constructor(
    private readonly cluster: Cluster,
    readonly minor: number,
  ) {}

  private line(sev: 'I' | 'W' | 'E' | 'F', at: string, msg: string): void {
    this.lines.push({ sev, ns: this.cluster.now(), text: `${at}] ${msg}` });
  }

  /** Structured logging (v1.19+) quotes the message and appends key="value" pairs. */
  private say(sev: 'I' | 'W' | 'E', at: string, msg: string, kv = ''): void {
    this.line(sev, at, this.minor >= 19 ? `"${msg}"${kv === '' ? '' : ` ${kv}`}` : msg);
  }

  fallback(): void {
    if (this.minor >= 19)
      this.say(
        'W',
        'server_others.go:578',
        "Can't use the IPVS proxier",
        'err="IPVS proxier will not be used because the following required kernel modules are not loaded: [ip_vs ip_vs_rr ip_vs_wrr ip_vs_sh]"',
      );
    else this.line('W', 'server_others.go:264', "Can't use ipvs proxier, trying iptables proxier");
  }

  failed(err: string): void {
    const e = err.replace(/"/g, '\\"');
    if (this.minor >= 19) this.line('E', 'run.go:72', `"command failed" err="${e}"`);
    else this.line('F', 'server.go:449', err);
  }

  started(mode: ProxyMode, nodeIP: string, version: string): void {
    const modern = this.minor >= 19;
    if (modern) {
      if (this.minor >= 27 && mode === 'iptables')
        this.say('I', 'server_linux.go:66', 'Using iptables proxy');
      this.say('I', 'server.go:677', 'Successfully retrieved node IP(s)', `IPs=["${nodeIP}"]`);
      this.say('I', 'server.go:243', 'kube-proxy running in single-stack mode', 'ipFamily="IPv4"');
      // server_others.go held the Linux start-up until v1.28 split out server_linux.go.
      this.say(
        'I',
        this.minor >= 28 ? 'server_linux.go:169' : 'server_others.go:269',
        `Using ${mode} Proxier`,
      );
      if (mode === 'ipvs' && this.minor >= IPVS_DEPRECATED_MINOR)
        this.say('E', 'server_linux.go:176', IPVS_DEPRECATION);
      if (mode === 'iptables')
        this.say(
          'I',
          'proxier.go:255',
          'Setting route_localnet=1 to allow node-ports on localhost; to change this either disable iptables.localhostNodePorts (--iptables-localhost-nodeports) or set nodePortAddresses (--nodeport-addresses) to filter loopback addresses',
          'ipFamily="IPv4"',
        );
      this.say('I', 'server.go:483', 'Version info', `version="${version}"`);
      this.say('I', 'server.go:485', 'Golang settings', 'GOGC="" GOMAXPROCS="" GOTRACEBACK=""');
      this.say('I', 'config.go:199', 'Starting service config controller');
      this.line('I', 'shared_informer.go:313', 'Waiting for caches to sync for service config');
      this.say('I', 'config.go:105', 'Starting endpoint slice config controller');
      this.line(
        'I',
        'shared_informer.go:313',
        'Waiting for caches to sync for endpoint slice config',
      );
      this.line('I', 'shared_informer.go:320', 'Caches are synced for endpoint slice config');
      this.line('I', 'shared_informer.go:320', 'Caches are synced for service config');
    } else {
      this.line('I', 'server_others.go:170', `Using ${mode} Proxier.`);
      this.line('I', 'server.go:534', `Version: ${version}`);
      this.line('I', 'conntrack.go:52', 'Setting nf_conntrack_max to 131072');
      this.line('I', 'config.go:187', 'Starting service config controller');
      this.line(
        'I',
        'controller_utils.go:1029',
        'Waiting for caches to sync for service config controller',
      );
      this.line('I', 'config.go:96', 'Starting endpoints config controller');
      this.line(
        'I',
        'controller_utils.go:1029',
        'Waiting for caches to sync for endpoints config controller',
      );
      this.line('I', 'controller_utils.go:1036', 'Caches are synced for service config controller');
      this.line(
        'I',
        'controller_utils.go:1036',
        'Caches are synced for endpoints config controller',
      );
    }
  }
}
