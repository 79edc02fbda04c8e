// The container runtime of the simulation: every pod that gets an IP becomes a host on
// its node's veth, and when its containers run, the workload its image stands for
// starts listening (src/workloads/kind.ts says which workload an image stands for).
import type { Pod } from '../api/types.ts';
import type { Cluster } from '../control/cluster.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import type { SimHost } from './host.ts';
import type { SimNetwork } from './network.ts';
import { startCoreDns } from './workloads/coredns.ts';
import { startHttpEcho } from './workloads/http-echo.ts';
import { startIngressNginx } from './workloads/ingress-nginx.ts';
import { type LaterLine, startMyApp } from './workloads/myapp.ts';
import { workloadFor } from '../workloads/kind.ts';

export { type WorkloadKind, workloadFor } from '../workloads/kind.ts';

interface Running {
  host: SimHost;
  ip: number;
  started: boolean;
  stopped: boolean;
}

interface PodLogStore {
  lines: (string | LaterLine)[];
  dropped: number;
}

/** Log lines kept per pod (the kubelet rotates container logs; this is the bound). */
const MAX_LOG_LINES = 1000;

export class PodRuntime {
  private readonly running = new Map<string, Running>();
  /**
   * Per pod: its log lines, some still to be formatted (a workload may hand in a line
   * whose text() writes it: most lines of a busy pod are rotated out unread, so they are
   * written when the log is read), and how many were rotated out.
   */
  private readonly podLogs = new Map<string, PodLogStore>();

  constructor(
    readonly cluster: Cluster,
    readonly net: SimNetwork,
  ) {
    const sync = () => this.sync();
    cluster.store.watch('Pod', sync);
  }

  /** The host of a pod (`namespace/name`), once it has an IP. */
  host(namespace: string, name: string): SimHost | undefined {
    return this.running.get(`${namespace}/${name}`)?.host;
  }

  /** The pod's log lines so far (`namespace/name`), or undefined when its workload logs nothing. */
  logs(namespace: string, name: string): { lines: readonly string[]; dropped: number } | undefined {
    const own = this.podLogs.get(`${namespace}/${name}`);
    if (own !== undefined) {
      const lines = own.lines;
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!;
        if (typeof l !== 'string') lines[i] = l.text();
      }
      return own as { lines: string[]; dropped: number };
    }
    if (namespace !== 'kube-system') return undefined;
    // A kube-proxy pod's log is what that node's kube-proxy process wrote.
    for (const n of this.net.nodes.values()) {
      const lines = n.kubeProxy.podLog(name);
      if (lines !== undefined) return { lines, dropped: 0 };
    }
    return undefined;
  }

  private logTo(key: string): (line: string | LaterLine) => void {
    const log: PodLogStore = { lines: [], dropped: 0 };
    this.podLogs.set(key, log);
    return (line) => {
      log.lines.push(line);
      // Drop in batches so a busy pod does not shift the array on every line.
      if (log.lines.length > 2 * MAX_LOG_LINES) {
        const drop = log.lines.length - MAX_LOG_LINES;
        log.lines.splice(0, drop);
        log.dropped += drop;
      }
    };
  }

  private sync(): void {
    const seen = new Set<string>();
    for (const pod of this.cluster.list('Pod')) {
      if (pod.spec.hostNetwork || pod.spec.nodeName === undefined) continue;
      const ip = pod.status.podIP === undefined ? undefined : tryIpToU32(pod.status.podIP);
      if (ip === undefined) continue;
      const key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
      seen.add(key);
      let r = this.running.get(key);
      if (r === undefined) {
        const host = this.net.newHost(pod.metadata.name, [pod.status.podIP!]);
        this.net.attachPod(host, pod.spec.nodeName);
        r = { host, ip, started: false, stopped: false };
        this.running.set(key, r);
      }
      if (
        !r.started &&
        pod.status.phase === 'Running' &&
        pod.metadata.deletionTimestamp === undefined
      ) {
        this.start(pod, r.host);
        r.started = true;
      }
      // A terminating pod's containers get SIGTERM and exit: their connections are reset.
      if (r.started && !r.stopped && pod.metadata.deletionTimestamp !== undefined) {
        r.host.shutdown();
        r.stopped = true;
      }
    }
    for (const [key, r] of this.running) {
      if (seen.has(key)) continue;
      this.net.detachPod(r.ip);
      this.running.delete(key);
      this.podLogs.delete(key);
    }
  }

  private start(pod: Pod, host: SimHost): void {
    for (const c of pod.spec.containers) {
      switch (workloadFor(c.image)) {
        case 'myapp':
          startMyApp(host, {
            image: c.image,
            podName: pod.metadata.name,
            logLater: this.logTo(`${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`),
          });
          break;
        case 'coredns':
          startCoreDns(host, this.cluster);
          break;
        case 'ingress-nginx':
          startIngressNginx(host, this.cluster);
          break;
        default:
          for (const p of c.ports ?? []) {
            if (p.protocol === 'TCP')
              startHttpEcho(host, { port: p.containerPort, name: pod.metadata.name });
          }
      }
    }
  }
}
