import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterFromFiles } from '../../src/cli/cluster-from-files.ts';
import { ipToU32, u32ToIp } from '../../src/packet/addr.ts';
import { buildTcp } from '../../src/packet/build.ts';
import { parsePacket } from '../../src/packet/parse.ts';
import { PcapWriter } from '../../src/packet/pcap.ts';
import { readPcap } from '../../src/packet/pcap-read.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { setUpNode } from '../../src/control/node-setup.ts';
import { probe } from '../../src/sim/probe.ts';
import { replayPackets } from '../../src/sim/replay.ts';

const SEED = 'scenarios/seed/manifests';
const NODE = 'k8s-node01';
const NOEP_VIP = '10.96.200.200';
// A Service whose selector matches no pod: kube-proxy REJECTs connections to it.
const NOEP = `apiVersion: v1
kind: Service
metadata:
  name: noep
  namespace: default
spec:
  clusterIP: ${NOEP_VIP}
  selector:
    app: nobody
  ports:
  - port: 8080
    targetPort: 8080
`;
const T0 = 1_700_000_000n * 1_000_000_000n;
const US = 1000n;

function tmp(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'svclab-replay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function setUp(dir: string) {
  const noep = join(dir, 'noep.yaml');
  writeFileSync(noep, NOEP);
  const files = [`${SEED}/svc-deployment.yaml`, `${SEED}/svc.yaml`, noep];
  const cluster = clusterFromFiles({ files });
  const sim = setUpNode(cluster, NODE, { mode: 'iptables' });
  // The client: the lowest-addressed pod on the node's veths.
  const client = [...sim.podIfaces.keys()].sort((a, b) => a - b)[0]!;
  const vip = ipToU32(cluster.get('Service', 'default', 'myapp')!.spec.clusterIP!);
  return { files, cluster, sim, client, vip };
}

/**
 * The capture: a handshake from a local pod to myapp's ClusterIP (the SYN-ACK comes from
 * the backend a dry run on an identical cluster picks), a packet with a broken IPv4
 * checksum, a SYN to the Service without endpoints, and an IPv6 packet.
 */
function capture(dir: string): { bytes: Uint8Array; client: number; vip: number; backend: number } {
  const dry = setUp(dir);
  const [syn] = probe(dry.sim, {
    proto: 'tcp',
    src: dry.client,
    dst: dry.vip,
    dport: 80,
    sport: 40000,
  });
  const out = parsePacket(syn!.packet);
  const { client, vip } = dry;
  const sport = 40000;
  const w = new PcapWriter();
  w.write(T0, buildTcp({ src: client, dst: vip, sport, dport: 80, flags: TcpFlags.SYN, seq: 1 }));
  w.write(
    T0 + 100n * US,
    buildTcp({
      src: out.dst,
      dst: out.src,
      sport: 80,
      dport: out.sport,
      flags: TcpFlags.SYN | TcpFlags.ACK,
      seq: 7000,
      ack: 2,
    }),
  );
  w.write(
    T0 + 200n * US,
    buildTcp({ src: client, dst: vip, sport, dport: 80, flags: TcpFlags.ACK, seq: 2, ack: 7001 }),
  );
  const bad = buildTcp({ src: client, dst: vip, sport, dport: 80, flags: TcpFlags.ACK, seq: 2 });
  bad[10] = bad[10]! ^ 0xff; // header checksum
  w.write(T0 + 300n * US, bad);
  w.write(
    T0 + 400n * US,
    buildTcp({ src: client, dst: NOEP_VIP, sport: 40001, dport: 8080, flags: TcpFlags.SYN }),
  );
  const v6 = new Uint8Array(40);
  v6[0] = 0x60;
  w.write(T0 + 500n * US, v6);
  return { bytes: w.toBytes(), client, vip, backend: out.dst };
}

