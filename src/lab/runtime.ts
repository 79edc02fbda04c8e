// The lab's container runtime and CNI: every pod with an IP gets a network namespace
// and a TUN device (held here, moved into the namespace), and when it runs, a worker
// process inside it serves what its image stands for. The pod turns Ready when the
// worker listens (a readiness probe passing), not-Ready when the worker dies (it is
// restarted after a back-off), and a deleted pod's namespace, device and process go.
// The fixed hosts — one namespace per node, the client, the external host — are
// wired the same way.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Pod } from '../api/types.ts';
import type { Cluster } from '../control/cluster.ts';
import { ipToU32 } from '../packet/addr.ts';
import { workloadFor } from '../workloads/kind.ts';
import type { LabDns } from './dns.ts';
import type { LabIngress } from './ingress.ts';
import { deviceName, podNetns } from './names.ts';
import type { LabNetwork } from './network.ts';
import { addNetns, deleteNetns, removeResolvConf, wireNetns, writeResolvConf } from './netns.ts';
import { Tun } from './tun.ts';
import type { WorkerCommand } from './worker-command.ts';
import type { DaemonMessage, WorkerMessage, WorkerSpec } from './workers/protocol.ts';

export interface LabHostInfo {
  kind: 'pod' | 'node' | 'client' | 'external';
  /** Pod name, node name, `client` or `external`. */
  name: string;
  namespace?: string;
  netns: string;
  dev: string;
  ip: string;
  node?: string;
  ready?: boolean;
  restarts?: number;
  pid?: number;
}

interface LabPod {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  ip: string;
  node: string;
  netns: string;
  dev: string;
  pod: Pod;
  tun?: Tun;
  worker?: ChildProcess | undefined;
  ready: boolean;
  restarts: number;
  stopping: boolean;
}

export interface RuntimeOptions {
  prefix: string;
  cluster: Cluster;
  net: LabNetwork;
  dns: LabDns;
  /** Routes and certificates for ingress-nginx workers. */
  ingress: LabIngress;
  /** How a worker starts: argv before its spec, and its code for stdin. */
  workerCommand: WorkerCommand;
  log: (line: string) => void;
  /** Called when pods or hosts change (lab.json is rewritten). */
  changed: () => void;
  /**
   * Records a namespace and device before they are made (owned: true) and after they are
   * gone (false), so a crashed lab's leftovers are known.
   */
  own?: (netns: string, dev: string, owned: boolean) => void;
}

/** Pods the lab runs: scheduled, not host-network, with an IP, running, not terminating. */
function wanted(p: Pod): boolean {
  return (
    p.spec.nodeName !== undefined &&
    p.spec.hostNetwork !== true &&
    p.status.podIP !== undefined &&
    p.status.phase === 'Running' &&
    p.metadata.deletionTimestamp === undefined
  );
}

export class LabRuntime {
  readonly hosts: LabHostInfo[] = [];
  private readonly pods = new Map<string, LabPod>();
  private readonly tuns: Tun[] = [];
  private dirty = false;
  private running: Promise<void> | undefined;
  private closed = false;
  private enabled = false;
  /** How a worker starts (set once the worker is bundled). */
  workerCommand: WorkerCommand;

  constructor(private readonly o: RuntimeOptions) {
    this.workerCommand = o.workerCommand;
    o.cluster.store.watch('Pod', () => this.kick());
  }

  /**
   * A namespace with a TUN device, its addresses and a default route out of it.
   * `onPacket` gets each packet read from the device.
   */
  async openHost(
    info: Omit<LabHostInfo, 'dev'>,
    addresses: string[],
    onPacket: (p: Uint8Array) => void,
    extra: string[] = [],
  ): Promise<Tun> {
    const dev = deviceName(this.o.prefix, info.netns);
    this.o.own?.(info.netns, dev, true);
    await addNetns(info.netns);
    const tun = Tun.open(dev);
    try {
      await wireNetns(info.netns, { dev, addresses, extra });
    } catch (e) {
      tun.close();
      await deleteNetns(info.netns);
      throw e;
    }
    tun.onPackets((batch) => {
      for (const p of batch) this.safely(onPacket, p);
    });
    this.tuns.push(tun);
    this.hosts.push({ ...info, dev });
    return tun;
  }

  /** Packets whose handling threw (counted; the daemon keeps forwarding the others). */
  packetErrors = 0;

