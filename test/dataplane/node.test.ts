import test from 'ava';
import fc from 'fast-check';
import { Drop, Verdict } from '../../src/dataplane/counters.ts';
import { LOCAL_IF } from '../../src/dataplane/node.ts';
import { TcpState } from '../../src/conntrack/constants.ts';
import { u32ToIp } from '../../src/packet/addr.ts';
import { buildTcp, buildUdp } from '../../src/packet/build.ts';
import { buildPortUnreachable } from '../../src/packet/icmp-error.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { parsePacket } from '../../src/packet/parse.ts';
import { ipv4ComputeChecksum } from '../../src/packet/ipv4.ts';
import { l4ChecksumValid } from '../../src/packet/checksum.ts';
import {
  BACKEND_LOCAL,
  BACKEND_REMOTE,
  CLIENT,
  DNS_VIP,
  EMPTY_VIP,
  EXTERNAL,
  GW,
  NODE2_IP,
  NODE_IP,
  VIP,
  makeNode,
} from './harness.ts';

const { SYN, ACK, FIN } = TcpFlags;

/** The stored IPv4 header checksum equals a fresh computation. */
function ipHeaderOk(p: Uint8Array, off = 0): boolean {
  return ipv4ComputeChecksum(p, off, 20) === ((p[off + 10]! << 8) | p[off + 11]!);
}

function checksumsValid(p: Uint8Array): boolean {
  const info = parsePacket(p);
  return (
    ipHeaderOk(p) &&
    l4ChecksumValid(p, info.l4Offset, info.l4Length, info.src, info.dst, info.proto)
  );
}

test('ClusterIP: a SYN is DNATed to an endpoint, checksums stay valid, the reply is un-NATed', (t) => {
  const h = makeNode();
  const syn = buildTcp({ src: CLIENT, dst: VIP, sport: 40000, dport: 80, flags: SYN, seq: 100 });
  t.is(h.dp.process(syn, h.clientIf), Verdict.Forward);
  const out = parsePacket(syn);
  t.true([BACKEND_LOCAL, BACKEND_REMOTE].includes(out.dst));
  t.is(out.dport, 80);
  t.is(out.src, CLIENT, 'pod-to-service traffic inside the cluster CIDR is not masqueraded');
  t.true(checksumsValid(syn));
  if (out.dst === BACKEND_LOCAL) t.is(h.dp.outIf, h.backendIf);
  else t.is(h.dp.nextHop, NODE2_IP);

  const synack = buildTcp({
    src: out.dst,
    dst: CLIENT,
    sport: 80,
    dport: 40000,
    flags: SYN | ACK,
    seq: 900,
    ack: 101,
  });
  t.is(h.dp.process(synack, out.dst === BACKEND_LOCAL ? h.backendIf : 1), Verdict.Forward);
  const back = parsePacket(synack);
  t.is(u32ToIp(back.src), '10.96.0.100');
  t.is(back.sport, 80);
  t.is(h.dp.outIf, h.clientIf);
  t.true(checksumsValid(synack));
});

