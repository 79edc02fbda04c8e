// The dataplane's per-flow cache of the established path (route + filter walk): a node with
// it must forward, rewrite and count exactly like a node that walks every packet, and a
// route change, a rules swap or a reused conntrack slot must never serve a stale answer.
import test from 'ava';
import { Verdict } from '../../src/dataplane/counters.ts';
import { ipToU32, parseCidr } from '../../src/packet/addr.ts';
import { buildIcmpEcho, buildTcp, buildUdp } from '../../src/packet/build.ts';
import { parsePacket } from '../../src/packet/parse.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import type { IptablesProxier } from '../../src/proxy/iptables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../proxy/fixtures.ts';
import {
  BACKEND_LOCAL,
  BACKEND_REMOTE,
  CLIENT,
  DNS_VIP,
  type Harness,
  NODE2_IP,
  VIP,
  defaultServices,
  defaultSlices,
  makeNode,
} from './harness.ts';

const { SYN, ACK, PSH } = TcpFlags;

/** The same node with the cache switched off: every established packet walks the rules. */
function uncached(h: Harness): Harness {
  Object.defineProperty(h.dp.proxier, 'flowGeneration', { value: undefined });
  return h;
}

/** A node whose only myapp endpoint is remote (10.244.2.2), so the route is the uplink. */
function remoteOnly(): Harness {
  return makeNode(defaultServices(), [
    makeSlice(
      'default',
      'myapp',
      'myapp-abcde',
      [ep('10.244.2.2', { nodeName: 'k8s-node02' })],
      [tcp('http', 80)],
    ),
  ]);
}

interface Step {
  packet: Uint8Array;
  inIf: (h: Harness) => number;
}

/** A TCP flow to the VIP (handshake, data both ways), a DNS query and a ping, as steps. */
function traffic(backend: number, backendIf: (h: Harness) => number, from = 0): Step[] {
  const c = (h: Harness) => h.clientIf;
  const steps: Step[] = [];
  const sport = 40000 + from;
  steps.push({
    packet: buildTcp({ src: CLIENT, dst: VIP, sport, dport: 80, flags: SYN, seq: 100 }),
    inIf: c,
  });
  steps.push({
    packet: buildTcp({
      src: backend,
      dst: CLIENT,
      sport: 80,
      dport: sport,
      flags: SYN | ACK,
      seq: 900,
      ack: 101,
    }),
    inIf: backendIf,
  });
  for (let i = 0; i < 20; i++) {
    steps.push({
      packet: buildTcp({
        src: CLIENT,
        dst: VIP,
        sport,
        dport: 80,
        flags: ACK | PSH,
        seq: 101 + 10 * i,
        ack: 901,
        payload: new Uint8Array(10).fill(i),
      }),
      inIf: c,
    });
    steps.push({
      packet: buildTcp({
        src: backend,
        dst: CLIENT,
        sport: 80,
        dport: sport,
        flags: ACK,
        seq: 901,
        ack: 111 + 10 * i,
      }),
      inIf: backendIf,
    });
  }
  for (let i = 0; i < 3; i++) {
    steps.push({
      packet: buildUdp({ src: CLIENT, dst: DNS_VIP, sport: 5353 + from, dport: 53 }),
      inIf: c,
    });
    steps.push({
      packet: buildIcmpEcho({ src: CLIENT, dst: BACKEND_REMOTE, echoId: 7 + from, seq: i }),
      inIf: c,
    });
  }
  return steps;
}

/** Push steps through a node; what came out (verdict, interface, next hop, bytes) per packet. */
function run(h: Harness, steps: Step[]): string[] {
  return steps.map((s) => {
    const p = s.packet.slice();
    const v = h.dp.process(p, s.inIf(h));
    return `${v} ${h.dp.outIf} ${h.dp.nextHop} ${Buffer.from(p).toString('hex')}`;
  });
}

const filterList = (h: Harness) =>
  (h.dp.proxier as IptablesProxier).list('filter', { verbose: true, exact: true });

