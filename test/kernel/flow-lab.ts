// Whole flows through a real Linux node holding svclab's rules (the flow half of the
// kernel differential test). Unlike kernel-node.ts (TUN devices, single packets), every
// end is a real TCP/UDP/ICMP stack in its own namespace, joined to the node by veth pairs:
//
//   pod namespaces (the node's local pods) ──veth── node (svclab's rules) ──veth── outside
//                                                                 (router, other nodes,
//                                                                  the external client)
//
// The node captures what enters it (`tcpdump -i any -Q in`) and what leaves it (`-Q out`).
// Namespaces are `svf<pid><tag>…`; close() kills every process and deletes every namespace.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SimNode } from '../../src/control/node-setup.ts';
import { IfaceKind } from '../../src/dataplane/routes.ts';
import { u32ToIp } from '../../src/packet/addr.ts';
import { systemTool } from './kernel-node.ts';

const PREFIX = `svf${process.pid}`;

// Echo servers a pod runs: TCP :80 (echoes, then ends when the client ends), UDP :53.
const SERVER = `import net from 'node:net';
import dgram from 'node:dgram';
let up = 0;
const ready = () => { if (++up === 2) console.log('ready'); };
net.createServer((c) => { c.on('error', () => {}); c.on('data', (d) => c.write(d)); c.on('end', () => c.end()); }).listen(80, '0.0.0.0', ready);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(m, r.port, r.address));
u.bind(53, '0.0.0.0', ready);
`;

// One client flow: tcp HOST PORT SRC | udp HOST PORT SRC TTL (+TTL: from the second
// datagram on). Prints how it ended.
const CLIENT = `import net from 'node:net';
import dgram from 'node:dgram';
const [kind, host, port, src, ttl] = process.argv.slice(2);
const done = (r) => { console.log(r); process.exit(0); };
setTimeout(() => done('timeout'), 2000);
if (kind === 'tcp') {
  const c = net.connect({ host, port: Number(port), ...(src !== '-' ? { localAddress: src } : {}) });
  let got = '';
  c.on('connect', () => c.write('hello\\n'));
  c.on('data', (d) => { got += d; if (got.endsWith('\\n')) c.end(); });
  c.on('close', () => done(got === 'hello\\n' ? 'echoed' : 'closed'));
  c.on('error', (e) => done('error:' + e.code));
} else {
  const s = dgram.createSocket('udp4');
  const msgs = ['one', 'two'];
  let got = 0;
  s.on('error', (e) => done('error:' + e.code));
  s.on('message', () => {
    if (++got === msgs.length) return done('echoed');
    // TTL +N: the flow's second datagram only, once conntrack holds the flow.
    if (ttl.startsWith('+')) { s.setTTL(Number(ttl.slice(1))); setTimeout(() => done('sent'), 300); }
    setTimeout(next, 50);
  });
  const next = () => s.send(msgs[got], (e) => { if (e) done('error:' + e.code); });
  s.bind({ port: 0, ...(src !== '-' ? { address: src } : {}) }, () => {
    s.connect(Number(port), host, () => {
      if (ttl !== '-' && !ttl.startsWith('+')) {
        s.setTTL(Number(ttl));
        setTimeout(() => done('sent'), 300);
      }
      next();
    });
  });
}
`;

