// A sync writes the table straight into its flat program (compile-flat.ts, flat-services.ts)
// while listings and traces read the object table (compile.ts, compile-services.ts). The two
// compilers must agree word for word: the flat program must be exactly what compileProgram()
// makes of the object table, over random services with every policy and endpoint state.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { EndpointSlice, Service } from '../../../src/api/types.ts';
import { AffinityTables, FrozenAffinity } from '../../../src/proxy/nftables/affinity.ts';
import { compileFlat } from '../../../src/proxy/nftables/compile-flat.ts';
import { compileRuleset } from '../../../src/proxy/nftables/compile.ts';
import type { NftablesOptions } from '../../../src/proxy/nftables/compile.ts';
import { NameCache } from '../../../src/proxy/nftables/names.ts';
import type { PairTable } from '../../../src/proxy/nftables/pair-table.ts';
import { compileProgram } from '../../../src/proxy/nftables/program.ts';
import type { NftProgram } from '../../../src/proxy/nftables/program.ts';
import { ServiceMap } from '../../../src/proxy/service-map.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { randomServices } from './random-services.ts';

const NODE = 'k8s-node01';

/** randomServices with internal Local policies and unready, serving or terminating endpoints. */
function variedServices(n: number, seed: number) {
  const rnd = seededRandom(seed * 7 + 1);
  const { services, slices } = randomServices(n, seed, NODE);
  const svcs: Service[] = services.map((s) =>
    rnd() < 0.25 ? { ...s, spec: { ...s.spec, internalTrafficPolicy: 'Local' } } : s,
  );
  const sls: EndpointSlice[] = slices.map((sl) => ({
    ...sl,
    endpoints: sl.endpoints.map((e) => {
      const r = rnd();
      if (r < 0.15) return { ...e, conditions: { ready: false } };
      if (r < 0.3) return { ...e, conditions: { ready: false, serving: true, terminating: true } };
      return e;
    }),
  }));
  return { services: svcs, slices: sls };
}

const tableEntries = (t: PairTable, values: boolean): string[] => {
  const out: string[] = [];
  t.forEach((a, b, v) => out.push(values ? `${a} ${b} ${v}` : `${a} ${b}`));
  return out.sort();
};

function assertSame(
  t: ExecutionContext,
  flat: NftProgram,
  ref: NftProgram,
  maps: ReadonlySet<PairTable>,
): void {
  t.deepEqual([...flat.chainAt], [...ref.chainAt], 'chain offsets');
  t.deepEqual([...flat.code], [...ref.code], 'code');
  t.deepEqual(
    flat.ranges.map((r) => [...r]),
    ref.ranges.map((r) => [...r]),
    'ranges',
  );
  t.is(flat.dyns.length, ref.dyns.length);
  flat.dyns.forEach((d, i) => t.true(d === ref.dyns[i], `affinity set ${i}`));
  t.deepEqual(flat.hookChains, ref.hookChains);
  t.is(flat.tables.length, ref.tables.length);
  // Sets hold an element index (only membership is read); maps hold packed verdicts.
  flat.tables.forEach((tb, i) => {
    const values = maps.has(ref.tables[i]!);
    t.deepEqual(tableEntries(tb, values), tableEntries(ref.tables[i]!, values), `table ${i}`);
  });
}

const OPTIONS: [string, NftablesOptions][] = [
  ['default', { nodeName: NODE, nodeIPs: ['10.0.100.11'], clusterCIDR: '10.244.0.0/16' }],
  [
    'service CIDRs, v1.33 layout, a node IP inside the source ranges',
    {
      nodeName: NODE,
      nodeIPs: ['198.51.100.77', '10.0.100.11'],
      clusterCIDR: '10.244.0.0/16',
      serviceCIDRs: ['10.96.0.0/12'],
      version: 'v1.33.0',
    },
  ],
  [
    "masqueradeAll, nodePortAddresses 'all', no cluster CIDR",
    { nodeName: NODE, nodeIPs: ['10.0.100.11'], masqueradeAll: true, nodePortAddresses: 'all' },
  ],
];

for (const [what, opts] of OPTIONS) {
  test(`the flat compile is compileProgram of the object table: ${what}`, (t) => {
    for (const seed of [1, 2, 3, 4]) {
      const { services, slices } = variedServices(80, seed);
      const map = new ServiceMap(NODE);
      for (const s of services) map.updateService(undefined, s);
      for (const s of slices) map.updateEndpointSlice(s, false);
      const entries = map.snapshot().entries;
      const affinity = new AffinityTables();
      const flat = compileFlat(entries, opts, new NameCache(), affinity);
      const rs = compileRuleset(entries, opts, new NameCache(), new FrozenAffinity(affinity));
      const ref = compileProgram(rs);
      t.true(flat.dyns.length > 0 && flat.ranges.length > 0, 'affinity sets and source ranges');
      const maps = new Set(rs.sets.filter((s) => s.isMap).map((s) => s.table));
      t.is(maps.size, 5);
      assertSame(t, flat, ref, maps);
    }
  });
}
