// `svclab trace` for a node's own packets and its result line, on the cluster the kernel
// differential test probes (test/kernel/fixtures/services.yaml). Each expectation here is
// what the real kernel did with the same packet (test/kernel/differential.test.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';

const F = ['-f', 'test/kernel/fixtures/services.yaml'];
const svclab = (...args: string[]) =>
  spawnSync('node', ['bin/svclab.js', ...args], { encoding: 'utf8' });
const result = (out: string) => out.split('\n').find((l) => l.startsWith('result:')) ?? out;

test('a masquerade that keeps the address and draws a port says MASQUERADE, not "src unchanged"', (t) => {
  // k8s-master01 → the kubernetes Service, whose endpoint is the node's own :6443.
  const r = svclab('trace', ...F, '--from', '10.0.100.10', '--to', 'svc/kubernetes:443');
  t.is(r.status, 0, r.stderr);
  t.regex(
    result(r.stdout),
    /^result: LOCAL dst DNAT 10\.96\.0\.1:443 -> 10\.0\.100\.10:6443, src MASQUERADE 10\.0\.100\.10 -> 10\.0\.100\.10:\d+$/,
  );
  t.regex(
    r.stdout,
    /nat:KUBE-POSTROUTING:rule:\d+ .*MASQUERADE/,
    'POSTROUTING runs for a local destination',
  );
});

test("the node's own packet to its NodePort without endpoints is REJECTed in filter INPUT", (t) => {
  const r = svclab('trace', ...F, '--from', '10.0.100.11', '--to', '10.0.100.11:30084');
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^filter:KUBE-EXTERNAL-SERVICES:rule:\d+ .*REJECT/m);
  t.is(result(r.stdout), 'result: DROP (rule-reject)');
  t.regex(r.stdout, /node sent ICMP type 3 code 3 from 10\.0\.100\.11 to 10\.0\.100\.11/);
});

test('127.0.0.1 → ClusterIP: dropped by routing in nftables mode, DNATed and masqueraded in iptables mode', (t) => {
  const args = ['trace', ...F, '--node', 'k8s-node01', '--from', '127.0.0.1', '--to', 'svc/web:80'];
  const nft = svclab(...args, '--proxy-mode', 'nftables');
  t.is(nft.status, 0, nft.stderr);
  t.regex(nft.stdout, /via lo/);
  t.is(result(nft.stdout), 'result: DROP (route-localnet)');
  const ipt = svclab(...args, '--proxy-mode', 'iptables');
  t.is(ipt.status, 0, ipt.stderr);
  t.regex(
    result(ipt.stdout),
    /^result: FORWARD dst DNAT .* src MASQUERADE 127\.0\.0\.1 -> 10\.(0\.100\.11|244\.1\.1):\d+$/,
  );
});
