import test from 'ava';
import { parseManifestText } from '../../src/api/load.ts';
import type { LoadOptions } from '../../src/api/options.ts';

/** Load `yaml` as `bad.yaml` and return every formatted error (none if it loads). */
function errorsOf(yaml: string, opts: LoadOptions = {}): string[] {
  const r = parseManifestText(yaml, 'bad.yaml', opts);
  return r.ok ? [] : r.errors.map((e) => e.format());
}

const deployment = (
  selector: string,
  labels: string,
  container = '- {name: web, image: nginx}',
): string =>
  `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: ${selector}
  template:
    metadata:
      labels: ${labels}
    spec:
      containers:
      ${container}
`;

const DNS1035 =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const cases: { name: string; yaml: string; want: string[]; opts?: LoadOptions }[] = [
  {
    name: 'port out of range',
    yaml: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 70000
`,
    want: [
      'bad.yaml:7:11 spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive',
      // targetPort defaults to port, so it is reported too, at the port it came from.
      'bad.yaml:7:11 spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ],
  },
  {
    name: 'Service name must be a DNS-1035 label',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: 1web\nspec:\n  ports: [{port: 80}]\n',
    want: [`bad.yaml:4:9 metadata.name: Invalid value: "1web": ${DNS1035}`],
  },
  {
    name: 'Service name too long',
    yaml: `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${'a'.repeat(64)}\nspec:\n  ports: [{port: 80}]\n`,
    want: [
      `bad.yaml:4:9 metadata.name: Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
    ],
  },
  {
    name: 'Deployment name must be a DNS-1123 subdomain',
    yaml: deployment('{app: web}', '{app: web}').replace('name: web\nspec', 'name: Web_1\nspec'),
    want: [`bad.yaml:4:9 metadata.name: Invalid value: "Web_1": ${SUBDOMAIN}`],
  },
  {
    name: 'targetPort name: IANA_SVC_NAME rules',
    yaml: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: "8080"
  - port: 81
    targetPort: very-long-port-name
`,
    want: [
      'bad.yaml:7:5 spec.ports[0].name: Required value',
      'bad.yaml:8:17 spec.ports[0].targetPort: Invalid value: "8080": must contain at least one letter (a-z)',
      'bad.yaml:9:5 spec.ports[1].name: Required value',
      'bad.yaml:10:17 spec.ports[1].targetPort: Invalid value: "very-long-port-name": must be no more than 15 characters',
    ],
  },
  {
    name: 'duplicate port and duplicate port name',
    yaml: `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - name: http
    port: 80
  - name: http
    port: 80
  - name: dns
    port: 80
    protocol: UDP
`,
    want: [
      'bad.yaml:9:11 spec.ports[1].name: Duplicate value: "http"',
      'bad.yaml:9:5 spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ],
  },
  {
    name: 'ports required for ClusterIP',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n',
    want: ['bad.yaml:5:1 spec.ports: Required value'],
  },
  {
    name: 'headless and ExternalName need no ports',
    yaml: `apiVersion: v1
kind: Service
metadata: {name: a}
spec: {clusterIP: None}
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec: {type: ExternalName, externalName: db.example.com.}
`,
    want: [],
  },
  {
    name: 'ExternalName needs a DNS name',
    yaml: `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  type: ExternalName
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  type: ExternalName
  externalName: Not_A_Host
  clusterIP: 10.96.0.9
`,
    want: [
      'bad.yaml:4:1 spec.externalName: Required value',
      'bad.yaml:13:14 spec.clusterIPs: Forbidden: may not be set for ExternalName services',
      `bad.yaml:12:17 spec.externalName: Invalid value: "Not_A_Host": ${SUBDOMAIN}`,
    ],
  },
  {
    name: 'nodePort outside the range, and on a ClusterIP Service',
    yaml: `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  type: NodePort
  ports:
  - port: 80
    nodePort: 8080
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  ports:
  - port: 80
    nodePort: 30080
`,
    want: [
      'bad.yaml:8:15 spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767',
      "bad.yaml:16:15 spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ],
  },
  {
    name: 'nodePort range from options',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n  ports: [{port: 80, nodePort: 30080}]\n',
    opts: { nodePortRange: '20000-22767' },
    want: [
      'bad.yaml:6:32 spec.ports[0].nodePort: Invalid value: 30080: provided port is not in the valid range. The range of valid ports is 20000-22767',
    ],
  },
  {
    name: 'clusterIP outside the service CIDR, and malformed',
    yaml: `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  clusterIP: 10.0.0.5
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  clusterIP: 10.96.0.300
  ports: [{port: 80}]
`,
    want: [
      'bad.yaml:5:14 spec.clusterIPs: Invalid value: []string{"10.0.0.5"}: failed to allocate IP 10.0.0.5: the provided IP (10.0.0.5) is not in the valid range. The range of valid IPs is 10.96.0.0/12',
      'bad.yaml:12:14 spec.clusterIPs[0]: Invalid value: "10.96.0.300": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    ],
  },
  {
    name: 'service CIDR from options',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  clusterIP: 10.96.0.10\n  ports: [{port: 53, protocol: UDP}]\n',
    opts: { serviceCidr: '172.20.0.0/16' },
    want: [
      'bad.yaml:5:14 spec.clusterIPs: Invalid value: []string{"10.96.0.10"}: failed to allocate IP 10.96.0.10: the provided IP (10.96.0.10) is not in the valid range. The range of valid IPs is 172.20.0.0/16',
    ],
  },
  {
    name: 'headless NodePort',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: NodePort\n  clusterIP: None\n  ports: [{port: 80}]\n',
    want: [
      `bad.yaml:6:14 spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`,
    ],
  },
  {
    name: 'unsupported protocol, type and affinity timeout',
    yaml: `apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  type: Loadbalancer
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 90000}}
  ports:
  - port: 80
    protocol: HTTP
