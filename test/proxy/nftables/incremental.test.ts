// A sync after changes replays the unchanged service ports' recorded chains and elements:
// the table must be the one a fresh compile of the same state gives, to the byte and in
// what it does to packets (verdicts point at the right chains after indexes shift).
import test from 'ava';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { ipToU32 } from '../../../src/packet/addr.ts';
import { CtState, Hook, TABLE_NAT, newPacketMeta } from '../../../src/proxy/hooks.ts';
import type { NftablesProxier } from '../../../src/proxy/nftables/proxier.ts';
import { nftProxier } from './fixture.ts';
import { randomServices } from './random-services.ts';

const NODE = 'k8s-node01';
const opts = {
  nodeName: NODE,
  nodeIPs: ['10.0.100.11'],
  clusterCIDR: '10.244.0.0/16',
  serviceCIDRs: ['10.96.0.0/12'],
  random: () => 0.5,
  now: () => 0,
};

const fresh = (services: readonly Service[], slices: readonly EndpointSlice[]): NftablesProxier =>
  nftProxier(services, slices, opts);

/** The listing without affinity set contents (classifying adds them, as in the kernel). */
const listing = (px: NftablesProxier): string =>
  px.listRuleset().replace(/^\t\telements = \{ [^}]* expires [^}]*\}\n/gm, '');

/** What the table does to a new flow from `client` to each service port's ClusterIP. */
function verdicts(px: NftablesProxier, services: readonly Service[], client: string): string[] {
  const out: string[] = [];
  for (const s of services) {
    for (const p of s.spec.ports) {
      const m = newPacketMeta();
      m.proto = p.protocol === 'UDP' ? 17 : p.protocol === 'SCTP' ? 132 : 6;
      m.src = ipToU32(client);
      m.dst = ipToU32(s.spec.clusterIP!);
      m.sport = 40000;
      m.dport = p.port;
      m.ctstate = CtState.NEW;
      const r = px.classify(m, Hook.Prerouting, TABLE_NAT);
      out.push(
        `${s.metadata.name}:${p.port} ${r.verdict} ${r.dnat ? `${r.dnatIp}:${r.dnatPort}` : '-'}`,
      );
    }
  }
  return out;
}

test('after endpoint changes, deletes and adds, the table equals a fresh compile', (t) => {
  const { services, slices } = randomServices(60, 7, NODE);
  const px = fresh(services, slices);
  const live = new Map(services.map((s) => [s.metadata.name, s]));
  const liveSlices = new Map(slices.map((s) => [s.metadata.name, s]));
  const steps: (() => void)[] = [
    // One endpoint fewer on a service in the middle: every later chain index shifts.
    () => {
      const old = liveSlices.get('svc-20-1')!;
      const next = { ...old, endpoints: old.endpoints.slice(1) };
      px.onEndpointSliceUpdate(old, next);
      liveSlices.set('svc-20-1', next);
    },
    () => {
      const svc = live.get('svc-5')!;
      px.onServiceDelete(svc);
      live.delete('svc-5');
    },
    () => {
      const { services: more, slices: moreSlices } = randomServices(3, 99, NODE);
      for (const [i, s] of more.entries()) {
        const svc = { ...s, metadata: { ...s.metadata, name: `new-${i}` } };
        const sl = {
          ...moreSlices[i]!,
          metadata: {
            ...moreSlices[i]!.metadata,
            name: `new-${i}-1`,
            labels: { 'kubernetes.io/service-name': `new-${i}` },
          },
        };
        px.onServiceAdd(svc);
        px.onEndpointSliceAdd(sl);
        live.set(svc.metadata.name, svc);
        liveSlices.set(sl.metadata.name, sl);
      }
    },
    // Affinity switched on for a service that had none.
    () => {
      const old = live.get('svc-30')!;
      const next: Service = {
        ...old,
        spec: {
          ...old.spec,
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        },
      };
      px.onServiceUpdate(old, next);
      live.set('svc-30', next);
    },
  ];
  for (const [i, step] of steps.entries()) {
    step();
    px.sync();
    const want = fresh([...live.values()], [...liveSlices.values()]);
    t.is(listing(px), want.listRuleset());
    // A client of its own per step: no affinity left from earlier steps.
    const client = `10.244.7.${i + 1}`;
    const all = [...live.values()];
    t.deepEqual(verdicts(px, all, client), verdicts(want, all, client));
  }
});

test('a sync with nothing changed keeps the table; a change swaps in a new one', (t) => {
  const { services, slices } = randomServices(10, 3, NODE);
  const px = fresh(services, slices);
  const before = px.ruleset;
  px.sync();
  t.is(px.ruleset, before);
  const old = slices.find((s) => s.endpoints.length > 0)!;
  px.onEndpointSliceUpdate(old, { ...old, endpoints: [] });
  px.sync();
  t.not(px.ruleset, before);
  t.not(px.listRuleset(), '');
});
