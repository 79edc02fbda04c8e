// Packet-flow tables run through the compiled rules (kube-proxy's runPacketFlowTests
// cases, v1.28, plus svclab's own): DNAT target or REJECT/DROP, masqueraded or not.
// The tables live in ../flow-cases.ts so every proxy mode runs the same ones.
import test from 'ava';
import { IptablesProxier } from '../../../src/proxy/iptables/proxier.ts';
import type { IptablesProxierOptions } from '../../../src/proxy/iptables/proxier.ts';
import { FLOW_SCENARIOS, expectedFor } from '../flow-cases.ts';
import type { FlowScenario } from '../flow-cases.ts';
import { checkFlow } from '../flow.ts';
import { runFlow } from './flow.ts';
import { FAKE_PROXIER_OPTIONS } from './kube-fixture.ts';

function proxier(s: FlowScenario): IptablesProxier {
  const { clusterCIDR, ...base } = FAKE_PROXIER_OPTIONS;
  const opts: IptablesProxierOptions = {
    ...base,
    ...(s.options?.noClusterCIDR === true || clusterCIDR === undefined ? {} : { clusterCIDR }),
    ...(s.options?.masqueradeAll === true ? { masqueradeAll: true } : {}),
  };
  const px = new IptablesProxier(opts);
  const { services, slices } = s.objects();
  for (const svc of services) px.onServiceAdd(svc);
  for (const slice of slices) px.onEndpointSliceAdd(slice);
  px.onServiceSynced();
  px.onEndpointSlicesSynced();
  px.sync();
  return px;
}

for (const s of FLOW_SCENARIOS) {
  for (const flow of s.flows) {
    test(`${s.title}: ${flow.name}`, (t) => {
      const f = expectedFor(flow, 'iptables');
      const got = runFlow(proxier(s), f);
      checkFlow(t, got, f);
    });
  }
}