  /** One packet through `fn`: an exception drops that packet, never the daemon. */
  private safely(fn: (p: Uint8Array) => void, p: Uint8Array): void {
    try {
      fn(p);
    } catch (e) {
      // Logged for the first few and then every 1000th, so a flood cannot fill the disk.
      if (++this.packetErrors <= 10 || this.packetErrors % 1000 === 0)
        this.o.log(
          `packet dropped, its handling threw (#${this.packetErrors}): ${(e as Error).message}`,
        );
    }
  }

  resolvConf(netns: string): void {
    const cfg = this.o.cluster.config;
    const d = cfg.clusterDomain;
    writeResolvConf(netns, {
      nameserver: cfg.dnsServiceIP,
      search: [`default.svc.${d}`, `svc.${d}`, d],
      ndots: 5,
    });
  }

  /** Everything the lab runs now: fixed hosts and pods. */
  list(): LabHostInfo[] {
    const pods: LabHostInfo[] = [...this.pods.values()].map((p) => ({
      kind: 'pod',
      name: p.name,
      namespace: p.namespace,
      netns: p.netns,
      dev: p.dev,
      ip: p.ip,
      node: p.node,
      ready: p.ready,
      restarts: p.restarts,
      ...(p.worker?.pid !== undefined ? { pid: p.worker.pid } : {}),
    }));
    return [...this.hosts, ...pods];
  }

  /** Every pod the cluster runs has a worker that listens (and no pod is half made). */
  allPodsServing(): boolean {
    for (const p of this.o.cluster.list('Pod')) {
      if (p.spec.hostNetwork === true || p.spec.nodeName === undefined) continue;
      if (!wanted(p)) return false;
      const lp = this.pods.get(`${p.metadata.namespace ?? 'default'}/${p.metadata.name}`);
      if (lp === undefined || !lp.ready) return false;
    }
    return !this.dirty && this.running === undefined;
  }

  /** Start running pods (the daemon calls it once leftovers are gone and hosts are wired). */
  enable(): void {
    this.enabled = true;
    this.kick();
  }

  kick(): void {
    // A Pod watch fires as soon as it is set up; nothing may be made before enable().
    if (this.closed || !this.enabled) return;
    this.dirty = true;
    this.running ??= this.loop();
  }

  private async loop(): Promise<void> {
    while (this.dirty && !this.closed) {
      this.dirty = false;
      try {
        await this.reconcile();
      } catch (e) {
        this.o.log(`reconcile: ${(e as Error).message}`);
      }
    }
    this.running = undefined;
  }

  private async reconcile(): Promise<void> {
    const want = new Map<string, Pod>();
    for (const p of this.o.cluster.list('Pod'))
      if (wanted(p)) want.set(`${p.metadata.namespace ?? 'default'}/${p.metadata.name}`, p);
    const gone = [...this.pods.values()].filter((lp) => {
      const p = want.get(lp.key);
      return p === undefined || p.metadata.uid !== lp.uid || p.status.podIP !== lp.ip;
    });
    await Promise.all(gone.map((lp) => this.stopPod(lp)));
    const fresh = [...want.values()].filter(
      (p) => !this.pods.has(`${p.metadata.namespace ?? 'default'}/${p.metadata.name}`),
    );
    await Promise.all(fresh.map((p) => this.startPod(p)));
    if (gone.length + fresh.length > 0) this.o.changed();
  }

  private setReady(lp: LabPod, ready: boolean): void {
    lp.ready = ready;
    try {
      this.o.cluster.setPodReady(lp.namespace, lp.name, ready);
    } catch {
      // the pod is gone already
    }
  }

  private async startPod(p: Pod): Promise<void> {
    const namespace = p.metadata.namespace ?? 'default';
    const netns = podNetns(this.o.prefix, namespace, p.metadata.name);
    const lp: LabPod = {
      key: `${namespace}/${p.metadata.name}`,
      uid: p.metadata.uid ?? '',
      namespace,
      name: p.metadata.name,
      ip: p.status.podIP!,
      node: p.spec.nodeName!,
      netns,
      dev: deviceName(this.o.prefix, netns),
      pod: p,
      ready: false,
      restarts: 0,
      stopping: false,
    };
    this.pods.set(lp.key, lp);
    // Not Ready until the worker listens: endpoints wait for the process, as for a probe.
    this.setReady(lp, false);
    const addr = ipToU32(lp.ip);
    const dev = lp.dev;
    try {
      this.o.own?.(netns, dev, true);
      await addNetns(netns);
      lp.tun = Tun.open(dev);
      await wireNetns(netns, { dev, addresses: [`${lp.ip}/32`] });
      this.resolvConf(netns);
      if (lp.stopping) return;
      this.o.net.attachPod(addr, lp.node, lp.tun);
      lp.tun.onPackets((batch) => {
        for (const pkt of batch) this.safely((q) => this.o.net.fromPod(addr, q), pkt);
      });
      this.startWorker(lp);
    } catch (e) {
      this.o.log(`pod ${lp.key}: ${(e as Error).message}`);
      await this.stopPod(lp);
    }
  }

