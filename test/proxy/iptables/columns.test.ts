// A sync writes service rules as integer columns (column-writer.ts) and copies unchanged
// service ports' columns from the previous rule set; views write the same rules again as
// objects (rule-writer.ts). On random services both must agree: each rule's columns equal
// what its object encodes to, and a rule set built by copying equals one written afresh,
// column for column and in every view.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import type { Endpoint, EndpointSlice, Service } from '../../../src/api/types.ts';
import { u32ToIp } from '../../../src/packet/addr.ts';
import { seededRandom } from '../../../src/proxy/random.ts';
import { ServiceMap } from '../../../src/proxy/service-map.ts';
import { CompileCache } from '../../../src/proxy/iptables/compile-cache.ts';
import { compileRuleSet } from '../../../src/proxy/iptables/compile.ts';
import type { IptablesOptions } from '../../../src/proxy/iptables/compile.ts';
import { iptablesList } from '../../../src/proxy/iptables/list.ts';
import { RuleColumns, encodeRule } from '../../../src/proxy/iptables/rule-columns.ts';
import { TargetKind, restoreText } from '../../../src/proxy/iptables/rules.ts';
import type { RuleSet, Table } from '../../../src/proxy/iptables/rules.ts';
import { iptablesSave } from '../../../src/proxy/iptables/save.ts';
import { ruleAt } from '../../../src/proxy/iptables/table-rules.ts';
import { ep, makeService, makeSlice } from '../fixtures.ts';

const NODE = 'n1';
const OPTS: IptablesOptions = {
  nodeName: NODE,
  nodeIPs: ['10.0.100.11'],
  clusterCIDR: '10.244.0.0/16',
};

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const chance = (r: Rand, p: number) => r() < p;

/** Service i with random type, policies, affinity, addresses and ports. */
function randomService(r: Rand, i: number): Service {
  const type = pick(r, ['ClusterIP', 'ClusterIP', 'NodePort', 'LoadBalancer'] as const);
  const ports = Array.from({ length: 1 + Math.floor(r() * 2) }, (_, k) => ({
    name: `p${k}`,
    port: 80 + k,
    protocol: pick(r, ['TCP', 'TCP', 'UDP', 'SCTP'] as const),
    targetPort: 8080 + k,
    ...(type !== 'ClusterIP' ? { nodePort: 30000 + 2 * i + k } : {}),
  }));
  const lb = type === 'LoadBalancer';
  return makeService(
    'ns',
    `svc${i}`,
    {
      type,
      clusterIP: u32ToIp(0x0a600000 + 16 + i),
      ports,
      ...(chance(r, 0.2) ? { externalIPs: [u32ToIp(0xc0a80900 + i)] } : {}),
      ...(chance(r, 0.3)
        ? {
            sessionAffinity: 'ClientIP' as const,
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
          }
        : {}),
      ...(type !== 'ClusterIP' && chance(r, 0.4)
        ? { externalTrafficPolicy: 'Local' as const }
        : {}),
      ...(chance(r, 0.2) ? { internalTrafficPolicy: 'Local' as const } : {}),
      ...(lb && chance(r, 0.5)
        ? {
            loadBalancerSourceRanges: [
              '203.0.113.0/24',
              ...(chance(r, 0.5) ? ['10.0.100.0/24'] : []),
            ],
          }
        : {}),
      ...(lb && chance(r, 0.5) ? { healthCheckNodePort: 32000 + i } : {}),
    },
    lb ? { loadBalancer: { ingress: [{ ip: u32ToIp(0xc6336400 + i) }] } } : undefined,
  );
}

function randomSlice(r: Rand, svc: Service, gen: number, big = false): EndpointSlice {
  // big: past 16 chains a fragment's column writer finds them through maps.
  const n = big && chance(r, 0.5) ? 17 + Math.floor(r() * 30) : Math.floor(r() * 5);
  const eps: Endpoint[] = Array.from({ length: n }, (_, k) =>
    ep(
      u32ToIp(
        0x0af40000 + 256 * (svc.spec.clusterIP!.length + gen) + 16 * k + Math.floor(r() * 16),
      ),
      {
        nodeName: pick(r, [NODE, 'n2', 'n3']),
        ...(chance(r, 0.15)
          ? { conditions: { ready: false, serving: true, terminating: true } }
          : {}),
      },
    ),
  );
  return makeSlice(
    'ns',
    svc.metadata.name,
    `${svc.metadata.name}-a`,
    eps,
    svc.spec.ports.map((p) => ({ name: p.name!, port: 8080 + (gen % 3), protocol: p.protocol! })),
  );
}