`,
    want: [
      'bad.yaml:10:15 spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
      'bad.yaml:7:54 spec.sessionAffinityConfig.clientIP.timeoutSeconds: Invalid value: 90000: must be greater than 0 and less than 86400',
      'bad.yaml:5:9 spec.type: Unsupported value: "Loadbalancer": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ],
  },
  {
    name: 'Deployment selector does not match template labels',
    yaml: deployment('{app: web}', '{app: api, tier: backend}'),
    want: [
      'bad.yaml:10:7 spec.template.metadata.labels: Invalid value: map[string]string{"app":"api", "tier":"backend"}: `selector` does not match template `labels`',
    ],
  },
  {
    name: 'Deployment with an empty selector',
    yaml: deployment('{}', '{app: web}'),
    want: [
      'bad.yaml:6:3 spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ],
  },
  {
    name: 'apps/v1 Deployment without a selector',
    yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n',
    want: [
      'bad.yaml:4:1 spec.selector: Required value',
      'bad.yaml:6:16 spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
    ],
  },
  {
    name: 'an invalid selector skips the template checks',
    yaml: deployment('{app: web}', '{}').replace(
      'matchLabels: {app: web}',
      'matchExpressions: [{key: tier, operator: Near}]',
    ),
    want: [
      'bad.yaml:7:46 spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator',
      'bad.yaml:6:3 spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"tier", Operator:"Near", Values:[]string(nil)}}}: invalid label selector',
    ],
  },
  {
    name: 'containers and image required',
    yaml: `${deployment('{app: web}', '{app: web}', '- name: web')}---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers: []
`,
    want: [
      'bad.yaml:13:9 spec.template.spec.containers[0].image: Required value',
      'bad.yaml:19:3 spec.containers: Required value',
    ],
  },
  {
    name: 'container port range and restart policy in a template',
    yaml: deployment(
      '{app: web}',
      '{app: web}',
      '- {name: web, image: nginx, ports: [{containerPort: 0}, {containerPort: 99999}]}\n      restartPolicy: Never',
    ),
    want: [
      'bad.yaml:13:59 spec.template.spec.containers[0].ports[0].containerPort: Required value',
      'bad.yaml:13:79 spec.template.spec.containers[0].ports[1].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive',
      'bad.yaml:14:22 spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    ],
  },
  {
    name: 'unknown apiVersion and unknown kind',
    yaml: 'apiVersion: apps/v2\nkind: Deployment\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Gizmo\nmetadata: {name: b}\n---\nkind: Service\n',
    want: [
      'bad.yaml:1:13 apiVersion: no matches for kind "Deployment" in version "apps/v2"',
      'bad.yaml:6:7 kind: no matches for kind "Gizmo" in version "v1"',
      'bad.yaml:9:1 apiVersion: Required value',
    ],
  },
  {
    name: 'wrong JSON types, as the decoder reports them',
    yaml: `apiVersion: v1
kind: Service
metadata:
  name: a
  labels: {version: 1.0}
