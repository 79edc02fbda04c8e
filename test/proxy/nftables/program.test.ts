// The flat program (program.ts) that packets walk must do what the rule objects (evaluate.ts,
// which traces walk) do: the same verdict, DNAT, mark, masquerade and rules visited for every
// packet, at every hook, through random services (NodePorts, external and LB IPs, source
// ranges, affinity, no endpoints). Two proxiers on the same random source, one classifying,
// one tracing, see the same packets in the same order.
import test from 'ava';
import { u32ToIp, ipToU32 } from '../../../src/packet/addr.ts';
import {
  ADDR_DST_LOCAL,
  ADDR_SRC_LOCAL,
  CtState,
  Hook,
  TABLE_FILTER,
  TABLE_NAT,
  newPacketMeta,
} from '../../../src/proxy/hooks.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { nftProxier } from './fixture.ts';
import { randomServices } from './random-services.ts';

const NODE = 'k8s-node01';

test('packets walk the flat program as traces walk the rules', (t) => {
  const { services, slices } = randomServices(60, 11, NODE);
  let clock = 0;
  const opts = (seed: number) => ({
    nodeName: NODE,
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
    serviceCIDRs: ['10.96.0.0/12'],
    random: seededRandom(seed),
    now: () => clock,
  });
  const flat = nftProxier(services, slices, opts(5));
  const objects = nftProxier(services, slices, opts(5));
  const rnd = seededRandom(3);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const dsts: { ip: string; port: number; proto: number }[] = [];
  const PROTO: Record<string, number> = { TCP: 6, UDP: 17, SCTP: 132 };
  for (const s of services) {
    for (const p of s.spec.ports) {
      const proto = PROTO[p.protocol ?? 'TCP']!;
      dsts.push({ ip: s.spec.clusterIP!, port: p.port, proto });
      dsts.push({ ip: s.spec.clusterIP!, port: p.port + 1, proto });
      for (const ip of s.spec.externalIPs ?? []) dsts.push({ ip, port: p.port, proto });
      for (const i of s.status?.loadBalancer?.ingress ?? [])
        dsts.push({ ip: i.ip!, port: p.port, proto });
      if (p.nodePort) dsts.push({ ip: '10.0.100.11', port: p.nodePort, proto });
    }
  }
  dsts.push({ ip: '10.96.255.1', port: 80, proto: 6 }, { ip: '8.8.8.8', port: 53, proto: 17 });
  const srcs = ['10.244.1.9', '10.0.100.11', '198.51.100.7', '203.0.113.9', '127.0.0.1'];
  const hooks = [Hook.Prerouting, Hook.Output, Hook.Input, Hook.Forward, Hook.Postrouting];
  let dnats = 0;
  for (let i = 0; i < 4000; i++) {
    const d = pick(dsts);
    const m = newPacketMeta();
    m.proto = d.proto;
    m.src = ipToU32(pick(srcs));
    m.dst = ipToU32(d.ip);
    m.sport = 1024 + Math.floor(rnd() * 60000);
    m.dport = d.port;
    m.ctstate = rnd() < 0.8 ? CtState.NEW : CtState.ESTABLISHED;
    m.mark = rnd() < 0.2 ? 0x4000 : 0;
    m.addrFlags = (rnd() < 0.3 ? ADDR_DST_LOCAL : 0) | (rnd() < 0.2 ? ADDR_SRC_LOCAL : 0);
    const hook = pick(hooks);
    const tables = pick([TABLE_NAT, TABLE_FILTER, TABLE_NAT | TABLE_FILTER]);
    clock += rnd() * 100;
    const a = { ...flat.classify(m, hook, tables) };
    const b = { ...objects.trace(m, hook, () => undefined, tables) };
    if (a.dnat) dnats++;
    const what = `${i}: ${u32ToIp(m.src)} -> ${d.ip}:${d.port}/${d.proto} hook ${hook}`;
    if (JSON.stringify(a) !== JSON.stringify(b))
      return t.fail(`${what}\n${JSON.stringify(a)}\n${JSON.stringify(b)}`);
  }
  t.true(dnats > 100, `${dnats} DNATs`);
  t.pass();
});
