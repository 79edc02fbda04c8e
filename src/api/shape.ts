// The decode step: check that the fields svclab reads have the JSON types the
// API server's Go structs would accept (a string where a string goes, an int32
// where a port goes ...), and drop `null`s, which Go decodes as "unset".
// Unknown fields are left alone. Runs after conversion, before defaulting.

import { invalid } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import type { Kind } from './types.ts';

type Scalar = 'str' | 'int' | 'bool' | 'intstr' | 'any';
export type Shape = Scalar | { list: Shape } | { map: Shape } | { obj: Record<string, Shape> };

const list = (s: Shape): Shape => ({ list: s });
const map = (s: Shape): Shape => ({ map: s });
const obj = (fields: Record<string, Shape>): Shape => ({ obj: fields });

const strList = list('str');
const strMap = map('str');

const metadata = obj({
  name: 'str',
  generateName: 'str',
  namespace: 'str',
  labels: strMap,
  annotations: strMap,
  uid: 'str',
  resourceVersion: 'str',
  generation: 'int',
  ownerReferences: list(
    obj({ apiVersion: 'str', kind: 'str', name: 'str', uid: 'str', controller: 'bool' }),
  ),
});

const labelSelector = obj({
  matchLabels: strMap,
  matchExpressions: list(obj({ key: 'str', operator: 'str', values: strList })),
});

const container = obj({
  name: 'str',
  image: 'str',
  imagePullPolicy: 'str',
  command: strList,
  args: strList,
  workingDir: 'str',
  ports: list(
    obj({ name: 'str', containerPort: 'int', protocol: 'str', hostPort: 'int', hostIP: 'str' }),
  ),
  env: list(obj({ name: 'str', value: 'str' })),
});

const podSpec = obj({
  containers: list(container),
  initContainers: list(container),
  nodeName: 'str',
  hostname: 'str',
  subdomain: 'str',
  hostNetwork: 'bool',
  restartPolicy: 'str',
  dnsPolicy: 'str',
  terminationGracePeriodSeconds: 'int',
  nodeSelector: strMap,
  tolerations: list(
    obj({ key: 'str', operator: 'str', value: 'str', effect: 'str', tolerationSeconds: 'int' }),
  ),
});

const podTemplate = obj({ metadata, spec: podSpec });

const workloadSpec = obj({
  replicas: 'int',
  selector: labelSelector,
  template: podTemplate,
  minReadySeconds: 'int',
  revisionHistoryLimit: 'int',
  progressDeadlineSeconds: 'int',
  paused: 'bool',
  strategy: obj({
    type: 'str',
    rollingUpdate: obj({ maxSurge: 'intstr', maxUnavailable: 'intstr' }),
  }),
});

const targetRef = obj({ kind: 'str', name: 'str', namespace: 'str', uid: 'str' });
const endpointAddress = obj({ ip: 'str', hostname: 'str', nodeName: 'str', targetRef });
const endpointPort = obj({ name: 'str', port: 'int', protocol: 'str', appProtocol: 'str' });
const lbStatus = obj({ loadBalancer: obj({ ingress: list(obj({ ip: 'str', hostname: 'str' })) }) });

const objectReference = obj({
  kind: 'str',
  namespace: 'str',
  name: 'str',
  uid: 'str',
  apiVersion: 'str',
  resourceVersion: 'str',
  fieldPath: 'str',
});

const ingressBackend = obj({
  service: obj({ name: 'str', port: obj({ name: 'str', number: 'int' }) }),
  resource: obj({ apiGroup: 'str', kind: 'str', name: 'str' }),
});

