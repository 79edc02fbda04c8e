// The strategic-merge-patch metadata of the kinds svclab serves: the Go struct tags
// `patchStrategy:"…" patchMergeKey:"…"` of k8s.io/api (core/v1, apps/v1, batch/v1,
// policy/v1, networking/v1, discovery/v1; the beta versions carry the same tags) and of
// k8s.io/apimachinery's ObjectMeta, transcribed struct by struct.
//
// Each struct lists only the fields that carry tags or lead to a struct that does.
// A field not listed has no strategy: objects merge key by key and lists are replaced
// whole (what kube-apiserver does for the untagged, "atomic" lists: tolerations,
// Endpoints subsets, EndpointSlice endpoints and ports, every list in Ingress and
// NetworkPolicy, Service loadBalancer ingress, Node taints, …).

export interface FieldPatchMeta {
  /** The patchStrategy tag split on commas: 'merge', 'retainKeys', 'replace'. */
  readonly strategies?: readonly string[];
  /** The patchMergeKey tag: the field that identifies an element of a merged list of objects. */
  readonly mergeKey?: string;
  /** The struct type of the field's value (of each element, for a list), when it is in the table. */
  readonly type?: string;
}

export type StructPatchMeta = Readonly<Record<string, FieldPatchMeta>>;
export type PatchTypeTable = Readonly<Record<string, StructPatchMeta>>;

/** A place in a type table: the struct whose fields are being merged (undefined: unknown). */
export interface PatchSchema {
  readonly types: PatchTypeTable;
  readonly type: string | undefined;
}

const merge = (mergeKey?: string, type?: string): FieldPatchMeta => ({
  strategies: ['merge'],
  ...(mergeKey !== undefined ? { mergeKey } : {}),
  ...(type !== undefined ? { type } : {}),
});
const mergeRetainKeys = (mergeKey: string, type?: string): FieldPatchMeta => ({
  ...merge(mergeKey, type),
  strategies: ['merge', 'retainKeys'],
});
const of = (type: string): FieldPatchMeta => ({ type });
const conditions = merge('type');

/** Kubernetes structs, by their Go names (kinds are structs named as the kind). */
export const KUBERNETES_PATCH_TYPES: PatchTypeTable = {
  // k8s.io/apimachinery/pkg/apis/meta/v1
  ObjectMeta: {
    ownerReferences: merge('uid'),
    finalizers: merge(), // a list of strings merged as a set
  },

  // core/v1
  PodTemplateSpec: { metadata: of('ObjectMeta'), spec: of('PodSpec') },
  PodSpec: {
    volumes: mergeRetainKeys('name'),
    initContainers: merge('name', 'Container'),
    containers: merge('name', 'Container'),
    ephemeralContainers: merge('name', 'Container'), // EphemeralContainerCommon: Container's tags
    imagePullSecrets: merge('name'),
    hostAliases: merge('ip'),
    topologySpreadConstraints: merge('topologyKey'),
    schedulingGates: merge('name'),
    resourceClaims: mergeRetainKeys('name'),
  },
  Container: {
    ports: merge('containerPort'),
    env: merge('name'),
    volumeMounts: merge('mountPath'),
    volumeDevices: merge('devicePath'),
  },
  PodStatus: {
    conditions,
    hostIPs: merge('ip'),
    podIPs: merge('ip'),
    resourceClaimStatuses: mergeRetainKeys('name'),
    // containerStatuses, initContainerStatuses, ephemeralContainerStatuses: untagged
    // (replaced), so ContainerStatus's own tags never come into play.
  },
  Pod: { metadata: of('ObjectMeta'), spec: of('PodSpec'), status: of('PodStatus') },
  PodTemplate: { metadata: of('ObjectMeta'), template: of('PodTemplateSpec') },
  ReplicationController: {
    metadata: of('ObjectMeta'),
    spec: of('ReplicationControllerSpec'),
    status: of('ConditionsStatus'),
  },
  ReplicationControllerSpec: { template: of('PodTemplateSpec') },
  ServiceSpec: { ports: merge('port') },
  Service: { metadata: of('ObjectMeta'), spec: of('ServiceSpec'), status: of('ConditionsStatus') },
  ServiceAccount: { metadata: of('ObjectMeta'), secrets: merge('name') },
  Endpoints: { metadata: of('ObjectMeta') },
  NodeSpec: { podCIDRs: merge() },
  NodeStatus: { conditions, addresses: merge('type') },
  Node: { metadata: of('ObjectMeta'), spec: of('NodeSpec'), status: of('NodeStatus') },
  Namespace: { metadata: of('ObjectMeta'), status: of('ConditionsStatus') },
  ConfigMap: { metadata: of('ObjectMeta') },
  Secret: { metadata: of('ObjectMeta') },
  Event: { metadata: of('ObjectMeta') },
  /** Every status whose only tagged field is `conditions` (by type). */
  ConditionsStatus: { conditions },

  // apps/v1 (v1beta1, v1beta2 and extensions/v1beta1 carry the same tags)
  Deployment: {
    metadata: of('ObjectMeta'),
    spec: of('DeploymentSpec'),
    status: of('ConditionsStatus'),
  },
  DeploymentSpec: { template: of('PodTemplateSpec'), strategy: { strategies: ['retainKeys'] } },
  ReplicaSet: {
    metadata: of('ObjectMeta'),
    spec: of('TemplateSpec'),
    status: of('ConditionsStatus'),
  },
  StatefulSet: {
    metadata: of('ObjectMeta'),
    spec: of('TemplateSpec'),
    status: of('ConditionsStatus'),
  },
  DaemonSet: {
    metadata: of('ObjectMeta'),
    spec: of('TemplateSpec'),
    status: of('ConditionsStatus'),
  },
  /** ReplicaSetSpec, StatefulSetSpec, DaemonSetSpec, JobSpec: the pod template. */
  TemplateSpec: { template: of('PodTemplateSpec') },

  // batch/v1
  Job: { metadata: of('ObjectMeta'), spec: of('TemplateSpec'), status: of('ConditionsStatus') },
  CronJob: { metadata: of('ObjectMeta'), spec: of('CronJobSpec') },
  CronJobSpec: { jobTemplate: of('JobTemplateSpec') },
  JobTemplateSpec: { metadata: of('ObjectMeta'), spec: of('TemplateSpec') },

  // policy/v1
  PodDisruptionBudget: {
    metadata: of('ObjectMeta'),
    spec: of('PodDisruptionBudgetSpec'),
    status: of('ConditionsStatus'),
  },
  PodDisruptionBudgetSpec: { selector: { strategies: ['replace'] } },

  // networking/v1, discovery/v1, autoscaling/v1: no tags below metadata.
  Ingress: { metadata: of('ObjectMeta') },
  IngressClass: { metadata: of('ObjectMeta') },
  NetworkPolicy: { metadata: of('ObjectMeta') },
  EndpointSlice: { metadata: of('ObjectMeta') },
  Scale: { metadata: of('ObjectMeta') },
};

