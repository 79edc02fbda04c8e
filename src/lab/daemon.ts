// The lab daemon: one process holding the cluster (control plane on a clock that follows
// the wall clock), every node's dataplane, every TUN device and every worker process.
// It answers on a unix socket in the state directory (one JSON request per line, one
// JSON reply): status, show, apply, delete, down. SIGINT/SIGTERM take the lab down.
import { chmodSync, rmSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { loadManifests } from '../api/load.ts';
import type { KubeObject } from '../api/types.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import { Cluster, KIND_REF, formatApplyResult } from '../control/cluster.ts';
import type { ProxyMode } from '../control/node-setup.ts';
import type { KubeProxySettings } from '../control/kube-proxy-config.ts';
import { ipToU32, parseCidr, u32ToIp } from '../packet/addr.ts';
import { IpvsDataplaneProxier } from '../proxy/ipvs/dataplane.ts';
import { cleanupLab } from './cleanup.ts';
import { LabDns } from './dns.ts';
import { LabIngress } from './ingress.ts';
import { clientNetns, externalNetns, nodeNetns } from './names.ts';
import { ManifestLoader } from './manifest-loader.ts';
import { LabNetwork } from './network.ts';
import { ip } from './netns.ts';
import { LabRuntime } from './runtime.ts';
import { workerCommand } from './worker-command.ts';
import {
  type LabPaths,
  type Owned,
  ensureStateDir,
  labPaths,
  readOwned,
  writeOwned,
  writePid,
  writePrivate,
} from './state.ts';
import {
  CONTROL_IDLE_MS,
  CONTROL_MAX_BYTES,
  CONTROL_MAX_CONNECTIONS,
  type LabRequest,
  parseRequest,
} from './control-protocol.ts';
import { renderShow } from './views.ts';

/** The outside host, as in the simulation's sessions (a browser on the office LAN). */
export const EXTERNAL_IP = '192.168.1.100';
/** How often the cluster's clock catches up with the wall clock. */
const TICK_MS = 10;

export interface DaemonOptions {
  prefix: string;
  mode: ProxyMode;
  /** kube-proxy's other flags (--ipvs-scheduler, --masquerade-all, ...). */
  kubeProxy?: KubeProxySettings;
  files: string[];
  recursive?: boolean;
  seed?: number;
  /** The cluster's release (--kubernetes-version). */
  kubernetesVersion?: string;
  /** Write progress here (the log file in the background, the terminal in the foreground). */
  log?: (line: string) => void;
  /**
   * Called once the lab is up, with the daemon (the CLI starts the Kubernetes API here);
   * the function it returns runs when the lab goes down.
   */
  onStarted?: (d: LabDaemon) => Promise<() => Promise<void>>;
}

export type { LabRequest } from './control-protocol.ts';

export interface LabStatus {
  prefix: string;
  mode: ProxyMode;
  pid: number;
  ready: boolean;
  stateDir: string;
  log: string;
  socket: string;
  clientNode: string;
  /** The Kubernetes API's URL (svclab kubeconfig --lab points kubectl at it). */
  apiServer?: string;
  hosts: ReturnType<LabRuntime['list']>;
  counters: Record<string, number>;
  /** Dataplane drops by reason. */
  drops: Record<string, number>;
}

export type LabReply =
  | { ok: true; status?: LabStatus; stdout?: string; stderr?: string; exitCode?: number }
  | { ok: false; error: string };

/** The client's address: the last host address of the first worker node's pod CIDR. */
export function clientAddress(podCIDR: string): string {
  const c = parseCidr(podCIDR);
  const size = 2 ** (32 - c.prefix);
  return u32ToIp((c.base + size - 2) >>> 0);
}

export class LabDaemon {
  readonly cluster: Cluster;
  readonly net: LabNetwork;
  readonly runtime: LabRuntime;
  readonly dns: LabDns;
  readonly paths: LabPaths;
  readonly clientNode: string;
  private server: Server | undefined;
  private clock: NodeJS.Timeout | undefined;
  private ipvsSync: NodeJS.Timeout | undefined;
  private readySinceMs: number | undefined;
  private stopping: Promise<void> | undefined;
  private readonly log: (line: string) => void;
  /** Addresses put on each node namespace's kube-ipvs0. */
  private readonly ipvsBound = new Map<string, Set<string>>();
  /** Per node: where its ipvs VIPs are bound (kube-ipvs0, or lo without the dummy module). */
  private readonly vipDevices = new Map<string, string>();
  onStopped: (() => void) | undefined;
  /** Set by whoever serves the Kubernetes API for this lab. */
  apiServer: string | undefined;
  private stopHook: (() => Promise<void>) | undefined;
  private owned: Owned = { namespaces: [], devices: [] };
  private readonly connections = new Set<Socket>();
  /** Parses and validates `apply`/`delete` files off this thread. */
  private readonly loader: ManifestLoader;

  constructor(readonly o: DaemonOptions) {
    this.log = o.log ?? ((l) => process.stdout.write(`${new Date().toISOString()} ${l}\n`));
    this.paths = labPaths(o.prefix);
    this.cluster = new Cluster({
      seed: o.seed ?? 1,
      ...(o.kubernetesVersion !== undefined ? { kubernetesVersion: o.kubernetesVersion } : {}),
    });
    this.net = new LabNetwork(this.cluster, {
      mode: o.mode,
      ...(o.kubeProxy !== undefined ? { kubeProxy: o.kubeProxy } : {}),
    });
    this.dns = new LabDns(this.cluster);
    this.loader = new ManifestLoader(this.log);
    this.runtime = new LabRuntime({
      prefix: o.prefix,
      cluster: this.cluster,
      net: this.net,
      dns: this.dns,
      ingress: new LabIngress(this.cluster, this.paths.dir, this.log),
      workerCommand: { argv: [] },
      log: this.log,
      changed: () => this.writeState(),
      own: (netns, dev, owned) => this.own(netns, dev, owned),
    });
    const nodes = resolveNodes(this.cluster.config);
    this.clientNode = (nodes.find((n) => !n.controlPlane) ?? nodes[0]!).name;
  }

  /** Build the lab: leftovers gone, hosts wired, manifests applied, clock running. */
  async start(): Promise<void> {
    const o = this.o;
    const leftovers = await cleanupLab(o.prefix);
    if (leftovers.namespaces.length + leftovers.devices.length > 0)
      this.log(`removed leftovers: ${[...leftovers.namespaces, ...leftovers.devices].join(' ')}`);
    ensureStateDir(this.paths);
    this.owned = readOwned(this.paths);
    this.runtime.workerCommand = workerCommand();
    writePid(this.paths, process.pid, o.prefix);
    await this.listen();
    const nodes = resolveNodes(this.cluster.config);
    await Promise.all(
      nodes.map(async (n) => {
        const netns = nodeNetns(o.prefix, n.name);
        const tun = await this.runtime.openHost(
          { kind: 'node', name: n.name, netns, ip: n.ip, node: n.name },
          [`${n.ip}/32`],
          (p) => this.net.fromNode(n.name, p),
        );
        this.net.attachNode(n.name, tun);
      }),
    );
    this.log(`${nodes.length} node namespaces wired`);
    const client = nodes.find((n) => n.name === this.clientNode)!;
    const clientIP = clientAddress(client.podCIDR);
    const cNetns = clientNetns(o.prefix);
    const cTun = await this.runtime.openHost(
      { kind: 'client', name: 'client', netns: cNetns, ip: clientIP, node: client.name },
      [`${clientIP}/32`],
      (p) => this.net.fromPod(ipToU32(clientIP), p),
    );
    this.net.attachPodLike('client', clientIP, client.name, cTun);
    this.runtime.resolvConf(cNetns);
    const eTun = await this.runtime.openHost(
      { kind: 'external', name: 'external', netns: externalNetns(o.prefix), ip: EXTERNAL_IP },
      [`${EXTERNAL_IP}/32`],
      (p) => this.net.fromExternal(p),
    );
    this.net.attachExternal(EXTERNAL_IP, eTun);
    if (o.files.length > 0) {
      const err = this.applyFiles(o.files, o.recursive === true);
      if (err !== undefined) throw new Error(err);
    }
    this.startClock();
    this.runtime.enable();
    if (o.onStarted !== undefined) this.stopHook = await o.onStarted(this);
    this.writeState();
    this.log(`lab ${o.prefix} up in ${o.mode} mode (pid ${process.pid})`);
  }

  /** Record a namespace and device as this lab's (before making them) or as gone. */
  private own(netns: string, dev: string, owned: boolean): void {
    const ns = new Set(this.owned.namespaces);
    const devs = new Set(this.owned.devices);
    if (owned) {
      ns.add(netns);
      devs.add(dev);
    } else {
      ns.delete(netns);
      devs.delete(dev);
    }
    this.owned = { namespaces: [...ns], devices: [...devs] };
    try {
      writeOwned(this.paths, this.owned);
    } catch (e) {
      this.log(`owned.json: ${(e as Error).message}`);
    }
  }

  /** After a write from outside (the API): pods may need workers, readiness is re-earned. */
  changed(): void {
    this.readySinceMs = undefined;
    this.runtime.kick();
  }

  private startClock(): void {
    let last = process.hrtime.bigint();
    this.clock = setInterval(() => {
      const now = process.hrtime.bigint();
      const ns = Number(now - last);
      last = now;
      try {
        this.cluster.advance(ns);
      } catch (e) {
        this.log(`clock: ${(e as Error).message}`);
      }
      const ready = this.runtime.allPodsServing();
      if (!ready) this.readySinceMs = undefined;
      else if (this.readySinceMs === undefined) {
        this.readySinceMs = Date.now();
        const pods = this.runtime.list().filter((h) => h.kind === 'pod').length;
        this.log(`all ${pods} pods serving`);
      }
    }, TICK_MS);
    // Any node's kube-proxy may be restarted in ipvs mode (the kube-proxy ConfigMap).
    this.ipvsSync = setInterval(() => void this.syncKubeIpvs0(), 500);
  }

  /**
   * ipvs mode binds every service address to the dummy kube-ipvs0 in the node's
   * namespace, as kube-proxy does: the node's own stack then answers for the VIPs
   * (ping, RST on a port no virtual service has).
   */
  private async syncKubeIpvs0(): Promise<void> {
    for (const [name, node] of this.net.nodes) {
      // A node whose kube-proxy left ipvs mode unbinds its VIPs (kube-proxy's cleanup).
      const px = node.proxier;
      const want = new Set(px instanceof IpvsDataplaneProxier ? px.ipvs.kubeIpvs0Addresses() : []);
      const have = this.ipvsBound.get(name) ?? new Set<string>();
      if (want.size > 0 && !this.vipDevices.has(name)) {
        // kube-proxy's dummy device; without the dummy module the VIPs go on lo instead.
        const netns = nodeNetns(this.o.prefix, name);
        const dev = await ip(['-n', netns, 'link', 'add', 'kube-ipvs0', 'type', 'dummy'])
          .then(() => 'kube-ipvs0')
          .catch(() => 'lo');
        this.vipDevices.set(name, dev);
      }
      const device = this.vipDevices.get(name) ?? 'lo';
      const lines: string[] = [];
      for (const a of want) if (!have.has(a)) lines.push(`addr add ${a}/32 dev ${device}`);
      for (const a of have) if (!want.has(a)) lines.push(`addr del ${a}/32 dev ${device}`);
      if (lines.length === 0) continue;
      this.ipvsBound.set(name, want);
      await ip(
        ['-force', '-n', nodeNetns(this.o.prefix, name), '-batch', '-'],
        `${lines.join('\n')}\n`,
      ).catch((e: unknown) => this.log(`kube-ipvs0: ${(e as Error).message}`));
    }
  }

  /** Ready: every pod serving, and long enough for kube-proxy's syncs to catch up. */
  get ready(): boolean {
    return this.readySinceMs !== undefined && Date.now() - this.readySinceMs >= 1200;
  }

  private applyFiles(files: string[], recursive: boolean): string | undefined {
    const loaded = loadManifests(files, {
      recursive,
      serviceCidr: this.cluster.config.serviceCIDR,
      kubernetesVersion: this.cluster.config.kubernetesVersion,
      nodePortRange: this.cluster.config.nodePortRange,
    });
    if (!loaded.ok) return loaded.errors.map((e) => `error: ${e.format()}`).join('\n');
    const results = this.cluster.apply(loaded.objects);
    const out = results.map(formatApplyResult).join('\n');
    this.readySinceMs = undefined;
    this.runtime.kick();
    return results.some((r) => r.error !== undefined) ? out : undefined;
  }

  private loadOptions() {
    return {
      recursive: false,
      serviceCidr: this.cluster.config.serviceCIDR,
      kubernetesVersion: this.cluster.config.kubernetesVersion,
      nodePortRange: this.cluster.config.nodePortRange,
    };
  }

  private async applyReport(files: string[]): Promise<LabReply> {
    const loaded = await this.loader.load(files, this.loadOptions());
    if (!loaded.ok) return { ok: false, error: loaded.errors.join('\n') };
    const results = this.cluster.apply(loaded.objects);
    this.readySinceMs = undefined;
    this.runtime.kick();
    return {
      ok: true,
      stdout: `${results.map(formatApplyResult).join('\n')}\n`,
      exitCode: results.some((r) => r.error !== undefined) ? 1 : 0,
    };
  }

  private deleteReport(objects: KubeObject[]): LabReply {
    let stdout = '';
    let stderr = '';
    for (const obj of objects) {
      const ns = obj.metadata.namespace || 'default';
      const kind = obj.kind;
      try {
        if (this.cluster.get(kind, ns, obj.metadata.name) === undefined) {
          stderr += `Error from server (NotFound): ${kind.toLowerCase()}s "${obj.metadata.name}" not found\n`;
          continue;
        }
        this.cluster.delete(kind, ns, obj.metadata.name);
        stdout += `${KIND_REF[kind]} "${obj.metadata.name}" deleted\n`;
      } catch (e) {
        stderr += `${(e as Error).message}\n`;
      }
    }
    this.readySinceMs = undefined;
    this.runtime.kick();
    return { ok: true, stdout, stderr, exitCode: stderr === '' ? 0 : 1 };
  }

  status(): LabStatus {
    const t = this.net.dataplaneTotals();
    return {
      prefix: this.o.prefix,
      mode: this.o.mode,
      pid: process.pid,
      ready: this.ready,
      stateDir: this.paths.dir,
      log: this.paths.logFile,
      socket: this.paths.socket,
      clientNode: this.clientNode,
      ...(this.apiServer === undefined ? {} : { apiServer: this.apiServer }),
      hosts: this.runtime.list(),
      counters: {
        ...this.net.counters,
        forwarded: t.forwarded,
        localDelivered: t.local,
        dropped: t.dropped,
        dnsQueries: this.dns.stats.queries,
      },
      drops: this.net.dropReasons(),
    };
  }

  handle(req: LabRequest): LabReply | Promise<LabReply> {
    switch (req.cmd) {
      case 'status':
        return { ok: true, status: this.status() };
      case 'show': {
        const node = this.net.nodes.get(req.node ?? this.clientNode);
        if (node === undefined) return { ok: false, error: `no node named ${req.node}` };
        return { ok: true, ...renderShow(this.cluster, node, req) };
      }
      case 'apply':
        return this.applyReport(req.files);
      case 'delete':
        return this.loader
          .load(req.files, this.loadOptions())
          .then((loaded) =>
            loaded.ok
              ? this.deleteReport(loaded.objects)
              : { ok: false as const, error: loaded.errors.join('\n') },
          );
      case 'delete-object': {
        if (this.cluster.get(req.kind, req.namespace, req.name) === undefined)
          return {
            ok: true,
            stderr: `Error from server (NotFound): ${req.kind.toLowerCase()}s "${req.name}" not found\n`,
            exitCode: 1,
          };
        this.cluster.delete(req.kind, req.namespace, req.name, {
          ...(req.gracePeriodSeconds !== undefined
            ? { gracePeriodSeconds: req.gracePeriodSeconds }
            : {}),
        });
        this.readySinceMs = undefined;
        this.runtime.kick();
        return { ok: true, stdout: `${KIND_REF[req.kind]} "${req.name}" deleted\n` };
      }
      case 'down':
        setImmediate(() => void this.stop());
        return { ok: true, stdout: '' };
      default:
        return { ok: false, error: `unknown request ${(req as { cmd: string }).cmd}` };
    }
  }

  /** One request line: checked (parseRequest), then handled; never throws. */
  async reply(line: string): Promise<LabReply> {
    const req = parseRequest(line);
    if (typeof req === 'string') return { ok: false, error: req };
    try {
      return await this.handle(req);
    } catch (e) {
      return { ok: false, error: `${req.cmd}: ${(e as Error).message.split('\n')[0]}` };
    }
  }

  private listen(): Promise<void> {
    rmSync(this.paths.socket, { force: true });
    // Half-open: a client may send its requests and close its side at once; the replies
    // (some wait for a manifest load) still go out, and then the daemon closes.
    this.server = createServer({ allowHalfOpen: true }, (sock: Socket) => {
      if (this.connections.size >= CONTROL_MAX_CONNECTIONS) {
        sock.end(`${JSON.stringify({ ok: false, error: 'too many connections' })}\n`);
        return;
      }
      this.connections.add(sock);
      sock.on('close', () => this.connections.delete(sock));
      sock.setTimeout(CONTROL_IDLE_MS, () => sock.destroy());
      let buf = '';
      // Replies go out in request order: each line's answer waits for the one before.
      let queue: Promise<void> = Promise.resolve();
      const answer = (line: string, last = false) => {
        queue = queue.then(async () => {
          const r = await this.reply(line);
          if (sock.destroyed || sock.writableEnded) return;
          if (last) sock.end(`${JSON.stringify(r)}\n`);
          else sock.write(`${JSON.stringify(r)}\n`);
        });
      };
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          answer(line);
        }
        if (buf.length > CONTROL_MAX_BYTES) {
          // No newline within the limit: answer once and hang up, reading no more.
          buf = '';
          sock.pause();
          sock.removeAllListeners('data');
          answer('x'.repeat(CONTROL_MAX_BYTES + 1), true);
        }
      });
      sock.on('end', () => {
        queue = queue.then(() => {
          if (!sock.destroyed && !sock.writableEnded) sock.end();
        });
      });
      sock.on('error', () => undefined);
    });
    this.server.maxConnections = CONTROL_MAX_CONNECTIONS * 2;
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.paths.socket, () => {
        // The directory is 0700 already; the socket is 0600 whatever the umask.
        chmodSync(this.paths.socket, 0o600);
        resolve();
      });
    });
  }

  private writeState(): void {
    try {
      writePrivate(this.paths.stateFile, `${JSON.stringify(this.status(), null, 2)}\n`);
    } catch {
      // state dir gone (lab down racing): nothing to record
    }
  }

  /** Take everything down (idempotent): workers, devices, namespaces, state files. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log(`lab ${this.o.prefix} going down`);
      if (this.clock) clearInterval(this.clock);
      if (this.ipvsSync) clearInterval(this.ipvsSync);
      this.server?.close();
      for (const c of this.connections) c.destroy();
      await this.loader.close().catch(() => undefined);
      await this.stopHook?.().catch((e: unknown) => this.log(String(e)));
      await this.runtime.close().catch((e: unknown) => this.log(String(e)));
      await cleanupLab(this.o.prefix).catch((e: unknown) => this.log(String(e)));
      this.log(`lab ${this.o.prefix} down`);
      this.onStopped?.();
    })();
    return this.stopping;
  }
}

/** How long a stop may take after SIGTERM before the daemon exits anyway. */
export const STOP_GRACE_MS = 15_000;

/**
 * Run a lab in this process until it is taken down (SIGINT, SIGTERM or `lab down`).
 * SIGTERM always ends it: the first starts the orderly stop, and if that has not finished
 * within STOP_GRACE_MS (or a second signal comes) the process exits; `lab down` removes
 * what is left.
 */
export async function runDaemon(o: DaemonOptions): Promise<void> {
  // Whatever the caller's umask, nothing the daemon writes is for anyone else.
  process.umask(0o077);
  const d = new LabDaemon(o);
  const stopped = new Promise<void>((resolve) => {
    d.onStopped = resolve;
  });
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`svclab lab: ${sig} again: exiting now\n`);
      process.exit(1);
    }
    setTimeout(() => {
      process.stderr.write(`svclab lab: not down ${STOP_GRACE_MS} ms after ${sig}: exiting\n`);
      process.exit(1);
    }, STOP_GRACE_MS);
    void d.stop(); // stop() logs its own failures and never rejects
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await d.start();
  } catch (e) {
    await d.stop();
    throw e;
  }
  await stopped;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