test('a full TCP lifecycle walks conntrack through its states', (t) => {
  const h = makeNode();
  const tbl = h.dp.ct.table;
  const send = (
    from: 'c' | 's',
    flags: number,
    seq: number,
    ack: number,
    payload = new Uint8Array(),
  ) => {
    const p =
      from === 'c'
        ? buildTcp({ src: CLIENT, dst: VIP, sport: 40001, dport: 80, flags, seq, ack, payload })
        : buildTcp({
            src: backend,
            dst: CLIENT,
            sport: 80,
            dport: 40001,
            flags,
            seq,
            ack,
            payload,
          });
    return h.dp.process(p, from === 'c' ? h.clientIf : 1);
  };
  const syn = buildTcp({ src: CLIENT, dst: VIP, sport: 40001, dport: 80, flags: SYN, seq: 1000 });
  h.dp.process(syn, h.clientIf);
  const backend = parsePacket(syn).dst;
  const state = () => {
    const ref = tbl.lookup(6, CLIENT, VIP, 40001, 80, h.clock.ms);
    return ref < 0 ? -1 : tbl.l4state[ref >> 1];
  };
  t.is(state(), TcpState.SYN_SENT);
  send('s', SYN | ACK, 5000, 1001);
  t.is(state(), TcpState.SYN_RECV);
  send('c', ACK, 1001, 5001);
  t.is(state(), TcpState.ESTABLISHED);
  t.is(
    send('c', ACK, 1001, 5001, new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n')),
    Verdict.Forward,
  );
  send('c', FIN | ACK, 1019, 5001);
  t.is(state(), TcpState.FIN_WAIT);
  send('s', FIN | ACK, 5001, 1020);
  t.is(state(), TcpState.LAST_ACK);
  send('c', ACK, 1020, 5002);
  t.is(state(), TcpState.TIME_WAIT);
  h.clock.ms += 121_000;
  t.is(state(), -1, 'TIME_WAIT expires after 120 s');
});

test('hairpin: a pod reaching its own service through the VIP is masqueraded to the pod gateway', (t) => {
  const h = makeNode();
  // Try source ports until the random pick lands on the pod itself.
  for (let sport = 41000; sport < 41100; sport++) {
    const p = buildTcp({ src: BACKEND_LOCAL, dst: VIP, sport, dport: 80, flags: SYN, seq: 1 });
    t.is(h.dp.process(p, h.backendIf), Verdict.Forward);
    const o = parsePacket(p);
    if (o.dst !== BACKEND_LOCAL) {
      t.is(o.src, BACKEND_LOCAL);
      continue;
    }
    t.is(u32ToIp(o.src), u32ToIp(GW));
    t.is(h.dp.outIf, h.backendIf);
    t.true(checksumsValid(p));
    return;
  }
  t.fail('no connection landed on the local endpoint');
});

test('a service without endpoints is REJECTed with an ICMP port unreachable quoting the SYN as FORWARD saw it (TTL decremented)', (t) => {
  const h = makeNode();
  const syn = buildTcp({
    src: CLIENT,
    dst: EMPTY_VIP,
    sport: 40002,
    dport: 80,
    flags: SYN,
    seq: 7,
  });
  const copy = syn.slice();
  t.is(h.dp.process(syn, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.RuleReject], 1);
  t.is(h.emitted.length, 1);
  const icmp = h.emitted[0]!;
  t.is(icmp.ifIndex, h.clientIf);
  const info = parsePacket(icmp.packet);
  t.is(info.icmpType, 3);
  t.is(info.icmpCode, 3);
  t.is(info.dst, CLIENT);
  t.is(info.src, GW);
  const quoted = icmp.packet.subarray(28, 48);
  t.is(quoted[8], copy[8]! - 1, 'ip_forward() decremented the TTL before the FORWARD hook');
  t.true(ipHeaderOk(icmp.packet, 28), 'quoted header checksum matches the decremented TTL');
  t.deepEqual(quoted.subarray(12), copy.subarray(12, 20), 'quotes the addresses as sent');
});

test('NodePort from outside the cluster: DNAT and masquerade to the node address', (t) => {
  const h = makeNode();
  let sawRemote = false;
  let sawLocal = false;
  for (let sport = 50000; sport < 50040 && !(sawLocal && sawRemote); sport++) {
    const p = buildTcp({ src: EXTERNAL, dst: NODE_IP, sport, dport: 30080, flags: SYN, seq: 1 });
    t.is(h.dp.process(p, 1), Verdict.Forward);
    const o = parsePacket(p);
    t.is(o.dport, 80);
    if (o.dst === BACKEND_REMOTE) {
      sawRemote = true;
      t.is(o.src, NODE_IP, 'masqueraded to the uplink address');
    } else {
      sawLocal = true;
      t.is(o.dst, BACKEND_LOCAL);
      t.is(o.src, GW, 'masqueraded to the address toward the pod');
    }
  }
  t.true(sawLocal && sawRemote);
});

test('UDP: request DNATed; an ICMP port unreachable from the backend comes back about the VIP', (t) => {
  const h = makeNode();
  const q = buildUdp({
    src: CLIENT,
    dst: DNS_VIP,
    sport: 5353,
    dport: 53,
    payload: new Uint8Array([1, 2, 3]),
  });
  t.is(h.dp.process(q, h.clientIf), Verdict.Forward);
  const o = parsePacket(q);
  t.is(o.dst, BACKEND_REMOTE);
  // The backend has nothing on port 53: it answers with port unreachable quoting q.
  const err = buildPortUnreachable(q, { src: BACKEND_REMOTE });
  t.is(h.dp.process(err, 1), Verdict.Forward);
  const e = parsePacket(err);
  t.is(e.src, DNS_VIP, 'outer source reverse-NATed');
  t.is(e.dst, CLIENT);
  const inner = parsePacket(err.subarray(28));
  t.is(inner.dst, DNS_VIP, 'quoted destination restored to the VIP');
  t.is(inner.dport, 53);
  t.true(ipHeaderOk(err, 28), 'quoted header checksum fixed');
  t.true(parsePacket(err).reason === 0);
  t.is(h.dp.outIf, h.clientIf);
});

test('TTL 1 to a ClusterIP gets time exceeded un-NATed: from the ClusterIP, quoting ClusterIP:port (nf_ct_attach)', (t) => {
  const h = makeNode();
  const p = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40003,
    dport: 80,
    flags: SYN,
    seq: 1,
    ttl: 1,
  });
  t.is(h.dp.process(p, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.TtlExceeded], 1);
  const info = parsePacket(h.emitted[0]!.packet);
  t.is(info.icmpType, 11);
  t.is(info.src, VIP);
  const inner = parsePacket(h.emitted[0]!.packet.subarray(28));
  t.is(inner.dst, VIP);
  t.is(inner.dport, 80);
});

