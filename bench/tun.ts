// TUN lab forwarding benchmark (issue #7): packets per second forwarded client → pod →
// client through TUN devices in two network namespaces, by
//   c-forwarder  native/bench/tun-forward.c: read from one TUN, write to the other (the
//                practical ceiling of this machine), the client sending to the pod IP;
//   iptables     one NodeDataplane in this process (iptables mode), the client sending to
//   ipvs         the ClusterIP 10.96.0.100:80 → 10.244.2.2:80 (DNAT, conntrack, reverse NAT);
//   js-forwarder (opt-in) the Tun binding alone, read → write, no dataplane.
// Load: native/bench/udp-pingpong.c, a client keeping WINDOW requests in flight and a server
// echoing them (sendmmsg/recvmmsg), for SECONDS after a warm-up. Figures: forwarded
// packets/s (both directions), the forwarder's CPU ns per packet, and svclab / C per
// repetition (runs interleave, so machine noise hits all modes alike), also as C's CPU
// per packet ÷ svclab's. Target: ≥ 0.6×. Bonus: iperf3 TCP throughput through the C
// forwarder (pod IP) and svclab iptables mode (ClusterIP:5201) when iperf3 is installed.
// Run (root): npx tsx bench/tun.ts [--quick] [--modes=c-forwarder,js-forwarder,iptables,ipvs]
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Verdict } from '../src/dataplane/counters.ts';
import { NodeDataplane } from '../src/dataplane/node.ts';
import { Tun, tunSupport } from '../src/lab/tun.ts';
import { ipToU32 } from '../src/packet/addr.ts';
import type { DataplaneProxier } from '../src/proxy/hooks.ts';
import { IptablesProxier } from '../src/proxy/iptables/proxier.ts';
import { seededRandom } from '../src/proxy/random.ts';
import { IpvsDataplaneProxier } from '../src/proxy/ipvs/dataplane.ts';
import { IpvsProxier } from '../src/proxy/ipvs/proxier.ts';
import { ep, makeService, makeSlice } from '../test/proxy/fixtures.ts';
import { type Figure, type SuiteResult, figure, isQuick, printSuiteResult } from './figures.ts';

/** js-forwarder: the Tun binding alone (read → write, no dataplane), the binding's own cost. */
export type TunBenchMode = 'c-forwarder' | 'js-forwarder' | 'iptables' | 'ipvs';
export const DEFAULT_MODES: readonly TunBenchMode[] = ['c-forwarder', 'iptables', 'ipvs'];

export interface TunBenchOptions {
  /** Short runs: 1 s each, one repetition (default: 3 s, five — more, shorter runs give steadier medians on a busy machine). */
  quick?: boolean;
  seconds?: number;
  reps?: number;
  modes?: readonly TunBenchMode[];
  /** Requests the client keeps in flight (default 128). */
  window?: number;
  /** UDP payload bytes (default 64). */
  size?: number;
  /** Also measure iperf3 TCP throughput through svclab when iperf3 exists (default true). */
  iperf?: boolean;
  log?: (line: string) => void;
}

const CLIENT_IP = '10.244.1.2';
const POD_IP = '10.244.2.2';
const VIP = '10.96.0.100';
const PORT = 80;
const IPERF_PORT = 5201;
const WARMUP_MS = 300;

const nativeBench = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'bench');

/** One run of one forwarder. */
interface Run {
  mode: TunBenchMode;
  rep: number;
  replies: number;
  seconds: number;
  stalls: number;
  /** Packets the forwarder moved in the measured window (both directions). */
  forwarded: number;
  cpuNs: number;
  sysNs: number;
  batches: number;
}

/** The forwarder's packets moved (both directions) and CPU time so far. */
type Sampler = () => Promise<Sample>;
interface Sample {
  forwarded: number;
  cpuNs: number;
  sysNs: number;
  /** Reads that found packets (callbacks for svclab, readable fds for C). */
  batches: number;
}

