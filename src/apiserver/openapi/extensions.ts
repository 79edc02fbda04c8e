// extensions/v1beta1, which Kubernetes stopped serving in 1.16 (Deployment, ReplicaSet) and
// 1.22 (Ingress), so no model or document of today has it: its schemas are made from the
// apps/v1, networking.k8s.io/v1 and autoscaling/v1 ones, renamed to
// io.k8s.api.extensions.v1beta1.* with the extensions/v1beta1 GVK, and reshaped as
// k8s.io/api's extensions/v1beta1 types are:
// - DeploymentSpec: `rollbackTo` (RollbackConfig{revision}); only `template` required;
// - ReplicaSetSpec: nothing required;
// - Scale: ScaleStatus.selector is a map, plus `targetSelector`;
// - IngressSpec{backend, ingressClassName, rules, tls};
//   IngressBackend{serviceName, servicePort (int-or-string), resource};
//   HTTPIngressPath{path, pathType, backend}, only `backend` required.
// The descriptions are the GA types' except for these fields, whose are k8s.io/api's
// extensions/v1beta1 doc comments.
import type { Schema } from './documents.ts';

const SCHEMA_REF = '#/components/schemas/';
const EXT = 'io.k8s.api.extensions.v1beta1.';

/** v1beta1 type ← the GA schema it is made from. */
const EXT_FROM: Record<string, string> = {
  Deployment: 'io.k8s.api.apps.v1.Deployment',
  DeploymentList: 'io.k8s.api.apps.v1.DeploymentList',
  DeploymentSpec: 'io.k8s.api.apps.v1.DeploymentSpec',
  DeploymentStatus: 'io.k8s.api.apps.v1.DeploymentStatus',
  DeploymentStrategy: 'io.k8s.api.apps.v1.DeploymentStrategy',
  DeploymentCondition: 'io.k8s.api.apps.v1.DeploymentCondition',
  RollingUpdateDeployment: 'io.k8s.api.apps.v1.RollingUpdateDeployment',
  ReplicaSet: 'io.k8s.api.apps.v1.ReplicaSet',
  ReplicaSetList: 'io.k8s.api.apps.v1.ReplicaSetList',
  ReplicaSetSpec: 'io.k8s.api.apps.v1.ReplicaSetSpec',
  ReplicaSetStatus: 'io.k8s.api.apps.v1.ReplicaSetStatus',
  ReplicaSetCondition: 'io.k8s.api.apps.v1.ReplicaSetCondition',
  Scale: 'io.k8s.api.autoscaling.v1.Scale',
  ScaleSpec: 'io.k8s.api.autoscaling.v1.ScaleSpec',
  ScaleStatus: 'io.k8s.api.autoscaling.v1.ScaleStatus',
  Ingress: 'io.k8s.api.networking.v1.Ingress',
  IngressList: 'io.k8s.api.networking.v1.IngressList',
  IngressSpec: 'io.k8s.api.networking.v1.IngressSpec',
  IngressBackend: 'io.k8s.api.networking.v1.IngressBackend',
  IngressRule: 'io.k8s.api.networking.v1.IngressRule',
  HTTPIngressRuleValue: 'io.k8s.api.networking.v1.HTTPIngressRuleValue',
  HTTPIngressPath: 'io.k8s.api.networking.v1.HTTPIngressPath',
  IngressTLS: 'io.k8s.api.networking.v1.IngressTLS',
  IngressStatus: 'io.k8s.api.networking.v1.IngressStatus',
  IngressLoadBalancerStatus: 'io.k8s.api.networking.v1.IngressLoadBalancerStatus',
  IngressLoadBalancerIngress: 'io.k8s.api.networking.v1.IngressLoadBalancerIngress',
  IngressPortStatus: 'io.k8s.api.networking.v1.IngressPortStatus',
};
const RENAMED = new Map(Object.entries(EXT_FROM).map(([ext, from]) => [from, EXT + ext]));
const GA_GROUPS = ['apps', 'networking.k8s.io', 'autoscaling'];