function run(cmd: string, args: readonly string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

export interface FlowLabOptions {
  sim: SimNode;
  mode: 'iptables' | 'nftables';
  rules: string;
  routeLocalnet: boolean;
  /** Addresses the outside namespace routes to the node (service CIDR, LB and external IPs). */
  toNode: readonly string[];
  /** The external client's address (on the outside namespace's lo). */
  external: string;
  tag: string;
}

export class FlowLab {
  readonly node: string;
  readonly outside: string;
  /** Pod IP → its namespace. */
  readonly pods = new Map<string, string>();
  private readonly namespaces: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly dir: string;
  private captures: { proc: ChildProcess; file: string; stats: () => string }[] = [];

  private constructor(tag: string) {
    this.node = `${PREFIX}${tag}n`;
    this.outside = `${PREFIX}${tag}o`;
    this.dir = mkdtempSync(join(tmpdir(), 'svclab-kernel-flows-'));
  }

  static async start(o: FlowLabOptions): Promise<FlowLab> {
    const lab = new FlowLab(o.tag);
    try {
      await lab.build(o);
    } catch (err) {
      lab.close();
      throw err;
    }
    return lab;
  }

  private addNs(name: string): void {
    run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    const noV6 = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
    spawnSync('ip', ['netns', 'exec', name, systemTool('sysctl')!, '-qw', ...noV6]);
    run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  private async build(o: FlowLabOptions): Promise<void> {
    const { node, outside } = this;
    const dp = o.sim.dataplane;
    const nodeIp = u32ToIp(o.sim.ip);
    this.addNs(node);
    this.addNs(outside);
    const batch = (ns: string, lines: string[]) =>
      run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
    // The uplink first, so it is the node's first device, as on a real node.
    run('ip', [
      '-n',
      node,
      'link',
      'add',
      'eth0',
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      outside,
    ]);
    const nodeLines = [`addr add ${nodeIp}/24 dev eth0`, 'link set eth0 up'];
    const podGw = dp.ifaces.find((i) => i.kind === IfaceKind.Pod)?.addr;
    let n = 0;
    for (const [podIp] of o.sim.podIfaces) {
      const ip = u32ToIp(podIp);
      const ns = `${PREFIX}${o.tag}p${n}`;
      this.addNs(ns);
      this.pods.set(ip, ns);
      const dev = `vpod${n++}`;
      run('ip', [
        '-n',
        node,
        'link',
        'add',
        dev,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        ns,
      ]);
      nodeLines.push(
        `addr add ${u32ToIp(podGw!)}/32 dev ${dev}`,
        `link set ${dev} up`,
        `route add ${ip}/32 dev ${dev}`,
      );
      batch(ns, [
        `addr add ${ip}/32 dev eth0`,
        'link set eth0 up',
        `route add default via ${u32ToIp(podGw!)} dev eth0 onlink`,
      ]);
    }
    for (const r of dp.routes.list()) {
      if (dp.ifaces[r.ifIndex]?.kind !== IfaceKind.Uplink) continue;
      const cidr = `${u32ToIp(r.cidr.base)}/${r.cidr.prefix}`;
      nodeLines.push(
        r.gateway !== 0
          ? `route add ${cidr} via ${u32ToIp(r.gateway)} dev eth0 onlink`
          : `route add ${cidr} dev eth0`,
      );
    }
    batch(node, nodeLines);
    const router = dp.routes.list().find((r) => r.cidr.prefix === 0)?.gateway;
    const outLines = [
      `addr add ${u32ToIp(router!)}/24 dev eth0`,
      'link set eth0 up',
      `addr add ${o.external}/32 dev lo`,
      ...o.toNode.map((c) => `route add ${c} via ${nodeIp} dev eth0`),
    ];
    batch(outside, outLines);
    const sysctl = [
      'net.ipv4.ip_forward=1',
      `net.ipv4.conf.all.route_localnet=${o.routeLocalnet ? 1 : 0}`,
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
      'net.ipv4.icmp_ratelimit=0',
    ];
    run('ip', ['netns', 'exec', node, systemTool('sysctl')!, '-qw', ...sysctl]);
    spawnSync('ip', [
      'netns',
      'exec',
      outside,
      systemTool('sysctl')!,
      '-qw',
      'net.ipv4.conf.all.rp_filter=0',
    ]);
    const file = join(this.dir, 'rules');
    writeFileSync(file, o.rules);
    if (o.mode === 'iptables') {
      for (const [, name] of o.rules.matchAll(/--nfacct-name\s+(\S+)/g)) {
        spawnSync('ip', ['netns', 'exec', node, systemTool('nfacct') ?? 'nfacct', 'add', name!]);
      }
      run('ip', ['netns', 'exec', node, systemTool('iptables-restore')!, file]);
    } else run('ip', ['netns', 'exec', node, systemTool('nft')!, '-f', file]);
    // The senders compute their checksums: with veth's TX offload the captures would hold
    // partial checksums, which the NAT of both sides updates by another rule.
    for (const ns of [outside, ...this.pods.values()]) {
      run('ip', ['netns', 'exec', ns, systemTool('ethtool')!, '-K', 'eth0', 'tx', 'off']);
    }
    writeFileSync(join(this.dir, 'server.mjs'), SERVER);
    writeFileSync(join(this.dir, 'client.mjs'), CLIENT);
    for (const ns of this.pods.values())
      await this.background(ns, [process.execPath, join(this.dir, 'server.mjs')], 'ready');
  }

  /** Start a process in `ns` and wait until it prints `ready` on stdout (or stderr for tcpdump). */
  private background(
    ns: string,
    argv: string[],
    ready: string,
    onStderr = false,
  ): Promise<ChildProcess> {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    return new Promise((ok, fail) => {
      const t = setTimeout(() => fail(new Error(`${argv[0]} in ${ns} did not start`)), 10_000);
      let seen = '';
      (onStderr ? p.stderr! : p.stdout!).on('data', (d: Buffer) => {
        seen += d.toString();
        if (seen.includes(ready)) {
          clearTimeout(t);
          ok(p);
        }
      });
      p.once('exit', (c) => {
        clearTimeout(t);
        fail(new Error(`${argv.join(' ')} exited (${c})`));
      });
    });
  }

  /**
   * Capture what enters and what leaves the node until stopCapture(): one `tcpdump -i any`
   * (Linux cooked headers say each packet's direction), split in two when it stops.
   */
  async startCapture(): Promise<void> {
    const file = join(this.dir, 'node.pcap');
    const argv = [
      systemTool('tcpdump')!,
      '-i',
      'any',
      '--immediate-mode',
      '-B',
      '65536',
      '-U',
      '-n',
      '-w',
      file,
      'ip',
    ];
    const proc = await this.background(this.node, argv, 'listening on', true);
    let stats = '';
    proc.stderr!.on('data', (d: Buffer) => (stats += d.toString()));
    this.captures.push({ proc, file, stats: () => stats });
  }

  /** Stop capturing: the packets that entered the node, those that left, and tcpdump's counts. */
  async stopCapture(): Promise<{ ingress: Uint8Array; egress: Uint8Array; stats: string }> {
    await new Promise((ok) => setTimeout(ok, 200));
    const c = this.captures.shift()!;
    await new Promise<void>((ok) => {
      c.proc.removeAllListeners('exit');
      c.proc.once('exit', () => ok());
      c.proc.kill('SIGINT');
    });
    const { ingress, egress } = splitByDirection(new Uint8Array(readFileSync(c.file)));
    const stats = c
      .stats()
      .split('\n')
      .filter((l) => /packets/.test(l))
      .join(', ');
    return { ingress, egress, stats };
  }

  /** One client flow from namespace `ns`; how it ended (echoed, error:ECONNREFUSED, sent, …). */
  client(
    ns: string,
    kind: 'tcp' | 'udp',
    host: string,
    port: number,
    src = '-',
    ttl = '-',
  ): string {
    return run('ip', [
      'netns',
      'exec',
      ns,
      process.execPath,
      join(this.dir, 'client.mjs'),
      kind,
      host,
      String(port),
      src,
      ttl,
    ]).trim();
  }

  /** `ping` from `ns`: count echoes, optional source and TTL. Returns the exit status. */
  ping(ns: string, dst: string, opts: { src?: string; ttl?: number; count?: number } = {}): number {
    const args = ['-n', '-c', String(opts.count ?? 2), '-i', '0.2', '-W', '1'];
    if (opts.src !== undefined) args.push('-I', opts.src);
    if (opts.ttl !== undefined) args.push('-t', String(opts.ttl));
    const r = spawnSync('ip', ['netns', 'exec', ns, 'ping', ...args, dst], { encoding: 'utf8' });
    return r.status ?? -1;
  }

  close(): void {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of this.namespaces.reverse()) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const PACKET_OUTGOING = 4;

/**
 * Split a pcap file of Linux cooked captures (SLL or SLL2) into the packets received by the
 * node and the packets it sent (sll_pkttype PACKET_OUTGOING), each a pcap file of its own.
 */
export function splitByDirection(bytes: Uint8Array): { ingress: Uint8Array; egress: Uint8Array } {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = v.getUint32(0, true) === 0xa1b2c3d4 || v.getUint32(0, true) === 0xa1b23c4d;
  const link = v.getUint32(20, le);
  if (link !== 113 && link !== 276) throw new Error(`capture link type ${link}, not Linux cooked`);
  const parts: Uint8Array[][] = [[bytes.subarray(0, 24)], [bytes.subarray(0, 24)]];
  for (let off = 24; off + 16 <= bytes.length;) {
    const incl = v.getUint32(off + 8, le);
    const rec = bytes.subarray(off, off + 16 + incl);
    const data = rec.subarray(16);
    const type = link === 276 ? data[10] : (data[0]! << 8) | data[1]!;
    parts[type === PACKET_OUTGOING ? 1 : 0]!.push(rec);
    off += 16 + incl;
  }
  const join = (p: Uint8Array[]) => {
    const out = new Uint8Array(p.reduce((n, x) => n + x.length, 0));
    let o = 0;
    for (const x of p) {
      out.set(x, o);
      o += x.length;
    }
    return out;
  };
  return { ingress: join(parts[0]!), egress: join(parts[1]!) };
}