test('TTL 1 to a Service without endpoints gets time exceeded, not the REJECT (TTL is checked before FORWARD)', (t) => {
  const h = makeNode();
  const p = buildTcp({
    src: CLIENT,
    dst: EMPTY_VIP,
    sport: 40004,
    dport: 80,
    flags: SYN,
    seq: 1,
    ttl: 1,
  });
  t.is(h.dp.process(p, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.TtlExceeded], 1);
  t.is(h.dp.counters.drops[Drop.RuleReject], 0);
  const info = parsePacket(h.emitted[0]!.packet);
  t.is(info.icmpType, 11);
  t.is(info.src, GW, 'not DNATed: from the address toward the sender');
});

test('forwarding decrements the TTL with a valid header checksum', (t) => {
  const h = makeNode();
  const p = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 40004,
    dport: 80,
    flags: SYN,
    seq: 1,
    ttl: 64,
  });
  h.dp.process(p, h.clientIf);
  t.is(p[8], 63);
  t.true(ipHeaderOk(p));
});

test('packets to the node itself are delivered locally, without a TTL change', (t) => {
  const h = makeNode();
  const p = buildTcp({
    src: CLIENT,
    dst: NODE_IP,
    sport: 40005,
    dport: 10250,
    flags: SYN,
    seq: 1,
    ttl: 64,
  });
  t.is(h.dp.process(p, h.clientIf), Verdict.Local);
  t.is(p[8], 64);
});

test('a full conntrack table drops new flows and keeps the established ones', (t) => {
  const h = makeNode(undefined, undefined, { max: 4 });
  const flows: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) {
    const syn = buildTcp({
      src: CLIENT,
      dst: VIP,
      sport: 42000 + i,
      dport: 80,
      flags: SYN,
      seq: 1,
    });
    t.is(h.dp.process(syn, h.clientIf), Verdict.Forward);
    const o = parsePacket(syn);
    const synack = buildTcp({
      src: o.dst,
      dst: CLIENT,
      sport: 80,
      dport: 42000 + i,
      flags: SYN | ACK,
      seq: 9,
      ack: 2,
    });
    h.dp.process(synack, o.dst === BACKEND_LOCAL ? h.backendIf : 1);
    const ackp = buildTcp({
      src: CLIENT,
      dst: VIP,
      sport: 42000 + i,
      dport: 80,
      flags: ACK,
      seq: 2,
      ack: 10,
    });
    h.dp.process(ackp, h.clientIf);
    flows.push(ackp);
  }
  const extra = buildTcp({ src: CLIENT, dst: VIP, sport: 43000, dport: 80, flags: SYN, seq: 1 });
  t.is(h.dp.process(extra, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.CtTableFull], 1);
  const again = buildTcp({
    src: CLIENT,
    dst: VIP,
    sport: 42000,
    dport: 80,
    flags: ACK,
    seq: 2,
    ack: 10,
  });
  t.is(h.dp.process(again, h.clientIf), Verdict.Forward, 'established flows survive');
});