/** A deep copy with the $refs and GVKs of the renamed types moved to extensions/v1beta1. */
function toExt(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toExt);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, child] of Object.entries(v)) {
    if (k === '$ref' && typeof child === 'string') {
      out[k] =
        SCHEMA_REF +
        (RENAMED.get(child.slice(SCHEMA_REF.length)) ?? child.slice(SCHEMA_REF.length));
    } else if (k === 'x-kubernetes-group-version-kind' && Array.isArray(child)) {
      out[k] = (child as { group: string; kind: string; version: string }[]).map((g) =>
        GA_GROUPS.includes(g.group) ? { group: 'extensions', kind: g.kind, version: 'v1beta1' } : g,
      );
    } else out[k] = toExt(child);
  }
  return out;
}

const refProp = (name: string, description: string): Schema => ({
  allOf: [{ $ref: SCHEMA_REF + name }],
  description,
});

function sortKeys(o: Record<string, Schema>): Record<string, Schema> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );
}

/** The io.k8s.api.extensions.v1beta1.* schemas, made from the GA ones in `pool`. */
export function deriveExtensions(pool: Readonly<Record<string, Schema>>): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  for (const [name, from] of Object.entries(EXT_FROM)) {
    const s = pool[from];
    if (s === undefined) throw new Error(`extensions/v1beta1 ${name}: no ${from}`);
    out[EXT + name] = toExt(s) as Schema;
  }
  const props = (name: string): Record<string, Schema> => out[EXT + name]!.properties!;

  props('DeploymentSpec').rollbackTo = refProp(
    `${EXT}RollbackConfig`,
    'DEPRECATED. The config this deployment is rolling back to. Will be cleared after rollback is done.',
  );
  out[`${EXT}DeploymentSpec`]!.properties = sortKeys(props('DeploymentSpec'));
  out[`${EXT}DeploymentSpec`]!.required = ['template'];
  out[`${EXT}RollbackConfig`] = {
    description: 'DEPRECATED.',
    properties: {
      revision: {
        description: 'The revision to rollback to. If set to 0, rollback to the last revision.',
        format: 'int64',
        type: 'integer',
      },
    },
    type: 'object',
  };
  delete out[`${EXT}ReplicaSetSpec`]!.required;

  props('ScaleStatus').selector = {
    additionalProperties: { type: 'string' },
    description:
      'label query over pods that should match the replicas count. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    type: 'object',
  };
  props('ScaleStatus').targetSelector = {
    description:
      'label selector for pods that should match the replicas count. This is a serializated version of both map-based and more expressive set-based selectors. This is done to avoid introspection in the clients. The string will be in the same format as the query-param syntax. If the target type only supports map-based selectors, then this field will be empty. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
    type: 'string',
  };
  out[`${EXT}ScaleStatus`]!.properties = sortKeys(props('ScaleStatus'));

  const spec = { ...props('IngressSpec') };
  delete spec.defaultBackend;
  spec.backend = refProp(
    `${EXT}IngressBackend`,
    "A default backend capable of servicing requests that don't match any rule. At least one of 'backend' or 'rules' must be specified. This field is optional to allow the loadbalancer controller or defaulting logic to specify a global default.",
  );
  out[`${EXT}IngressSpec`]!.properties = sortKeys(spec);
  out[`${EXT}IngressBackend`] = {
    description: 'IngressBackend describes all endpoints for a given service and port.',
    properties: {
      resource: refProp(
        'io.k8s.api.core.v1.TypedLocalObjectReference',
        'Resource is an ObjectRef to another Kubernetes resource in the namespace of the Ingress object. If resource is specified, serviceName and servicePort must not be specified.',
      ),
      serviceName: { description: 'Specifies the name of the referenced service.', type: 'string' },
      servicePort: refProp(
        'io.k8s.apimachinery.pkg.util.intstr.IntOrString',
        'Specifies the port of the referenced service.',
      ),
    },
    type: 'object',
  };
  props('HTTPIngressPath').backend = refProp(
    `${EXT}IngressBackend`,
    'Backend defines the referenced service endpoint to which the traffic will be forwarded to.',
  );
  out[`${EXT}HTTPIngressPath`]!.required = ['backend'];
  return out;
}
