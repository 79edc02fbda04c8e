// Kernel side by side: svclab's own rule output for N services × 10 endpoints (its
// `iptables-save` and `nft list ruleset` text) loaded into the real kernel, and the TCP
// connection set-up latency to a ClusterIP through it, beside svclab's userspace
// first-packet cost for the same rules. Topology, all in throw-away namespaces:
//
//   client (10.244.1.9) ──veth── node (rules, ip_forward) ──veth── backend (endpoint IPs)
//
// The client connects to ClusterIPs of services spread over the table (connect() until
// established, then RST), so every SYN is a new conntrack entry that walks nat PREROUTING:
// iptables linearly through KUBE-SERVICES, nftables through its verdict maps. The anchor:
// the Kubernetes nftables post measured iptables p50 ≈49 µs at 5k services → ≈274 µs at 30k,
// nftables ≈14 µs flat. Root only; otherwise prints a skipped SuiteResult and exits 0.
// Figures: `connect-latency` (µs, min/median/max over connections; median = p50),
// `connect-latency-p90` (µs), `kernel-load` (ms wall to load the rules), per mode
// kernel-iptables / kernel-nftables; `first-packet` (µs CPU) for svclab's iptables/nftables.
// Run: node --import=tsx --expose-gc bench/kernel.ts [--quick] [N...]
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstPacket } from './classify.ts';
import { type Figure, figure, isQuick, printSuiteResult } from './figures.ts';
import {
  addNfacctCounters,
  addNs,
  atCleanup,
  cleanup,
  inNs,
  kernelSkipReason,
  run,
  systemTool,
} from './netns.ts';
import {
  ENDPOINTS,
  NODE_IP,
  endpointIp,
  fill,
  newIptables,
  newNftables,
  serviceIp,
  spread,
} from './workload.ts';

// 30k is left out of a default full run: compiling and loading its ~1M rules takes ~10 min
// here (iptables-restore ~3 min, nft -f longer); pass 30000 to measure it.
export const FULL_SIZES = [100, 1_000, 5_000, 10_000];
export const QUICK_SIZES = [100, 1_000];
const BACKEND_IP = '10.0.100.12';
const TARGETS = 8;

const gc = (globalThis as { gc?: () => void }).gc;

const SERVER = `import net from 'node:net';
net.createServer((s) => s.on('error', () => {})).listen(8080, '0.0.0.0', () => console.log('ready'));
`;

// Sequential connects; each timed from connect() to 'connect' (SYN, SYN-ACK, ACK sent).
const CLIENT = `import net from 'node:net';
const [port, count, warm, list] = process.argv.slice(2);
const vips = list.split(',');
const total = Number(count) + Number(warm);
const us = [];
let i = 0, fails = 0;
function one() {
  if (i >= total) return console.log(JSON.stringify({ us, fails }));
  const vip = vips[i % vips.length];
  const t0 = process.hrtime.bigint();
  const s = net.connect({ host: vip, port: Number(port) });
  const next = () => { i++; setImmediate(one); };
  const timer = setTimeout(() => { s.destroy(); fails++; next(); }, 3000);
  s.on('error', () => {});
  s.once('connect', () => {
    const dt = Number(process.hrtime.bigint() - t0) / 1000;
    clearTimeout(timer);
    if (i >= Number(warm)) us.push(dt);
    s.resetAndDestroy();
    next();
  });
  s.once('error', () => { clearTimeout(timer); fails++; next(); });
}
one();
`;

// The same in C when a compiler is here: a lower floor (no event loop), so the rule walk
// stands out more. connect() blocks until established; close with RST.
const C_CLIENT = `// Sequential TCP connects; prints one connect() latency in microseconds per line.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) return 2;
  int port = atoi(argv[1]), count = atoi(argv[2]), fails = 0;
  int nv = argc - 3;
  for (int i = 0; i < count; i++) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, argv[3 + i % nv], &a.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 3};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r = connect(s, (struct sockaddr *)&a, sizeof a);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (r == 0) printf("%.3f\\n", (t1.tv_sec - t0.tv_sec) * 1e6 + (t1.tv_nsec - t0.tv_nsec) / 1e3);
    else if (++fails >= 20 && fails > i / 2) break; // nothing gets through: give up
    struct linger l = {1, 0}; // close with RST: no TIME_WAIT pile-up
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(s);
  }
  fprintf(stderr, "fails %d\\n", fails);
  return 0;
}
`;