  private workerSpec(lp: LabPod): WorkerSpec {
    const containers = lp.pod.spec.containers;
    const known = containers.find((c) => workloadFor(c.image) !== 'http-echo');
    const image = known?.image ?? containers[0]?.image ?? '';
    const kind = known === undefined ? 'http-echo' : workloadFor(known.image);
    const ports: number[] = [];
    for (const c of containers)
      for (const port of c.ports ?? [])
        if ((port.protocol ?? 'TCP') === 'TCP' && !ports.includes(port.containerPort))
          ports.push(port.containerPort);
    return {
      kind,
      namespace: lp.namespace,
      pod: lp.name,
      image,
      ip: lp.ip,
      ports,
      startedAtMs: Date.now(),
    };
  }

  private startWorker(lp: LabPod): void {
    const spec = this.workerSpec(lp);
    const child = spawn(
      'ip',
      ['netns', 'exec', lp.netns, ...this.workerCommand.argv, JSON.stringify(spec)],
      {
        stdio: [
          this.workerCommand.code === undefined ? 'ignore' : 'pipe',
          'inherit',
          'inherit',
          'ipc',
        ],
      },
    );
    lp.worker = child;
    if (this.workerCommand.code !== undefined) {
      child.stdin?.on('error', () => undefined); // a worker that dies at once: its exit says so
      child.stdin?.end(this.workerCommand.code);
    }
    child.on('message', (m: WorkerMessage) => {
      if (m.type === 'listening') {
        if (!lp.stopping) this.setReady(lp, true);
        this.o.changed();
      } else if (m.type === 'dns-query') {
        const a = this.o.dns.answer(Buffer.from(m.data, 'base64'), m.transport);
        const reply: DaemonMessage = {
          type: 'dns-answer',
          id: m.id,
          data: a === undefined ? null : Buffer.from(a).toString('base64'),
        };
        if (child.connected) child.send(reply);
      } else if (m.type === 'ingress-route') {
        const reply: DaemonMessage = {
          type: 'ingress-route',
          id: m.id,
          answer: this.o.ingress.route(m.query),
        };
        if (child.connected) child.send(reply);
      } else if (m.type === 'ingress-cert') {
        const pem = this.o.ingress.certificate(m.host);
        const reply: DaemonMessage = {
          type: 'ingress-cert',
          id: m.id,
          cert: pem?.cert ?? null,
          key: pem?.key ?? null,
        };
        if (child.connected) child.send(reply);
      } else if (m.type === 'error') {
        this.o.log(`pod ${lp.key}: worker: ${m.message}`);
      }
    });
    child.on('error', (e) => this.o.log(`pod ${lp.key}: ${e.message}`));
    child.on('exit', (code, signal) => {
      if (lp.worker === child) lp.worker = undefined;
      if (lp.stopping || this.closed) return;
      // The container died: not Ready (endpoints drop it), restarted like a kubelet would.
      lp.restarts++;
      this.o.log(`pod ${lp.key}: worker exited (${signal ?? code}); restarting`);
      this.setReady(lp, false);
      this.o.changed();
      // CrashLoopBackOff, shortened: 1 s, 2 s, 4 s … at most 10 s.
      const backoff = Math.min(10_000, 1000 * 2 ** Math.min(lp.restarts - 1, 4));
      setTimeout(() => {
        if (!lp.stopping && !this.closed) this.startWorker(lp);
      }, backoff).unref();
    });
  }

  private async stopPod(lp: LabPod): Promise<void> {
    lp.stopping = true;
    lp.worker?.kill('SIGTERM');
    this.o.net.detachPod(lp.ip);
    lp.tun?.close();
    await deleteNetns(lp.netns);
    removeResolvConf(lp.netns);
    if (this.pods.get(lp.key) === lp) this.pods.delete(lp.key);
    this.o.own?.(lp.netns, lp.dev, false);
  }

  /** Stop every worker, close every device, delete every namespace made. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
    await Promise.all([...this.pods.values()].map((lp) => this.stopPod(lp)));
    for (const t of this.tuns) t.close();
    await Promise.all(
      this.hosts.map(async (h) => {
        await deleteNetns(h.netns);
        removeResolvConf(h.netns);
      }),
    );
  }
}
