// The compiler builds service rules as typed objects directly (rule-writer.ts); each must
// be exactly what parsing its own restore line gives, for every kind of service port.
import test from 'ava';
import type { Rule } from '../../../src/proxy/iptables/rules.ts';
import { parseRuleArgs, tokenizeLine } from '../../../src/proxy/iptables/parse.ts';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import { ep, makeService, makeSlice, tcp } from '../fixtures.ts';

/** Every field the evaluator and the views read, as plain data. */
function fields(r: Rule): unknown {
  return {
    chain: r.chain,
    line: r.line,
    src: [r.src, r.srcMask, r.srcPrefix, r.srcInv],
    dst: [r.dst, r.dstMask, r.dstPrefix, r.dstInv],
    iface: [r.inIface, r.inInv, r.outIface, r.outInv],
    proto: [r.proto, r.protoInv],
    matches: r.matches.map((m) => ({ ...m })),
    target: { ...r.target },
  };
}

function proxier(affinity: boolean, localPolicy: boolean): IptablesProxier {
  const px = new IptablesProxier({
    nodeName: 'n1',
    nodeIPs: ['10.0.100.11'],
    clusterCIDR: '10.244.0.0/16',
  });
  const lb = makeService(
    'default',
    'lb',
    {
      type: 'LoadBalancer',
      clusterIP: '10.96.0.20',
      externalIPs: ['192.168.9.1'],
      ports: [
        { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 },
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53, nodePort: 30053 },
      ],
      loadBalancerSourceRanges: ['203.0.113.0/24', '10.0.100.0/24'],
      healthCheckNodePort: 32000,
      ...(affinity ? { sessionAffinity: 'ClientIP' as const } : {}),
      ...(localPolicy ? { externalTrafficPolicy: 'Local' as const } : {}),
    },
    { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
  );
  const none = makeService('default', 'none', {
    clusterIP: '10.96.0.21',
    externalIPs: ['192.168.9.2'],
    ports: [{ name: 'http', port: 81, protocol: 'TCP', targetPort: 8080 }],
  });
  px.onServiceAdd(lb);
  px.onServiceAdd(none);
  px.onEndpointSliceAdd(
    makeSlice(
      'default',
      'lb',
      'lb-1',
      [
        ep('10.244.1.10', { nodeName: 'n1' }),
        ep('10.244.2.10', { nodeName: 'n2' }),
        ep('10.244.3.3'),
      ],
      [tcp('http', 8080), { name: 'dns', port: 5353, protocol: 'UDP' }],
    ),
  );
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

for (const affinity of [false, true]) {
  for (const local of [false, true]) {
    test(`built rules equal their parsed restore lines (affinity ${affinity}, local ${local})`, (t) => {
      const rs = proxier(affinity, local).ruleSet;
      let n = 0;
      for (const table of [rs.filter, rs.nat]) {
        for (const r of table.rules) {
          t.deepEqual(fields(r), fields(parseRuleArgs(tokenizeLine(r.line))), r.line);
          n++;
        }
      }
      t.true(n > 30, `${n} rules checked`);
    });
  }
}