const specs: Record<Kind, Record<string, Shape>> = {
  Namespace: { spec: obj({ finalizers: strList }), status: obj({ phase: 'str' }) },
  Node: {
    spec: obj({
      podCIDR: 'str',
      podCIDRs: strList,
      unschedulable: 'bool',
      taints: list(obj({ key: 'str', value: 'str', effect: 'str' })),
    }),
    status: obj({
      addresses: list(obj({ type: 'str', address: 'str' })),
      conditions: list(obj({ type: 'str', status: 'str' })),
    }),
  },
  Pod: {
    spec: podSpec,
    status: obj({
      phase: 'str',
      podIP: 'str',
      hostIP: 'str',
      conditions: list(obj({ type: 'str', status: 'str' })),
    }),
  },
  Deployment: { spec: workloadSpec },
  ReplicaSet: { spec: workloadSpec },
  Service: {
    spec: obj({
      type: 'str',
      selector: strMap,
      ports: list(
        obj({
          name: 'str',
          protocol: 'str',
          port: 'int',
          targetPort: 'intstr',
          nodePort: 'int',
          appProtocol: 'str',
        }),
      ),
      clusterIP: 'str',
      clusterIPs: strList,
      externalName: 'str',
      externalIPs: strList,
      loadBalancerIP: 'str',
      loadBalancerClass: 'str',
      loadBalancerSourceRanges: strList,
      sessionAffinity: 'str',
      sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: 'int' }) }),
      externalTrafficPolicy: 'str',
      internalTrafficPolicy: 'str',
      healthCheckNodePort: 'int',
      ipFamilies: strList,
      ipFamilyPolicy: 'str',
      publishNotReadyAddresses: 'bool',
      allocateLoadBalancerNodePorts: 'bool',
    }),
    status: lbStatus,
  },
  Endpoints: {
    subsets: list(
      obj({
        addresses: list(endpointAddress),
        notReadyAddresses: list(endpointAddress),
        ports: list(endpointPort),
      }),
    ),
  },
  EndpointSlice: {
    addressType: 'str',
    endpoints: list(
      obj({
        addresses: strList,
        conditions: obj({ ready: 'bool', serving: 'bool', terminating: 'bool' }),
        hostname: 'str',
        nodeName: 'str',
        zone: 'str',
        targetRef,
      }),
    ),
    ports: list(endpointPort),
  },
  Ingress: {
    spec: obj({
      ingressClassName: 'str',
      defaultBackend: ingressBackend,
      tls: list(obj({ hosts: strList, secretName: 'str' })),
      rules: list(
        obj({
          host: 'str',
          http: obj({
            paths: list(obj({ path: 'str', pathType: 'str', backend: ingressBackend })),
          }),
        }),
      ),
    }),
    status: lbStatus,
  },
  Secret: { type: 'str', data: strMap, stringData: strMap, immutable: 'bool' },
  ConfigMap: { data: strMap, binaryData: strMap, immutable: 'bool' },
  IngressClass: {
    spec: obj({
      controller: 'str',
      parameters: obj({
        apiGroup: 'str',
        kind: 'str',
        name: 'str',
        scope: 'str',
        namespace: 'str',
      }),
    }),
  },
  // Times are RFC 3339 strings in a manifest (defaulting turns them into virtual time).
  Event: {
    involvedObject: objectReference,
    related: objectReference,
    reason: 'str',
    message: 'str',
    source: obj({ component: 'str', host: 'str' }),
    firstTimestamp: 'any',
    lastTimestamp: 'any',
    eventTime: 'any',
    count: 'int',
    type: 'str',
    series: obj({ count: 'int', lastObservedTime: 'any' }),
    action: 'str',
    reportingComponent: 'str',
    reportingInstance: 'str',
  },
};

/** The shape of a whole object of `kind` (after conversion to its stored version). */
export function shapeOf(kind: Kind): Shape {
  return obj({ apiVersion: 'str', kind: 'str', metadata, ...specs[kind] });
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const INT32_MAX = 2147483647;

function scalarError(v: unknown, shape: Scalar): string | undefined {
  switch (shape) {
    case 'any':
      return undefined;
    case 'str':
      return typeof v === 'string' ? undefined : 'must be a string';
    case 'bool':
      return typeof v === 'boolean' ? undefined : 'must be a boolean';
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'must be an integer';
      return Math.abs(v) <= INT32_MAX ? undefined : 'must be a 32-bit integer';
    case 'intstr':
      if (typeof v === 'string') return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'must be an integer or a string';
      return Math.abs(v) <= INT32_MAX ? undefined : 'must be a 32-bit integer';
  }
}

/**
 * Check `value` against `shape`, collecting errors. Returns the value to keep:
 * `undefined` for a null (the caller deletes the field).
 */
export function checkShape(
  value: unknown,
  shape: Shape,
  path: FieldPath,
  errs: FieldError[],
): unknown {
  if (value === null || value === undefined) return undefined;
  if (typeof shape === 'string') {
    const e = scalarError(value, shape);
    if (e !== undefined) errs.push(invalid(path, value, e));
    return value;
  }
  if ('list' in shape) {
    if (!Array.isArray(value)) {
      errs.push(invalid(path, value, 'must be a list'));
      return value;
    }
    return value.map((item: unknown, i) => {
      // A bare `-` decodes as a zero-valued struct in Go.
      if (item === null && typeof shape.list === 'object' && 'obj' in shape.list) return {};
      if (item === null) {
        errs.push(invalid([...path, i], null, 'must not be null'));
        return item;
      }
      return checkShape(item, shape.list, [...path, i], errs);
    });
  }
  if (!isPlainObject(value)) {
    errs.push(invalid(path, value, 'must be an object'));
    return value;
  }
  if ('map' in shape) {
    for (const [k, v] of Object.entries(value)) {
      if (v === null) {
        // map[string]string{"k": null} decodes to "" in Go.
        if (shape.map === 'str') value[k] = '';
        continue;
      }
      checkShape(v, shape.map, [...path, { key: k }], errs);
    }
    return value;
  }
  for (const [k, fieldShape] of Object.entries(shape.obj)) {
    if (!(k in value)) continue;
    const kept = checkShape(value[k], fieldShape, [...path, k], errs);
    if (kept === undefined) delete value[k];
    else value[k] = kept;
  }
  return value;
}
