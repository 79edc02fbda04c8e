// The lab's names: devices fit IFNAMSIZ, everything carries the prefix, and cleanup
// matches only what a lab with that prefix makes (another lab's names are left alone).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isLabDevice, isLabNetns } from '../../src/lab/cleanup.ts';
import { clientAddress } from '../../src/lab/daemon.ts';
import {
  checkPrefix,
  clientNetns,
  deviceName,
  devicePrefix,
  externalNetns,
  nodeNetns,
  podNetns,
} from '../../src/lab/names.ts';
import { manifestsOf, netnsFor } from '../../src/cli/lab.ts';

test('device names fit in 15 characters and start with the (short) prefix', (t) => {
  for (const prefix of ['svl-', 'svl-t123456-', 'a', 'a-very-long-prefix-for-a-lab-']) {
    for (const ns of [
      podNetns(prefix, 'default', 'myapp-deploy-7f6559c-nzdb8'),
      clientNetns(prefix),
    ]) {
      const dev = deviceName(prefix, ns);
      t.true(dev.length <= 15, dev);
      t.true(dev.startsWith(devicePrefix(prefix)));
      t.true(isLabDevice(prefix, dev));
    }
  }
  t.is(devicePrefix('svl-'), 'svl-');
  t.regex(devicePrefix('svl-t123456-'), /^sv[0-9a-f]{4}-$/);
  t.not(deviceName('svl-', 'svl-client'), deviceName('svl-', 'svl-external'));
});

test("cleanup matches this lab's namespaces and devices only", (t) => {
  t.true(isLabNetns('svl-', clientNetns('svl-')));
  t.true(isLabNetns('svl-', externalNetns('svl-')));
  t.true(isLabNetns('svl-', nodeNetns('svl-', 'k8s-node01')));
  t.true(isLabNetns('svl-', podNetns('svl-', 'default', 'x')));
  // Another lab whose prefix extends this one.
  t.false(isLabNetns('svl-', clientNetns('svl-t42-')));
  t.false(isLabNetns('svl-', podNetns('svl-t42-', 'default', 'x')));
  t.false(isLabNetns('svl-', 'svl-something-else'));
  t.false(isLabDevice('svl-', deviceName('svl-t42-', 'svl-t42-client')));
  t.false(isLabDevice('svl-', 'svl-eth0'));
});

test('prefixes are checked', (t) => {
  t.is(checkPrefix('svl-'), 'svl-');
  t.throws(() => checkPrefix('../etc'));
  t.throws(() => checkPrefix(''));
  t.throws(() => checkPrefix('x'.repeat(40)));
});

test("the client's address is the last host of its node's pod CIDR", (t) => {
  t.is(clientAddress('10.244.1.0/24'), '10.244.1.254');
});

test('lab exec names: pods by name or namespace/name, client, external, nodes', (t) => {
  const hosts = [
    { kind: 'client' as const, name: 'client', netns: 'svl-client', dev: 'd', ip: '' },
    { kind: 'node' as const, name: 'k8s-node01', netns: 'svl-node-k8s-node01', dev: 'd', ip: '' },
    {
      kind: 'pod' as const,
      name: 'coredns-1',
      namespace: 'kube-system',
      netns: 'svl-pod-kube-system-coredns-1',
      dev: 'd',
      ip: '',
    },
  ];
  t.is(netnsFor({ hosts }, 'client'), 'svl-client');
  t.is(netnsFor({ hosts }, 'k8s-node01'), 'svl-node-k8s-node01');
  t.is(netnsFor({ hosts }, 'coredns-1'), 'svl-pod-kube-system-coredns-1');
  t.is(netnsFor({ hosts }, 'kube-system/coredns-1'), 'svl-pod-kube-system-coredns-1');
  t.is(netnsFor({ hosts }, 'nope'), undefined);
});

test('a scenario file stands for the manifests it applies', (t) => {
  const files = manifestsOf(['scenarios/seed/01-clusterip.yaml']);
  t.true(files.some((f) => f.endsWith('scenarios/seed/manifests/svc-deployment.yaml')));
  t.true(files.some((f) => f.endsWith('scenarios/seed/manifests/svc.yaml')));
  t.deepEqual(manifestsOf(['scenarios/seed/manifests/svc.yaml']), [
    'scenarios/seed/manifests/svc.yaml',
  ]);
});

test("a scenario's `kubectl create secret` runs become Secret manifests in the state dir", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'svl-secrets-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const files = manifestsOf(['scenarios/seed/08-ingress-https.yaml'], dir);
  // `kubectl apply -f A -f B`: both.
  t.true(files.some((f) => f.endsWith('manifests/ingress/mandatory.yaml')));
  t.true(files.some((f) => f.endsWith('manifests/ingress/service-nodeport.yaml')));
  const secretFile = files.find((f) => f.startsWith(dir));
  t.truthy(secretFile, files.join(' '));
  const doc = parseYaml(readFileSync(secretFile!, 'utf8')) as {
    kind: string;
    type: string;
    metadata: { name: string };
    data: Record<string, string>;
  };
  t.is(doc.kind, 'Secret');
  t.is(doc.type, 'kubernetes.io/tls');
  t.is(doc.metadata.name, 'tls-secret');
  t.is(
    doc.data['tls.crt'],
    readFileSync('scenarios/seed/manifests/https/tls.crt').toString('base64'),
  );
  const auth = manifestsOf(['scenarios/seed/09-ingress-basic-auth.yaml'], dir).find((f) =>
    f.startsWith(dir),
  );
  const authDoc = parseYaml(readFileSync(auth!, 'utf8')) as { data: Record<string, string> };
  t.deepEqual(Object.keys(authDoc.data), ['auth']);
});