test('with the flow cache, packets and iptables counters are those of a walk per packet', (t) => {
  const cached = remoteOnly();
  const walked = uncached(remoteOnly());
  const uplink = () => 1;
  const steps = traffic(BACKEND_REMOTE, uplink);
  t.deepEqual(run(cached, steps), run(walked, steps));
  t.is(filterList(cached), filterList(walked));
  t.true(cached.dp.counters.established > 40);
  t.deepEqual(cached.dp.counters.summary(), walked.dp.counters.summary());

  // New rules swapped in (another service): cached flows walk the new table once, and count on.
  for (const h of [cached, walked]) {
    h.dp.proxier.onServiceAdd(
      makeService('default', 'other', {
        clusterIP: '10.96.0.77',
        ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }],
      }),
    );
    h.dp.proxier.sync();
  }
  const more = traffic(BACKEND_REMOTE, uplink).slice(2); // same flows, established already
  t.deepEqual(run(cached, more), run(walked, more));
  t.is(filterList(cached), filterList(walked));
  t.regex(filterList(cached), /ctstate RELATED,ESTABLISHED/);
});

test('a route change reaches flows the cache already knows', (t) => {
  const h = remoteOnly();
  const steps = traffic(BACKEND_REMOTE, () => 1).slice(0, 4);
  for (const v of run(h, steps)) t.true(v.startsWith(`${Verdict.Forward} `));
  t.is(h.dp.process(steps[2]!.packet.slice(), h.clientIf), Verdict.Forward);
  t.is(h.dp.nextHop, NODE2_IP);
  const other = ipToU32('10.0.100.13');
  h.dp.addUplinkRoute(parseCidr('10.244.2.0/24'), other);
  t.is(h.dp.process(steps[2]!.packet.slice(), h.clientIf), Verdict.Forward);
  t.is(h.dp.nextHop, other, 'the new gateway, not the remembered one');
});

test('a conntrack slot reused by a new flow does not inherit the old flow cache', (t) => {
  const h = makeNode();
  const tcpTo = (dst: number, sport: number, flags: number, seq: number, ack: number) =>
    buildTcp({ src: CLIENT, dst, sport, dport: 8080, flags, seq, ack });
  const back = (src: number, sport: number) =>
    buildTcp({ src, dst: CLIENT, sport: 8080, dport: sport, flags: SYN | ACK, seq: 5, ack: 2 });
  // Flow 1, pod to a remote pod: established and remembered (uplink, node02).
  t.is(h.dp.process(tcpTo(BACKEND_REMOTE, 1111, SYN, 1, 0), h.clientIf), Verdict.Forward);
  t.is(h.dp.process(back(BACKEND_REMOTE, 1111), 1), Verdict.Forward);
  t.is(h.dp.process(tcpTo(BACKEND_REMOTE, 1111, ACK, 2, 6), h.clientIf), Verdict.Forward);
  t.is(h.dp.process(tcpTo(BACKEND_REMOTE, 1111, ACK, 2, 6), h.clientIf), Verdict.Forward);
  t.is(h.dp.nextHop, NODE2_IP);
  const ref = h.dp.ct.lookup(6, CLIENT, BACKEND_REMOTE, 1111, 8080, h.clock.ms);
  t.true(ref >= 0);
  h.dp.ct.table.remove(ref >> 1);
  // Flow 2, to a local pod, takes the freed slot; its packets must go to the local veth.
  t.is(h.dp.process(tcpTo(BACKEND_LOCAL, 2222, SYN, 1, 0), h.clientIf), Verdict.Forward);
  t.is(h.dp.ct.lookup(6, CLIENT, BACKEND_LOCAL, 2222, 8080, h.clock.ms), ref);
  t.is(h.dp.process(back(BACKEND_LOCAL, 2222), h.backendIf), Verdict.Forward);
  t.is(h.dp.process(tcpTo(BACKEND_LOCAL, 2222, ACK, 2, 6), h.clientIf), Verdict.Forward);
  t.is(h.dp.outIf, h.backendIf);
  t.is(parsePacket(tcpTo(BACKEND_LOCAL, 2222, ACK, 2, 6)).dst, BACKEND_LOCAL);
});

test('the cache is the same for every flow through the default node', (t) => {
  const cached = makeNode(defaultServices(), defaultSlices());
  const walked = uncached(makeNode(defaultServices(), defaultSlices()));
  // Whichever backend the first SYN picks, both nodes pick the same (same seeds).
  const syn = buildTcp({ src: CLIENT, dst: VIP, sport: 40000, dport: 80, flags: SYN, seq: 100 });
  const s1 = syn.slice();
  cached.dp.process(s1, cached.clientIf);
  walked.dp.process(syn.slice(), walked.clientIf);
  const backend = parsePacket(s1).dst;
  const backendIf = (h: Harness) => (backend === BACKEND_LOCAL ? h.backendIf : 1);
  const steps = traffic(backend, backendIf).slice(1);
  t.deepEqual(run(cached, steps), run(walked, steps));
  t.is(filterList(cached), filterList(walked));
});
