// A real Linux node holding svclab's rules, for the kernel differential tests: one network
// namespace with kube-proxy's rule set (svclab's own `iptables-save` or `nft list ruleset`
// loaded with iptables-restore / nft -f), the sysctls kube-proxy leaves (route_localnet
// per mode), and svclab's node's addresses and routes. Its two interfaces are TUN devices
// this process holds, so a test writes exact packets in and reads exactly what leaves:
//
//   pods ──► pod0 (TUN, the pod gateway /32, a /32 route per local pod) ─┐
//                                                                         node namespace
//   outside, other nodes ──► eth0 (TUN, the node IP /24, routes as svclab's) ─┘
//
// The kernel's verdict is read from conntrack events (`conntrack -E`: an entry is confirmed
// even when the first answer is a RST that deletes it at once) and from the TUN devices.
// The node's own packets come from a helper process inside the namespace (real sockets).
// Names carry a per-process prefix `svk<pid>`; close() deletes everything made.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { IfaceKind } from '../../src/dataplane/routes.ts';
import type { SimNode } from '../../src/control/node-setup.ts';
import { u32ToIp } from '../../src/packet/addr.ts';
import { Tun, tunSupport } from '../../src/lab/tun.ts';

export const PREFIX = `svk${process.pid}`;

/** The system binary, never a node_modules/.bin namesake (@vercel/nft's `nft`). */
export function systemTool(name: string): string | undefined {
  for (const d of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      accessSync(join(d, name), constants.X_OK);
      return join(d, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Why the kernel tests cannot run here, or undefined. */
export function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, TUN, iptables, nft)';
  for (const t of ['ip', 'iptables-restore', 'nft', 'conntrack', 'sysctl']) {
    if (systemTool(t) === undefined) return `${t} not installed`;
  }
  const tun = tunSupport();
  if (!tun.ok) return tun.reason;
  return undefined;
}

function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** One `conntrack -E -e NEW` line: the original and reply tuples. */
export interface CtEvent {
  proto: string;
  orig: { src: string; dst: string; sport: number; dport: number };
  reply: { src: string; dst: string; sport: number; dport: number };
}

export function parseCtEvent(line: string): CtEvent | undefined {
  const m = /^\s*\[NEW\]\s+(\w+)\s/.exec(line);
  if (m === null) return undefined;
  const src = [...line.matchAll(/src=(\S+)/g)].map((x) => x[1]!);
  const dst = [...line.matchAll(/dst=(\S+)/g)].map((x) => x[1]!);
  // TCP/UDP carry ports; ICMP its echo id, used as both "ports" as conntrack does.
  const sport = [...line.matchAll(/(?:sport|id)=(\d+)/g)].map((x) => Number(x[1]));
  const dport = [...line.matchAll(/(?:dport|id)=(\d+)/g)].map((x) => Number(x[1]));
  if (src.length < 2 || dst.length < 2) return undefined;
  return {
    proto: m[1]!,
    orig: { src: src[0]!, dst: dst[0]!, sport: sport[0] ?? 0, dport: dport[0] ?? 0 },
    reply: { src: src[1]!, dst: dst[1]!, sport: sport[1] ?? 0, dport: dport[1] ?? 0 },
  };
}

/** What the helper process reports for one of the node's own connections. */
export interface LocalResult {
  id: number;
  /** connected | refused | timeout | sent | error:CODE */
  result: string;
}

/** A probe the helper sends from the node's own sockets. */
export interface LocalProbe {
  id: number;
  proto: 'tcp' | 'udp';
  src: string;
  sport: number;
  dst: string;
  dport: number;
}

// Runs inside the node namespace: listens on the given TCP and UDP ports (so a connection the
// kernel delivers locally is accepted, and a refusal can only be a REJECT), then for each
// line of probes on stdin makes every connection at once and prints one result per probe.
const HELPER = `import net from 'node:net';
import dgram from 'node:dgram';
import readline from 'node:readline';
const ports = JSON.parse(process.argv[2]);
const servers = [];
let up = 0;
const ready = () => { if (++up === 2 * ports.length) console.log('ready'); };
for (const p of ports) {
  const s = net.createServer((c) => c.on('error', () => {}).destroy());
  s.on('error', ready);
  s.listen({ port: p, host: '0.0.0.0' }, ready);
  servers.push(s);
  const u = dgram.createSocket('udp4');
  u.on('error', ready);
  u.bind({ port: p, address: '0.0.0.0' }, ready);
  servers.push(u);
}
if (ports.length === 0) console.log('ready');
const WAIT = Number(process.argv[3]);
function one(p) {
  return new Promise((done) => {
    if (p.proto === 'udp') {
      const s = dgram.createSocket('udp4');
      let result = 'sent';
      const fin = () => { try { s.close(); } catch {} done({ id: p.id, result }); };
      s.on('error', (e) => { result = e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code; });
      s.bind({ port: p.sport, address: p.src }, () => {
        s.connect(p.dport, p.dst, (err) => {
          if (err) { result = 'error:' + err.code; return fin(); }
          s.send(Buffer.alloc(8), (e) => { if (e) result = 'error:' + e.code; });
          setTimeout(fin, WAIT);
        });
      });
      return;
    }
    const c = net.connect({ host: p.dst, port: p.dport, localAddress: p.src, localPort: p.sport });
    const t = setTimeout(() => { c.destroy(); done({ id: p.id, result: 'timeout' }); }, WAIT);
    c.once('connect', () => { clearTimeout(t); c.resetAndDestroy(); done({ id: p.id, result: 'connected' }); });
    c.once('error', (e) => {
      clearTimeout(t);
      done({ id: p.id, result: e.code === 'ECONNREFUSED' ? 'refused' : 'error:' + e.code });
    });
  });
}
readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const probes = JSON.parse(line);
  const results = await Promise.all(probes.map(one));
  console.log(JSON.stringify(results));
});
process.stdin.on('end', () => { for (const s of servers) s.close(); process.exit(0); });
`;

export interface KernelNodeOptions {
  /** svclab's node: its addresses and routes are copied. */
  sim: SimNode;
  /** 'iptables' loads `rules` with iptables-restore, 'nftables' with nft -f. */
  mode: 'iptables' | 'nftables';
  rules: string;
  routeLocalnet: boolean;
  /** TCP and UDP ports the node listens on (0.0.0.0). */
  listen: readonly number[];
  /** A short tag making the namespace name unique within this process. */
  tag: string;
}

export class KernelNode {
  readonly ns: string;
  readonly eth0: Tun;
  readonly pod0: Tun;
  /** Packets read from each device since the last take(). */
  readonly out: { dev: 'eth0' | 'pod0'; bytes: Uint8Array }[] = [];
  readonly events: CtEvent[] = [];
  private readonly conntrack: ChildProcess;
  private helper: ChildProcess | undefined;
  private helperLines: AsyncIterator<string> | undefined;
  private readonly dir: string;
  private closed = false;

  private constructor(ns: string, eth0: Tun, pod0: Tun, conntrack: ChildProcess, dir: string) {
    this.ns = ns;
    this.eth0 = eth0;
    this.pod0 = pod0;
    this.conntrack = conntrack;
    this.dir = dir;
  }

  static async start(o: KernelNodeOptions): Promise<KernelNode> {
    const ns = `${PREFIX}${o.tag}`;
    const dir = mkdtempSync(join(tmpdir(), 'svclab-kernel-diff-'));
    run('ip', ['netns', 'add', ns]);
    let eth0: Tun | undefined;
    let pod0: Tun | undefined;
    try {
      // eth0 first: a MASQUERADE out of lo takes the first device's address (inet_select_addr),
      // as on a node whose uplink is its first interface; svclab's lo uses the node IP.
      eth0 = Tun.open(`${PREFIX}${o.tag}e`.slice(0, 15));
      pod0 = Tun.open(`${PREFIX}${o.tag}p`.slice(0, 15));
      for (const [t, name] of [
        [eth0, 'eth0'],
        [pod0, 'pod0'],
      ] as const) {
        run('ip', ['link', 'set', 'dev', t.name, 'netns', ns]);
        run('ip', ['-n', ns, 'link', 'set', 'dev', t.name, 'name', name]);
      }
      const sim = o.sim;
      const dp = sim.dataplane;
      const podGw = dp.ifaces.find((i) => i.kind === IfaceKind.Pod)?.addr;
      const lines = [
        'link set lo up',
        `addr add ${u32ToIp(sim.ip)}/24 dev eth0`,
        'link set eth0 up',
      ];
      lines.push('link set pod0 up');
      if (podGw !== undefined) lines.push(`addr add ${u32ToIp(podGw)}/32 dev pod0`);
      for (const r of dp.routes.list()) {
        const cidr = `${u32ToIp(r.cidr.base)}/${r.cidr.prefix}`;
        const kind = dp.ifaces[r.ifIndex]?.kind;
        if (kind === IfaceKind.Pod) lines.push(`route add ${cidr} dev pod0`);
        else if (r.gateway !== 0) {
          lines.push(`route add ${cidr} via ${u32ToIp(r.gateway)} dev eth0 onlink`);
        } else lines.push(`route add ${cidr} dev eth0`);
      }
      run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
      const sysctl = [
        'net.ipv4.ip_forward=1',
        `net.ipv4.conf.all.route_localnet=${o.routeLocalnet ? 1 : 0}`,
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
        'net.ipv4.conf.eth0.rp_filter=0',
        'net.ipv4.conf.pod0.rp_filter=0',
        // icmp_send() limits errors per destination (1/s, burst 6): every probe must get its own.
        'net.ipv4.icmp_ratelimit=0',
        'net.ipv4.icmp_msgs_per_sec=100000',
        'net.ipv4.icmp_msgs_burst=100000',
      ];
      run('ip', ['netns', 'exec', ns, systemTool('sysctl')!, '-qw', ...sysctl]);
      const file = join(dir, 'rules');
      writeFileSync(file, o.rules);
      if (o.mode === 'iptables') {
        // kube-proxy creates its nfacct counters over netlink before it restores rules naming them.
        for (const [, name] of o.rules.matchAll(/--nfacct-name\s+(\S+)/g)) {
          const nfacct = systemTool('nfacct');
          if (nfacct === undefined)
            throw new Error(`the rules name nfacct counter ${name}: install nfacct`);
          spawnSync('ip', ['netns', 'exec', ns, nfacct, 'add', name!]);
        }
        run('ip', ['netns', 'exec', ns, systemTool('iptables-restore')!, file]);
      } else run('ip', ['netns', 'exec', ns, systemTool('nft')!, '-f', file]);
      const tables = run('ip', ['netns', 'exec', ns, systemTool('nft')!, 'list', 'tables']);
      const want = o.mode === 'iptables' ? /table ip nat/ : /table ip kube-proxy/;
      if (!want.test(tables)) throw new Error(`${o.mode} rules did not load: ${tables}`);
    } catch (err) {
      eth0?.close();
      pod0?.close();
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const ct = spawn(
      'ip',
      ['netns', 'exec', ns, 'stdbuf', '-oL', systemTool('conntrack')!, '-E', '-e', 'NEW'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const node = new KernelNode(ns, eth0, pod0, ct, dir);
    createInterface({ input: ct.stdout! }).on('line', (l) => {
      const e = parseCtEvent(l);
      if (e !== undefined) node.events.push(e);
    });
    eth0.onPackets((ps) => {
      for (const p of ps) node.out.push({ dev: 'eth0', bytes: p.slice() });
    });
    pod0.onPackets((ps) => {
      for (const p of ps) node.out.push({ dev: 'pod0', bytes: p.slice() });
    });
    // conntrack -E is listening once it has subscribed; give it a moment, then check it lives.
    await sleep(300);
    if (ct.exitCode !== null) {
      node.close();
      throw new Error('conntrack -E exited at once');
    }
    await node.startHelper(o.listen);
    return node;
  }

  private async startHelper(listen: readonly number[]): Promise<void> {
    const file = join(this.dir, 'helper.mjs');
    writeFileSync(file, HELPER);
    const h = spawn(
      'ip',
      ['netns', 'exec', this.ns, process.execPath, file, JSON.stringify(listen), '500'],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
      },
    );
    this.helper = h;
    this.helperLines = createInterface({ input: h.stdout! })[Symbol.asyncIterator]();
    const first = await this.helperLines.next();
    if (first.done === true || first.value !== 'ready')
      throw new Error('node helper did not start');
  }

  /** Make the node's own connections, all at once; one result per probe. */
  async local(probes: readonly LocalProbe[]): Promise<LocalResult[]> {
    if (probes.length === 0) return [];
    this.helper!.stdin!.write(JSON.stringify(probes) + '\n');
    const r = await this.helperLines!.next();
    if (r.done === true) throw new Error('node helper exited');
    return JSON.parse(r.value) as LocalResult[];
  }

  /** Write packets into the node as if they arrived on a device. */
  inject(dev: 'eth0' | 'pod0', packets: readonly Uint8Array[]): void {
    const t = dev === 'eth0' ? this.eth0 : this.pod0;
    for (const p of packets) if (!t.sendOne(p)) throw new Error(`write to ${dev} failed`);
  }

  /** Everything read so far (and forget it). */
  take(): { dev: 'eth0' | 'pod0'; bytes: Uint8Array }[] {
    return this.out.splice(0);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.helper?.stdin?.end();
    this.helper?.kill('SIGKILL');
    this.conntrack.kill('SIGKILL');
    this.eth0.close();
    this.pod0.close();
    spawnSync('ip', ['netns', 'del', this.ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise<void>((ok) => setTimeout(ok, ms));