type Backend = 'iptables' | 'nftables';

interface Topology {
  client: string;
  node: string;
  backend: string;
  server: ChildProcess;
}

function startServer(ns: string, file: string): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, file], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  atCleanup(() => child.kill('SIGKILL'));
  return new Promise((ok, fail) => {
    const t = setTimeout(() => fail(new Error('backend server did not start')), 10_000);
    child.stdout!.once('data', () => {
      clearTimeout(t);
      ok(child);
    });
    child.once('exit', (c) => fail(new Error(`backend server exited (${c})`)));
  });
}

async function topology(
  tag: string,
  vipIndexes: readonly number[],
  dir: string,
): Promise<Topology> {
  const client = addNs(`${tag}c`);
  const node = addNs(`${tag}n`);
  const backend = addNs(`${tag}b`);
  // Interface names live inside the namespaces, so plain names do not collide.
  run('ip', [
    '-n',
    client,
    'link',
    'add',
    'eth0',
    'type',
    'veth',
    'peer',
    'name',
    'cli0',
    'netns',
    node,
  ]);
  run('ip', [
    '-n',
    backend,
    'link',
    'add',
    'eth0',
    'type',
    'veth',
    'peer',
    'name',
    'be0',
    'netns',
    node,
  ]);
  const batch = (ns: string, lines: string[]) =>
    run('ip', ['-n', ns, '-batch', '-'], lines.join('\n') + '\n');
  batch(client, [
    'addr add 10.244.1.9/24 dev eth0',
    'link set eth0 up',
    'route add default via 10.244.1.1',
  ]);
  batch(node, [
    'addr add 10.244.1.1/24 dev cli0',
    `addr add ${NODE_IP}/24 dev be0`,
    'link set cli0 up',
    'link set be0 up',
    `route add 10.128.0.0/9 via ${BACKEND_IP}`,
  ]);
  const eps = vipIndexes.flatMap((i) =>
    Array.from({ length: ENDPOINTS }, (_, k) => `addr add ${endpointIp(i, k)}/32 dev lo`),
  );
  batch(backend, [
    `addr add ${BACKEND_IP}/24 dev eth0`,
    'link set eth0 up',
    `route add default via ${NODE_IP}`,
    ...eps,
  ]);
  inNs(node, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  const server = await startServer(backend, join(dir, 'server.mjs'));
  return { client, node, backend, server };
}

function teardown(t: Topology): void {
  t.server.kill('SIGKILL');
  for (const ns of [t.client, t.node, t.backend]) run('ip', ['netns', 'del', ns]);
}

function load(backend: Backend, node: string, file: string): number {
  const tool =
    backend === 'iptables' ? `${systemTool('iptables-restore')} < ` : `${systemTool('nft')} -f `;
  if (backend === 'iptables') addNfacctCounters(node, file);
  const t0 = performance.now();
  run('sh', ['-c', `ip netns exec ${node} ${tool}${file}`]);
  const ms = performance.now() - t0;
  // A load that leaves no rules (a namesake tool, a silent failure) must not pass as one.
  // `nft list tables` answers at once; iptables-save of 10k services takes minutes.
  const tables = inNs(node, systemTool('nft')!, ['list', 'tables']);
  const want = backend === 'iptables' ? /table ip nat/ : /table ip kube-proxy/;
  if (!want.test(tables)) throw new Error(`${backend} rules did not load`);
  return ms;
}

/** The C client's path when cc can build it, else undefined (the Node client is used). */
function buildCClient(dir: string): string | undefined {
  const src = join(dir, 'connect.c');
  const bin = join(dir, 'connect');
  writeFileSync(src, C_CLIENT);
  const r = spawnSync('cc', ['-O2', '-o', bin, src], { stdio: 'ignore' });
  return r.status === 0 ? bin : undefined;
}

function connect(
  t: Topology,
  vips: readonly string[],
  count: number,
  dir: string,
  cClient: string | undefined,
): number[] {
  const warm = Math.min(100, count);
  if (cClient !== undefined) {
    const out = inNs(t.client, cClient, ['80', String(count + warm), ...vips]);
    const us = out
      .split('\n')
      .filter((l) => l !== '')
      .map(Number)
      .slice(warm);
    if (us.length === 0) throw new Error('no connection succeeded');
    if (us.length < count) console.log(`  ${count - us.length} connections failed`);
    return us;
  }
  const out = inNs(t.client, process.execPath, [
    join(dir, 'client.mjs'),
    '80',
    String(count),
    String(warm),
    vips.join(','),
  ]);
  const r = JSON.parse(out) as { us: number[]; fails: number };
  if (r.us.length === 0) throw new Error(`no connection succeeded (${r.fails} failed)`);
  if (r.fails > 0) console.log(`  ${r.fails} connections failed`);
  return r.us;
}

const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

export async function kernelBench(sizes: readonly number[], quick: boolean): Promise<Figure[]> {
  const figures: Figure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'svclab-kernel-'));
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'client.mjs'), CLIENT);
  const count = quick ? 200 : 2000;
  const cClient = buildCClient(dir);
  const failures: string[] = [];
  console.log(
    `client: ${cClient !== undefined ? 'C (connect() in a loop)' : 'Node net.connect (no cc here)'}`,
  );
  try {
    for (const n of sizes) {
      const idx = spread(n, TARGETS);
      const vips = idx.map(serviceIp);
      for (const backend of ['iptables', 'nftables'] as const) {
        console.log(`${n} services ${backend}: building, loading into the kernel, connecting…`);
        // svclab's rules for this size: the text to load, and svclab's own first packet.
        let text: string;
        let px;
        if (backend === 'iptables') {
          const ipt = fill(newIptables(), n);
          text = ipt.save();
          px = ipt;
        } else {
          const nft = fill(newNftables(), n);
          text = nft.listRuleset();
          px = nft;
        }
        const fp = firstPacket(px, n, quick);
        figures.push(
          figure(
            'first-packet',
            'µs',
            fp.ns.map((x) => x / 1000),
            { mode: backend, services: n },
          ),
        );
        const file = join(dir, `${backend}-${n}.rules`);
        writeFileSync(file, text);
        px = undefined;
        gc?.();
        const t = await topology(`${n}${backend[0]}`, idx, dir);
        try {
          // One size or backend failing (a load error, no connection) must not lose the rest.
          const loadMs = load(backend, t.node, file);
          const us = connect(t, vips, count, dir, cClient).sort((a, b) => a - b);
          const mode = `kernel-${backend}`;
          figures.push(figure('connect-latency', 'µs', us, { mode, services: n }));
          figures.push(figure('connect-latency-p90', 'µs', [pct(us, 0.9)], { mode, services: n }));
          figures.push(figure('kernel-load', 'ms', [loadMs], { mode, services: n }));
          const fpMed = [...fp.ns].sort((a, b) => a - b)[fp.ns.length >> 1]! / 1000;
          console.log(
            `${String(n).padStart(6)} services ${backend.padEnd(8)}: kernel connect p50 ${pct(us, 0.5).toFixed(0)} µs, ` +
              `p90 ${pct(us, 0.9).toFixed(0)} µs (${us.length} connections), load ${loadMs.toFixed(0)} ms | ` +
              `svclab first packet ${fpMed.toFixed(2)} µs`,
          );
        } catch (err) {
          const why = (err as Error).message.split('\n')[0];
          failures.push(`${n} ${backend}: ${why}`);
          console.log(`${n} services ${backend}: failed: ${why}`);
        } finally {
          teardown(t);
        }
      }
    }
  } finally {
    cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
  if (failures.length > 0 && !figures.some((f) => f.metric === 'connect-latency'))
    throw new Error(`every kernel measurement failed: ${failures.join('; ')}`);
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const skip = kernelSkipReason(['iptables-restore', 'nft']);
  if (skip !== undefined) {
    console.log(`kernel suite skipped: ${skip}`);
    printSuiteResult({ suite: 'kernel', figures: [], skipped: skip });
  } else {
    const quick = isQuick(argv);
    const given = argv.filter((a) => /^\d+$/.test(a)).map(Number);
    const figures = await kernelBench(
      given.length > 0 ? given : quick ? QUICK_SIZES : FULL_SIZES,
      quick,
    );
    printSuiteResult({ suite: 'kernel', figures });
  }
}