/** Everything this suite made, so finally / SIGINT can take it all down. */
class Cleanup {
  children = new Set<ChildProcess>();
  tuns = new Set<Tun>();
  namespaces: string[] = [];
  links: string[] = [];
  dirs: string[] = [];

  run(): void {
    for (const c of this.children) if (c.exitCode === null) c.kill('SIGKILL');
    this.children.clear();
    for (const t of this.tuns) t.close();
    this.tuns.clear();
    for (const ns of this.namespaces) spawnSync('ip', ['netns', 'delete', ns]);
    for (const l of this.links) spawnSync('ip', ['link', 'delete', l], { stdio: 'ignore' });
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

/** Lines of a child's stdout, awaited one at a time. */
function lines(child: ChildProcess): (timeoutMs: number) => Promise<string> {
  const queue: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w) w(l);
      else queue.push(l);
    }
  });
  return (timeoutMs) =>
    new Promise((resolve, reject) => {
      const l = queue.shift();
      if (l !== undefined) return resolve(l);
      const timer = setTimeout(() => reject(new Error('timed out waiting for a line')), timeoutMs);
      waiters.push((x) => {
        clearTimeout(timer);
        resolve(x);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${child.spawnfile} exited (${code}) before printing a line`));
      });
    });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

/** The service this bench forwards to: UDP 80 (the load) and TCP 5201 (iperf3). */
function proxier(mode: 'iptables' | 'ipvs', nowMs: () => number): DataplaneProxier {
  const common = {
    nodeName: 'svl-bench',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
  };
  const px: DataplaneProxier =
    mode === 'iptables'
      ? new IptablesProxier({ ...common, random: seededRandom(1), now: () => nowMs() / 1000 })
      : new IpvsDataplaneProxier(new IpvsProxier({ ...common, now: nowMs }), nowMs);
  px.onServiceAdd(
    makeService('default', 'echo', {
      clusterIP: VIP,
      ports: [
        { name: 'echo', port: PORT, targetPort: PORT, protocol: 'UDP' },
        { name: 'iperf', port: IPERF_PORT, targetPort: IPERF_PORT, protocol: 'TCP' },
      ],
    }),
  );
  px.onEndpointSliceAdd(
    makeSlice(
      'default',
      'echo',
      'echo-1',
      [ep(POD_IP, { nodeName: 'svl-bench' })],
      [
        { name: 'echo', port: PORT, protocol: 'UDP' },
        { name: 'iperf', port: IPERF_PORT, protocol: 'TCP' },
      ],
    ),
  );
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

/** A node whose two pods are the TUN devices: one NodeDataplane, reads → process → writes. */
function attachSvclab(mode: 'iptables' | 'ipvs', client: Tun, pod: Tun): NodeDataplane {
  const t0 = performance.now();
  let now = 1000;
  const nowMs = () => now;
  const dp = new NodeDataplane({
    name: 'svl-bench',
    nodeIP: ipToU32('10.0.100.11'),
    podGateway: ipToU32('10.244.1.1'),
    proxier: proxier(mode, nowMs),
    nowMs,
    emit: (p, ifIndex) => void byIf[ifIndex]?.sendOne(p),
    random: seededRandom(2),
  });
  const byIf: Tun[] = [];
  const out: Uint8Array[][] = [];
  for (const [tun, addr] of [
    [client, CLIENT_IP],
    [pod, POD_IP],
  ] as const) {
    byIf[dp.addPod(tun.name, ipToU32(addr))] = tun;
  }
  for (let i = 0; i < byIf.length; i++) out.push([]);
  const V_FORWARD = Verdict.Forward;
  for (let inIf = 0; inIf < byIf.length; inIf++) {
    const tun = byIf[inIf];
    if (tun === undefined) continue;
    tun.onPackets((packets) => {
      now = 1000 + performance.now() - t0; // one clock read per batch
      for (let i = 0; i < packets.length; i++) {
        const p = packets[i]!;
        if (dp.process(p, inIf) === V_FORWARD) out[dp.outIf]?.push(p);
      }
      // The views die when this callback returns: write everything now.
      for (let o = 0; o < out.length; o++) {
        const q = out[o]!;
        if (q.length === 0) continue;
        byIf[o]?.send(q);
        q.length = 0;
      }
    });
  }
  return dp;
}

/** The binding alone: every packet read from one device is written to the other. */
function attachPlain(a: Tun, b: Tun): undefined {
  a.onPackets((packets) => b.send(packets));
  b.onPackets((packets) => a.send(packets));
  return undefined;
}

export async function tunBench(opts: TunBenchOptions = {}): Promise<SuiteResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const support = tunSupport();
  if (!support.ok) return { suite: 'lab', figures: [], skipped: support.reason };
  for (const tool of ['cc', 'ip']) {
    if (spawnSync(tool, ['-V'], { stdio: 'ignore' }).error !== undefined)
      return { suite: 'lab', figures: [], skipped: `${tool} not found` };
  }
  const quick = opts.quick ?? false;
  const seconds = opts.seconds ?? (quick ? 1 : 3);
  const reps = opts.reps ?? (quick ? 1 : 5);
  const modes = opts.modes ?? DEFAULT_MODES;
  const window = opts.window ?? 128;
  const size = opts.size ?? 64;

  const clean = new Cleanup();
  const onSigint = () => {
    clean.run();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);
  try {
    const dir = mkdtempSync(join(tmpdir(), 'svl-tunbench-'));
    clean.dirs.push(dir);
    const bin = (name: string) => join(dir, name);
    for (const name of ['tun-forward', 'udp-pingpong']) {
      execFileSync('cc', ['-O2', '-o', bin(name), join(nativeBench, `${name}.c`)]);
    }

    const tag = `svl-b${process.pid}`;
    const nsClient = `${tag}-client`;
    const nsPod = `${tag}-pod`;
    // TUN names: ≤ 15 characters ("svl-b" + pid + "c"/"p").
    const devClient = `${tag}c`;
    const devPod = `${tag}p`;
    clean.links.push(devClient, devPod);
    for (const ns of [nsClient, nsPod]) {
      clean.namespaces.push(ns);
      ip('netns', 'add', ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      // No IPv6 chatter (router solicitations, MLD) on the devices.
      execFileSync('ip', [
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.disable_ipv6=1',
        'net.ipv6.conf.default.disable_ipv6=1',
      ]);
    }
    const server = spawn('ip', ['netns', 'exec', nsPod, bin('udp-pingpong'), 'server', `${PORT}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    clean.children.add(server);
    await lines(server)(5000); // "listening"

    /** Move the freshly opened devices into the namespaces and give them addresses. */
    const wire = () => {
      for (const [dev, ns, addr] of [
        [devClient, nsClient, CLIENT_IP],
        [devPod, nsPod, POD_IP],
      ] as const) {
        ip('link', 'set', 'dev', dev, 'netns', ns);
        ip('-n', ns, 'addr', 'add', `${addr}/32`, 'dev', dev);
        ip('-n', ns, 'link', 'set', dev, 'up');
        ip('-n', ns, 'route', 'add', 'default', 'dev', dev);
      }
    };

    /** Run the load for one window; `sample` is read at "go" and at the end. */
    const load = async (dst: string, sample: Sampler): Promise<Omit<Run, 'mode' | 'rep'>> => {
      const client = spawn(
        'ip',
        [
          'netns',
          'exec',
          nsClient,
          bin('udp-pingpong'),
          'client',
          dst,
          `${PORT}`,
          `${seconds}`,
          `${WARMUP_MS}`,
          `${window}`,
          `${size}`,
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      clean.children.add(client);
      const next = lines(client);
      const guard = seconds * 1000 + WARMUP_MS + 10_000;
      if ((await next(guard)) !== 'go') throw new Error('udp-pingpong client: expected "go"');
      const s0 = await sample();
      const result = JSON.parse(await next(guard)) as {
        replies: number;
        seconds: number;
        stalls: number;
      };
      const s1 = await sample();
      await exited(client);
      clean.children.delete(client);
      return {
        replies: result.replies,
        seconds: result.seconds,
        stalls: result.stalls,
        forwarded: s1.forwarded - s0.forwarded,
        cpuNs: s1.cpuNs - s0.cpuNs,
        sysNs: s1.sysNs - s0.sysNs,
        batches: s1.batches - s0.batches,
      };
    };

    /**
     * Open the pair of devices with `mode`'s forwarder, wire them into the namespaces, run
     * `body` with the address the client should use and a sampler of the forwarder's
     * counters, and take the devices down again.
     */
    const withForwarder = async <T>(
      mode: TunBenchMode,
      body: (dst: string, sample: Sampler) => Promise<T>,
    ): Promise<T> => {
      if (mode === 'c-forwarder') {
        const fwd = spawn(bin('tun-forward'), [devClient, devPod], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        clean.children.add(fwd);
        const next = lines(fwd);
        try {
          if ((await next(5000)) !== 'ready') throw new Error('tun-forward: expected "ready"');
          wire();
          return await body(POD_IP, async () => {
            fwd.kill('SIGUSR1');
            const c = JSON.parse(await next(5000)) as {
              fwd: number[];
              userNs: number;
              sysNs: number;
              wakeups: number;
            };
            return {
              forwarded: c.fwd[0]! + c.fwd[1]!,
              cpuNs: c.userNs + c.sysNs,
              sysNs: c.sysNs,
              batches: c.wakeups,
            };
          });
        } finally {
          fwd.kill('SIGTERM');
          await exited(fwd);
          clean.children.delete(fwd);
        }
      }
      const client = Tun.open(devClient);
      clean.tuns.add(client);
      const pod = Tun.open(devPod);
      clean.tuns.add(pod);
      try {
        const dp =
          mode === 'js-forwarder' ? attachPlain(client, pod) : attachSvclab(mode, client, pod);
        wire();
        const r = await body(dp === undefined ? POD_IP : VIP, () => {
          const cu = process.cpuUsage();
          return Promise.resolve({
            forwarded: client.stats.txPackets + pod.stats.txPackets,
            cpuNs: (cu.user + cu.system) * 1000,
            sysNs: cu.system * 1000,
            batches: client.rxBatches + pod.rxBatches,
          });
        });
        if (dp !== undefined && dp.counters.newFlows === 0)
          throw new Error(`${mode}: no flow went through svclab`);
        return r;
      } finally {
        client.close();
        pod.close();
        clean.tuns.delete(client);
        clean.tuns.delete(pod);
      }
    };

    const runs: Run[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const mode of modes) {
        const r = await withForwarder(mode, load);
        const run = { mode, rep, ...r };
        runs.push(run);
        const per = Math.max(1, run.forwarded);
        log(
          `${mode.padEnd(11)} rep ${rep + 1}/${reps}: ${fmt(pps(run))} packets/s forwarded, ` +
            `${fmt(run.replies / run.seconds)} replies/s; CPU ${fmt(run.cpuNs / per)} ns/packet ` +
            `(${fmt(run.sysNs / per)} system), ${(run.forwarded / Math.max(1, run.batches)).toFixed(1)} packets/batch` +
            (run.stalls > 0 ? `; ${run.stalls} stalls (20 ms without a reply)` : ''),
        );
      }
    }

    const figures: Figure[] = [];
    for (const mode of modes) {
      const mine = runs.filter((r) => r.mode === mode);
      figures.push(figure('tun-forward', 'packets/s', mine.map(pps), { mode }));
      figures.push(
        figure(
          'tun-round-trips',
          'replies/s',
          mine.map((r) => r.replies / r.seconds),
          { mode },
        ),
      );
      figures.push(
        figure(
          'cpu-per-packet',
          'ns/packet',
          mine.map((r) => r.cpuNs / Math.max(1, r.forwarded)),
          { mode },
        ),
      );
    }
    if (modes.includes('c-forwarder')) {
      for (const mode of modes.filter((m) => m !== 'c-forwarder')) {
        // Per repetition (neighbouring runs): packets/s svclab ÷ C, and the CPU-time view of
        // the same, C's ns/packet ÷ svclab's, which a busy machine disturbs less.
        const ratios: number[] = [];
        const cpuRatios: number[] = [];
        for (let rep = 0; rep < reps; rep++) {
          const c = runs.find((r) => r.mode === 'c-forwarder' && r.rep === rep);
          const s = runs.find((r) => r.mode === mode && r.rep === rep);
          if (c === undefined || s === undefined) continue;
          if (pps(c) > 0) ratios.push(pps(s) / pps(c));
          if (c.forwarded > 0 && s.forwarded > 0 && s.cpuNs > 0)
            cpuRatios.push(c.cpuNs / c.forwarded / (s.cpuNs / s.forwarded));
        }
        if (ratios.length > 0) figures.push(figure('ratio', 'svclab/c', ratios, { mode }));
        if (cpuRatios.length > 0)
          figures.push(figure('cpu-ratio', 'c/svclab', cpuRatios, { mode }));
      }
    }
    if (opts.iperf !== false) {
      if (spawnSync('iperf3', ['--version'], { stdio: 'ignore' }).error !== undefined) {
        log('iperf3: not installed, no TCP throughput figure');
      } else {
        const iperfModes = modes.filter((m) => m === 'c-forwarder' || m === 'iptables');
        for (const mode of iperfModes) {
          const mbps = await withForwarder(mode, (dst) =>
            iperf(dst, quick ? 1 : 3, nsClient, nsPod, clean),
          );
          figures.push(figure('tcp-throughput', 'Mbit/s', [mbps], { mode }));
          log(
            `iperf3 TCP client → ${mode === 'iptables' ? 'ClusterIP' : 'pod IP'} through ${mode}: ${mbps.toFixed(0)} Mbit/s`,
          );
        }
      }
    }
    return { suite: 'lab', figures };
  } finally {
    process.removeListener('SIGINT', onSigint);
    process.removeListener('SIGTERM', onSigint);
    clean.run();
  }
}

/** iperf3 TCP client → dst:5201 in the pod namespace for `seconds`; Mbit/s received. */
async function iperf(
  dst: string,
  seconds: number,
  nsClient: string,
  nsPod: string,
  clean: Cleanup,
): Promise<number> {
  const server = spawn(
    'ip',
    ['netns', 'exec', nsPod, 'iperf3', '-s', '-1', '-p', `${IPERF_PORT}`],
    { stdio: 'ignore' },
  );
  clean.children.add(server);
  try {
    await new Promise((r) => setTimeout(r, 300)); // the server's listen()
    const c = spawn(
      'ip',
      [
        'netns',
        'exec',
        nsClient,
        'iperf3',
        '-J',
        '-c',
        dst,
        '-p',
        `${IPERF_PORT}`,
        '-t',
        `${seconds}`,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    clean.children.add(c);
    let out = '';
    c.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await exited(c);
    clean.children.delete(c);
    const j = JSON.parse(out || '{}') as {
      error?: string;
      end?: { sum_received?: { bits_per_second?: number } };
    };
    const bps = j.end?.sum_received?.bits_per_second;
    if (code !== 0 || bps === undefined)
      throw new Error(`iperf3 to ${dst} failed (${code}): ${j.error ?? 'no result'}`);
    return bps / 1e6;
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL');
    await exited(server);
    clean.children.delete(server);
  }
}

const pps = (r: Run): number => r.forwarded / r.seconds;
const fmt = (x: number): string => Math.round(x).toLocaleString('en-US');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const m = process.argv.find((a) => a.startsWith('--modes='));
  const modes = m?.slice('--modes='.length).split(',') as TunBenchMode[] | undefined;
  const result = await tunBench({ quick: isQuick(), ...(modes ? { modes } : {}) });
  if (result.skipped !== undefined) console.log(`tun bench skipped: ${result.skipped}`);
  printSuiteResult(result);
}