test('replay: DNAT, reverse NAT, malformed counted, REJECT answered, timestamps kept', (t) => {
  const dir = tmp(t);
  const cap = capture(dir);
  const read = readPcap(cap.bytes);
  t.is(read.skipped, 1);
  const { cluster, sim } = setUp(dir);
  const w = new PcapWriter();
  const stats = replayPackets(cluster, sim, read.packets, (ts, p) => w.write(ts, p));
  t.deepEqual(stats, {
    read: 5,
    forwarded: 3,
    local: 0,
    dropped: 2,
    written: 4,
    generated: 1,
    jumps: 0,
  });
  const c = sim.dataplane.counters.summary();
  t.is(c['drop:malformed'], 1);
  t.is(c['malformed:ipv4.BadHeaderChecksum'], 1);
  t.is(c['drop:rule-reject'], 1);

  const back = readPcap(w.toBytes());
  t.is(back.error, undefined);
  const pkts = back.packets.map((p) => ({ ts: p.tsNs, i: parsePacket(p.data) }));
  t.is(pkts.length, 4);
  const [syn, synAck, ack, icmp] = pkts;
  // SYN and ACK: DNATed to the backend pod, source kept.
  t.is(u32ToIp(syn!.i.dst), u32ToIp(cap.backend));
  t.not(syn!.i.dst, cap.vip);
  t.regex(u32ToIp(syn!.i.dst), /^10\.244\./);
  t.is(syn!.i.dport, 80);
  t.is(ack!.i.dst, cap.backend);
  // SYN-ACK: un-NATed, from the ClusterIP to the client.
  t.is(u32ToIp(synAck!.i.src), u32ToIp(cap.vip));
  t.is(u32ToIp(synAck!.i.dst), u32ToIp(cap.client));
  t.is(synAck!.i.sport, 80);
  t.is(synAck!.i.dport, 40000);
  // The REJECT: ICMP port unreachable back to the client.
  t.is(icmp!.i.proto, 1);
  t.is(icmp!.i.icmpType, 3);
  t.is(icmp!.i.icmpCode, 3);
  t.is(u32ToIp(icmp!.i.dst), u32ToIp(cap.client));
  // Original timestamps (us files): the malformed packet at +300us is not written.
  t.deepEqual(
    pkts.map((p) => p.ts - T0),
    [0n, 100n * US, 200n * US, 400n * US],
  );
  // Time followed the capture: 400 us after the replay started.
  const entries = sim.dataplane.ct.list(cluster.now() / 1e6);
  t.true(entries.some((e) => e.orig.dst === cap.vip && e.reply.src === cap.backend));
});

const hasTshark = spawnSync('tshark', ['-v']).status === 0;

test('svclab replay: summary, conntrack table, OUT.pcap readable (tshark when present)', (t) => {
  const dir = tmp(t);
  const cap = capture(dir);
  const inPath = join(dir, 'in.pcap');
  const outPath = join(dir, 'out.pcap');
  writeFileSync(inPath, cap.bytes);
  const r = spawnSync(
    'node',
    [
      'bin/svclab.js',
      'replay',
      inPath,
      ...[`${SEED}/svc-deployment.yaml`, `${SEED}/svc.yaml`, join(dir, 'noep.yaml')].flatMap(
        (f) => ['-f', f],
      ),
      '--node',
      NODE,
      '--out',
      outPath,
    ],
    { encoding: 'utf8' },
  );
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^read: 5 IPv4 packets, 1 skipped \(not IPv4\)$/m);
  t.regex(r.stdout, /^forwarded: 3$/m);
  t.regex(r.stdout, /^dropped: 2$/m);
  t.regex(r.stdout, /^ {2}drop:malformed 1$/m);
  t.regex(r.stdout, /^ {2}drop:rule-reject 1$/m);
  t.regex(r.stdout, /^written: 4 to .*out\.pcap \(1 generated by the node\)$/m);
  t.regex(
    r.stdout,
    new RegExp(
      `^tcp {6}6 \\d+ ESTABLISHED src=${u32ToIp(cap.client)} dst=${u32ToIp(cap.vip)} sport=40000 dport=80 src=${u32ToIp(cap.backend)} `,
      'm',
    ),
  );
  t.regex(r.stdout, /1 flow entries have been shown\.$/m);
  t.is(readPcap(readFileSync(outPath)).packets.length, 4);
  if (!hasTshark) {
    t.log('tshark not installed: skipped the tshark read of OUT.pcap');
    return;
  }
  const ts = spawnSync('tshark', ['-r', outPath, '-T', 'fields', '-e', 'ip.dst'], {
    encoding: 'utf8',
  });
  t.is(ts.status, 0, ts.stderr);
  t.is(ts.stdout.trim().split('\n').length, 4);
});