spec:
  ports: {port: 80}
`,
    want: [
      'bad.yaml:5:21 metadata.labels[version]: Invalid value: 1: must be a string',
      'bad.yaml:7:3 spec.ports: Invalid value: {"port":80}: must be a list',
    ],
  },
  {
    name: 'Ingress v1: pathType required, backend port, IP host',
    yaml: `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - host: 10.0.100.10
    http:
      paths:
      - path: /
        backend:
          service:
            name: web
            port: {number: 80}
      - path: api
        pathType: Prefix
        backend:
          service: {name: web}
`,
    want: [
      'bad.yaml:6:11 spec.rules[0].host: Invalid value: "10.0.100.10": must be a DNS name, not an IP address',
      'bad.yaml:9:9 spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
      'bad.yaml:14:15 spec.rules[0].http.paths[1].path: Invalid value: "api": must be an absolute path',
      'bad.yaml:17:11 spec.rules[0].http.paths[1].backend: Required value: port name or number is required',
    ],
  },
  {
    name: 'Ingress v1beta1: errors point at serviceName / servicePort',
    yaml: `apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: i}
spec:
  rules:
  - http:
      paths:
      - backend:
          serviceName: Web
          servicePort: 0
`,
    want: [
      `bad.yaml:9:24 spec.rules[0].http.paths[0].backend.service.name: Invalid value: "Web": ${DNS1035}`,
      'bad.yaml:10:24 spec.rules[0].http.paths[0].backend: Required value: port name or number is required',
    ],
  },
  {
    name: 'Ingress with neither rules nor backend',
    yaml: 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: i}\nspec: {}\n',
    want: [
      'bad.yaml:4:1 spec: Invalid value: []networking.IngressRule(nil): either `backend` or `rules` must be specified',
    ],
  },
  {
    name: 'label key and value',
    yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels:\n    "a/b/c": x\n    ok: "-bad-"\n',
    want: [
      "bad.yaml:6:14 metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
      "bad.yaml:7:9 metadata.labels: Invalid value: \"-bad-\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    ],
  },
  {
    name: 'TLS Secret needs tls.crt and tls.key',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: tls-secret}\ntype: kubernetes.io/tls\nstringData: {tls.crt: cert}\n',
    want: ['bad.yaml:1:1 data[tls.key]: Required value'],
  },
  {
    name: 'YAML syntax error',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels: {a: b\n',
    want: [
      'bad.yaml:6:1: Flow map in block collection must be sufficiently indented and end with a }',
    ],
  },
  {
    name: 'a document that is not an object',
    yaml: '- just\n- a list\n',
    want: [
      'bad.yaml:1:1: expected a Kubernetes object (a mapping with apiVersion and kind), got a list',
    ],
  },
  {
    name: 'Endpoints: loopback address and missing addresses',
    yaml: `apiVersion: v1
kind: Endpoints
metadata: {name: e}
subsets:
- addresses: [{ip: 127.0.0.1}]
  ports: [{port: 80}]
- ports: [{port: 81}]
`,
    want: [
      'bad.yaml:5:20 subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
      'bad.yaml:7:3 subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`',
    ],
  },
];

for (const c of cases) {
  test(`validation: ${c.name}`, (t) => {
    t.deepEqual(errorsOf(c.yaml, c.opts), c.want);
  });
}

test('all errors of a file are reported, and nothing is applied', (t) => {
  const yaml = `apiVersion: v1
kind: Service
metadata: {name: ok}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: Bad}
spec: {ports: [{port: 0}]}
`;
  const r = parseManifestText(yaml, 'set.yaml');
  t.false(r.ok);
  if (r.ok) return;
  t.deepEqual(
    r.errors.map((e) => [e.file, e.line, e.column, e.path]),
    [
      ['set.yaml', 8, 18, 'metadata.name'],
      ['set.yaml', 9, 23, 'spec.ports[0].port'],
      ['set.yaml', 9, 23, 'spec.ports[0].targetPort'],
    ],
  );
  t.false('objects' in r);
});

test('a malformed CIDR or node port range in the options is the caller’s error', (t) => {
  t.throws(() => parseManifestText('', 'x.yaml', { serviceCidr: '10.96.0.0' }), {
    message: 'invalid service CIDR: "10.96.0.0"',
  });
  t.throws(() => parseManifestText('', 'x.yaml', { nodePortRange: '32767-30000' }), {
    message: 'invalid node port range: 32767-30000',
  });
});