/** The kinds with an entry of their own (other kinds: only plain merging). */
export const PATCH_KINDS: readonly string[] = [
  'Pod',
  'PodTemplate',
  'ReplicationController',
  'Service',
  'ServiceAccount',
  'Endpoints',
  'Node',
  'Namespace',
  'ConfigMap',
  'Secret',
  'Event',
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'PodDisruptionBudget',
  'Ingress',
  'IngressClass',
  'NetworkPolicy',
  'EndpointSlice',
  'Scale',
];

/** The schema at the top of an object of `kind`. */
export function schemaForKind(kind: string): PatchSchema {
  return {
    types: KUBERNETES_PATCH_TYPES,
    type: PATCH_KINDS.includes(kind) ? kind : undefined,
  };
}

/** The tags of `field` in the struct `schema` points at, and the schema below it. */
export function lookupField(
  schema: PatchSchema,
  field: string,
): { meta: FieldPatchMeta; sub: PatchSchema } {
  const struct = schema.type === undefined ? undefined : schema.types[schema.type];
  const meta =
    struct !== undefined && Object.prototype.hasOwnProperty.call(struct, field)
      ? (struct[field] ?? {})
      : {};
  return { meta, sub: { types: schema.types, type: meta.type } };
}

/**
 * The patch metadata at a field path of a kind, e.g.
 * `patchMetaAt('Deployment', 'spec.template.spec.containers.ports')` → merge by
 * containerPort. List elements are not named in the path. Undefined: no strategy.
 */
export function patchMetaAt(kind: string, path: string): FieldPatchMeta | undefined {
  let schema = schemaForKind(kind);
  let meta: FieldPatchMeta | undefined;
  for (const field of path.split('.')) {
    const r = lookupField(schema, field);
    meta = r.meta;
    schema = r.sub;
  }
  return meta?.strategies === undefined ? undefined : meta;
}

/**
 * Every tagged field path of a kind with its strategy (`merge`, `merge,retainKeys`, …)
 * and merge key: the table kube-apiserver consults, flattened.
 */
export function patchMetaTable(
  kind: string,
): Record<string, { strategy: string; mergeKey?: string }> {
  const out: Record<string, { strategy: string; mergeKey?: string }> = {};
  const walk = (type: string | undefined, prefix: string, depth: number): void => {
    const struct = type === undefined ? undefined : KUBERNETES_PATCH_TYPES[type];
    if (struct === undefined || depth > 20) return;
    for (const [field, meta] of Object.entries(struct)) {
      const path = prefix === '' ? field : `${prefix}.${field}`;
      if (meta.strategies !== undefined) {
        out[path] = {
          strategy: meta.strategies.join(','),
          ...(meta.mergeKey !== undefined ? { mergeKey: meta.mergeKey } : {}),
        };
      }
      walk(meta.type, path, depth + 1);
    }
  };
  walk(schemaForKind(kind).type, '', 0);
  return out;
}