test('the node never throws on arbitrary bytes; every drop is counted', (t) => {
  const h = makeNode();
  let processed = 0;
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), (bytes) => {
      const v = h.dp.process(bytes, h.clientIf);
      processed++;
      return v === Verdict.Drop || v === Verdict.Forward || v === Verdict.Local;
    }),
    { numRuns: 5000 },
  );
  const s = h.dp.counters;
  t.is(s.verdicts[0]! + s.verdicts[1]! + s.verdicts[2]!, processed);
  t.true(s.drops[Drop.Malformed]! > 0);
});

test('locally generated packets take the OUTPUT path (no TTL decrement)', (t) => {
  const h = makeNode();
  const p = buildTcp({
    src: NODE_IP,
    dst: VIP,
    sport: 40006,
    dport: 80,
    flags: SYN,
    seq: 1,
    ttl: 64,
  });
  t.is(h.dp.process(p, LOCAL_IF), Verdict.Forward);
  const o = parsePacket(p);
  t.true([BACKEND_LOCAL, BACKEND_REMOTE].includes(o.dst));
  t.is(p[8], 64);
});

test('switching proxy mode rebuilds from the same services and leaves nothing behind', async (t) => {
  const { IpvsDataplaneProxier } = await import('../../src/proxy/ipvs/dataplane.ts');
  const { IpvsProxier } = await import('../../src/proxy/ipvs/proxier.ts');
  const { defaultServices, defaultSlices } = await import('./harness.ts');
  const h = makeNode();
  const syn = buildTcp({ src: CLIENT, dst: VIP, sport: 45000, dport: 80, flags: SYN, seq: 1 });
  t.is(h.dp.process(syn, h.clientIf), Verdict.Forward);
  t.is(h.dp.ct.count, 1);
  const ipvs = new IpvsDataplaneProxier(
    new IpvsProxier({
      nodeName: 'k8s-node01',
      nodeIPs: ['10.0.100.11'],
      clusterCIDR: '10.244.0.0/16',
      now: () => h.clock.ms,
    }),
    () => h.clock.ms,
  );
  for (const s of defaultServices()) ipvs.onServiceAdd(s);
  for (const s of defaultSlices()) ipvs.onEndpointSliceAdd(s);
  // ipvs mode, like kube-proxy, installs nothing before both initial lists have arrived.
  ipvs.onServiceSynced();
  ipvs.onEndpointSlicesSynced();
  ipvs.sync();
  h.dp.setProxier(ipvs);
  t.is(h.dp.ct.count, 0, 'conntrack starts clean, as after the mode switch and a flush');
  t.true(h.dp.isLocal(VIP), 'in ipvs mode the ClusterIP sits on kube-ipvs0');
  // rr over the two endpoints: two new connections reach both.
  const seen = new Set<number>();
  for (const sport of [45001, 45002]) {
    const p = buildTcp({ src: CLIENT, dst: VIP, sport, dport: 80, flags: SYN, seq: 1 });
    t.is(h.dp.process(p, h.clientIf), Verdict.Forward);
    seen.add(parsePacket(p).dst);
  }
  t.deepEqual([...seen].sort(), [BACKEND_LOCAL, BACKEND_REMOTE].sort());
});

test('TTL 1 on an established DNATed flow: time exceeded un-NATed too, quoting the packet as sent', (t) => {
  const h = makeNode();
  const q = (ttl: number) =>
    buildUdp({
      src: CLIENT,
      dst: DNS_VIP,
      sport: 5454,
      dport: 53,
      payload: new Uint8Array(4),
      ttl,
    });
  t.is(h.dp.process(q(64), h.clientIf), Verdict.Forward);
  const late = q(1);
  const copy = late.slice();
  t.is(h.dp.process(late, h.clientIf), Verdict.Drop);
  t.is(h.dp.counters.drops[Drop.TtlExceeded], 1);
  const err = h.emitted.at(-1)!.packet;
  t.is(parsePacket(err).src, DNS_VIP);
  t.deepEqual(
    err.subarray(28, 28 + copy.length),
    copy,
    'quotes the datagram as the client sent it',
  );
});