/** What the evaluator reads of rule i of `t` (owner aside: it says where the rule came from). */
function columnsOf(c: RuleColumns, i: number): unknown {
  const ops = [];
  const end = c.opStart[i + 1]!;
  for (let k = c.opStart[i]!; k < end; k++) {
    ops.push([c.op[k], ...c.arg.subarray(4 * k, 4 * k + 4), c.inv[k], c.objects?.get(k)]);
  }
  return {
    hdr: [...c.hdr.subarray(4 * i, 4 * i + 4)],
    hflags: c.hflags[i],
    hproto: c.hproto[i],
    target: c.target[i],
    targA: c.target[i] === TargetKind.Jump ? 'jump' : c.targA[i],
    targB: c.targB[i],
    ops,
  };
}

function sameTables(t: ExecutionContext, a: RuleSet, b: RuleSet, what: string): void {
  for (const name of ['filter', 'nat'] as const) {
    const x: Table = a[name];
    const y: Table = b[name];
    t.is(x.size, y.size, `${what}: ${name} size`);
    t.deepEqual(x.chainName, y.chainName, `${what}: ${name} chains`);
    t.deepEqual([...x.chainFirst], [...y.chainFirst], `${what}: ${name} chain starts`);
    t.deepEqual([...x.chainEnd], [...y.chainEnd], `${what}: ${name} chain ends`);
    t.deepEqual([...x.references], [...y.references], `${what}: ${name} references`);
    for (const col of ['hdr', 'hflags', 'hproto', 'target', 'targA', 'targB', 'owner'] as const) {
      const n = col === 'hdr' ? 4 * x.size : x.size;
      t.deepEqual(
        [...x.cols[col].subarray(0, n)],
        [...y.cols[col].subarray(0, n)],
        `${what}: ${name} ${col}`,
      );
    }
    for (let i = 0; i < x.size; i++) {
      if (JSON.stringify(columnsOf(x.cols, i)) !== JSON.stringify(columnsOf(y.cols, i))) {
        t.fail(`${what}: ${name} rule ${i} differs`);
        break;
      }
    }
    t.is(iptablesList(a, name), iptablesList(b, name), `${what}: ${name} -nvL`);
  }
  t.is(iptablesSave(a), iptablesSave(b), `${what}: iptables-save`);
  t.is(restoreText(a), restoreText(b), `${what}: restore payload`);
}

for (const [seed, big] of [
  [1, false],
  [2, false],
  [3, false],
  [4, false],
  [5, false],
  [6, true],
  [7, true],
] as const) {
  test(`columns equal their rules' objects; copied rule sets equal fresh ones (seed ${seed}${big ? ', many endpoints' : ''})`, (t) => {
    const r = seededRandom(seed);
    const services = Array.from({ length: big ? 12 : 40 }, (_, i) => randomService(r, i));
    const slices = services.map((s) => randomSlice(r, s, 0, big));
    const map = new ServiceMap(NODE);
    for (const s of services) map.updateService(undefined, s);
    for (const s of slices) map.updateEndpointSlice(s, false);
    const cache = new CompileCache();
    let rs = compileRuleSet(map.snapshot().entries, OPTS, cache);

    // Each rule's columns are what its object (written again for views) encodes to.
    let checked = 0;
    for (const name of ['filter', 'nat'] as const) {
      const tb = rs[name];
      for (let i = 0; i < tb.size; i++) {
        const one = new RuleColumns(1, 4);
        const rule = ruleAt(tb, i);
        encodeRule(one, rule, 0, 0);
        t.deepEqual(columnsOf(tb.cols, i), columnsOf(one, 0), `${name} rule ${i}: ${rule.line}`);
        // A jump's chain index names the chain its object jumps to (KUBE-SEP names are
        // made only when asked, from the endpoint the column writer kept).
        if (rule.target.kind === TargetKind.Jump) {
          t.is(
            tb.chainName[tb.cols.targA[i]!],
            rule.target.chain,
            `${name} rule ${i}: ${rule.line}`,
          );
        }
        checked++;
      }
    }
    t.true(checked > 200, `${checked} rules checked`);

    // Rounds of changes: the cached build copies unchanged service ports' columns.
    for (let round = 1; round <= 4; round++) {
      for (let i = 0; i < services.length; i++) {
        if (!chance(r, 0.15)) continue;
        const next = randomSlice(r, services[i]!, round, big);
        map.updateEndpointSlice(next, false);
        slices[i] = next;
      }
      if (chance(r, 0.5)) {
        const i = Math.floor(r() * services.length);
        map.updateService(services[i], undefined);
      }
      const entries = map.snapshot().entries;
      const before = restoreText(rs);
      const next = compileRuleSet(entries, OPTS, cache);
      t.is(restoreText(rs), before, 'the previous rule set is left as it was');
      rs = next;
      sameTables(t, rs, compileRuleSet(entries, OPTS), `round ${round}`);
    }
  });
}
