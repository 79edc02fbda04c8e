// The component schemas of the served v3 documents, cut down for kubectl 1.32, which parses
// the whole document of an object's group version for every object it applies
// (kubernetes/kubernetes#127095; cached from 1.34). What that costs is mostly the number of
// JSON objects (about 4 µs each on a loaded 2-core machine, more with a $ref or an x-
// extension), then the bytes (about 7 µs per KB). So:
// - the types svclab models (MODELLED: what src/api/shape.ts reads, and the kinds around
//   them) keep every field with its full description, and `kubectl explain` of them reads
//   as the API server's does (Container: its other fields by their first sentence);
// - a field whose type svclab does not model (affinity, securityContext, lifecycle, volume
//   sources …) becomes `{type: object}`, a free-form object, or a list or map of those,
//   described by its first sentence and "(svclab does not model this field.)";
// - below such a field only the fields that carry x-kubernetes-patch-strategy / -merge-key
//   stay (an ephemeral container's ports, env …), so kubectl apply merges those lists;
// - the SHAPED types (resources, probes, env sources, volumes), whose contents manifests
//   often change, keep their fields (first sentences): kubectl apply's patch has to find
//   every object, list or map field it compares on its way down, or it warns and falls back
//   to the v2 document.
// The full schemas (schemas.ts) still back the unknown-field check of fieldValidation=Strict
// and the v2 document.
import type { Schema } from './documents.ts';

const SCHEMA_REF = '#/components/schemas/';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const core = (name: string): string => `io.k8s.api.core.v1.${name}`;

/** Appended to the description of a field whose type is collapsed to `{type: object}`. */
export const NOT_MODELLED = '(svclab does not model this field.)';
/** Appended to the description of a SHAPED type. */
export const NOT_MODELLED_TYPE = '(svclab does not model this type.)';
/** Appended to the description of a SHAPED type of which only some fields are listed. */
export const NOT_MODELLED_SOME =
  '(svclab does not model this type; only its common fields are listed here.)';

/**
 * The types svclab models: kept whole. `true`: every field with its full description; a
 * list: those fields with their full description, the others with their first sentence.
 * Types without properties (Time, IntOrString, Quantity, FieldsV1 …) and the derived
 * extensions/v1beta1 types are kept too.
 */
const MODELLED: Readonly<Record<string, true | readonly string[]>> = {
  [`${META}ObjectMeta`]: true,
  [`${META}OwnerReference`]: true,
  [`${META}LabelSelector`]: true,
  [`${META}LabelSelectorRequirement`]: true,
  [`${META}Condition`]: true,

  [core('Pod')]: true,
  [core('PodSpec')]: true,
  [core('PodTemplateSpec')]: true,
  [core('Container')]: [
    'name',
    'image',
    'imagePullPolicy',
    'command',
    'args',
    'workingDir',
    'ports',
    'env',
  ],
  [core('ContainerPort')]: true,
  [core('EnvVar')]: true,
  [core('Toleration')]: true,
  [core('PodStatus')]: true,
  [core('PodCondition')]: true,

  [core('Service')]: true,
  [core('ServiceSpec')]: true,
  [core('ServicePort')]: true,
  [core('SessionAffinityConfig')]: true,
  [core('ClientIPConfig')]: true,
  [core('ServiceStatus')]: true,
  [core('LoadBalancerStatus')]: true,
  [core('LoadBalancerIngress')]: true,
  [core('PortStatus')]: true,

  [core('Endpoints')]: true,
  [core('EndpointSubset')]: true,
  [core('EndpointAddress')]: true,
  [core('EndpointPort')]: true,
  [core('ObjectReference')]: true,
  [core('TypedLocalObjectReference')]: true,

  [core('Namespace')]: true,
  [core('NamespaceSpec')]: true,
  [core('NamespaceStatus')]: true,
  [core('NamespaceCondition')]: true,
  [core('Node')]: true,
  [core('NodeSpec')]: true,
  [core('Taint')]: true,
  [core('NodeStatus')]: true,
  [core('NodeAddress')]: true,
  [core('NodeCondition')]: true,
  [core('NodeSystemInfo')]: true,

  [core('Secret')]: true,
  [core('ConfigMap')]: true,
  [core('Event')]: true,
  [core('EventSource')]: true,
  [core('EventSeries')]: true,

  'io.k8s.api.apps.v1.Deployment': true,
  'io.k8s.api.apps.v1.DeploymentSpec': true,
  'io.k8s.api.apps.v1.DeploymentStrategy': true,
  'io.k8s.api.apps.v1.RollingUpdateDeployment': true,
  'io.k8s.api.apps.v1.DeploymentStatus': true,
  'io.k8s.api.apps.v1.DeploymentCondition': true,
  'io.k8s.api.apps.v1.ReplicaSet': true,
  'io.k8s.api.apps.v1.ReplicaSetSpec': true,
  'io.k8s.api.apps.v1.ReplicaSetStatus': true,
  'io.k8s.api.apps.v1.ReplicaSetCondition': true,
  'io.k8s.api.autoscaling.v1.Scale': true,
  'io.k8s.api.autoscaling.v1.ScaleSpec': true,
  'io.k8s.api.autoscaling.v1.ScaleStatus': true,

  'io.k8s.api.discovery.v1.EndpointSlice': true,
  'io.k8s.api.discovery.v1.Endpoint': true,
  'io.k8s.api.discovery.v1.EndpointConditions': true,
  'io.k8s.api.discovery.v1.EndpointHints': true,
  'io.k8s.api.discovery.v1.EndpointPort': true,
  'io.k8s.api.discovery.v1.ForNode': true,
  'io.k8s.api.discovery.v1.ForZone': true,

  'io.k8s.api.events.v1.Event': true,
  'io.k8s.api.events.v1.EventSeries': true,

  'io.k8s.api.networking.v1.Ingress': true,
  'io.k8s.api.networking.v1.IngressSpec': true,
  'io.k8s.api.networking.v1.IngressBackend': true,
  'io.k8s.api.networking.v1.IngressServiceBackend': true,
  'io.k8s.api.networking.v1.ServiceBackendPort': true,
  'io.k8s.api.networking.v1.IngressRule': true,
  'io.k8s.api.networking.v1.HTTPIngressRuleValue': true,
  'io.k8s.api.networking.v1.HTTPIngressPath': true,
  'io.k8s.api.networking.v1.IngressTLS': true,
  'io.k8s.api.networking.v1.IngressStatus': true,
  'io.k8s.api.networking.v1.IngressLoadBalancerStatus': true,
  'io.k8s.api.networking.v1.IngressLoadBalancerIngress': true,
  'io.k8s.api.networking.v1.IngressPortStatus': true,
  'io.k8s.api.networking.v1.IngressClass': true,
  'io.k8s.api.networking.v1.IngressClassSpec': true,
  'io.k8s.api.networking.v1.IngressClassParametersReference': true,
};

/**
 * Unmodelled types whose contents manifests commonly change: served as components with
 * their fields (`true`: all of them; a list: `name` and those), described by their first
 * sentence, collapsed below unless listed here too. kubectl apply's strategic merge patch
 * has to find every object, list or map field it compares on its way down (a changed
 * `resources.limits` needs `limits` listed under `resources`); where it finds none it warns
 * ("unable to find api field") and makes the patch from the v2 document instead.
 */
const SHAPED: Readonly<Record<string, true | readonly string[]>> = {
  [core('ResourceRequirements')]: true,
  [core('Probe')]: true,
  [core('ExecAction')]: true,
  [core('HTTPGetAction')]: true,
  [core('EnvVarSource')]: true,
  [core('EnvFromSource')]: true,
  [core('Volume')]: [
    'configMap',
    'secret',
    'emptyDir',
    'hostPath',
    'persistentVolumeClaim',
    'projected',
    'downwardAPI',
  ],
};

const EXTENSIONS = 'io.k8s.api.extensions.v1beta1.';

/** Whether a component is served whole (modelled, or a type without fields). */
function isKept(pool: Readonly<Record<string, Schema>>, name: string): boolean {
  return (
    MODELLED[name] !== undefined ||
    SHAPED[name] !== undefined ||
    name.startsWith(EXTENSIONS) ||
    pool[name]?.properties === undefined
  );
}

const ABBREVIATIONS = /(?:\b(?:e\.g|i\.e|etc|vs|approx|incl)|\b[A-Z])\.$/;

/** The first sentence of a description (up to a full stop that ends a word, not `e.g.`). */
export function firstSentence(text: string): string {
  const re = /[.!?](?=\s+\S|$)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const upTo = text.slice(0, m.index + 1);
    if (!ABBREVIATIONS.test(upTo)) return upTo;
  }
  return text;
}

const isPatchTag = (key: string): boolean => key.startsWith('x-kubernetes-patch-');

/** The component a property's value is (or holds, through allOf, items, additionalProperties). */
function targetOf(p: Schema): string | undefined {
  if (p.$ref !== undefined) return p.$ref.slice(SCHEMA_REF.length);
  if (p.allOf?.length === 1) return targetOf(p.allOf[0]!);
  if (p.items !== undefined) return targetOf(p.items);
  if (typeof p.additionalProperties === 'object') return targetOf(p.additionalProperties);
  return undefined;
}

/** `p` with the $ref it holds (through allOf, items, additionalProperties) replaced by `by`. */
function replaceTarget(p: Schema, by: Schema): Schema {
  if (p.$ref !== undefined) return by;
  if (p.allOf?.length === 1) {
    const { allOf, ...rest } = p;
    return { ...replaceTarget(allOf[0]!, by), ...rest };
  }
  if (p.items !== undefined) return { ...p, items: replaceTarget(p.items, by) };
  if (typeof p.additionalProperties === 'object')
    return { ...p, additionalProperties: replaceTarget(p.additionalProperties, by) };
  return p;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(
    Object.keys(o)
      .sort()
      .map((k) => [k, o[k]!]),
  );
}

class Slimmer {
  private readonly tagged = new Map<string, boolean>();

  constructor(private readonly pool: Readonly<Record<string, Schema>>) {}

  /**
   * Whether an unmodelled type has, at any depth through unmodelled types, a field with
   * strategic-merge-patch tags (an ephemeral container's ports, env, volumeMounts …).
   */
  private hasTags(name: string, seen = new Set<string>()): boolean {
    const known = this.tagged.get(name);
    if (known !== undefined) return known;
    if (seen.has(name) || isKept(this.pool, name)) return false;
    seen.add(name);
    let found = false;
    for (const p of Object.values(this.pool[name]?.properties ?? {})) {
      const target = targetOf(p);
      if (Object.keys(p).some(isPatchTag) || (target !== undefined && this.hasTags(target, seen))) {
        found = true;
        break;
      }
    }
    this.tagged.set(name, found);
    return found;
  }

  /**
   * What stands for an unmodelled type: a free-form object, listing only the fields that
   * lead to strategic-merge-patch tags.
   */
  private collapsedType(name: string): Schema {
    const properties: Record<string, Schema> = {};
    for (const [field, p] of Object.entries(this.pool[name]!.properties ?? {})) {
      const target = targetOf(p);
      if (Object.keys(p).some(isPatchTag) || (target !== undefined && this.hasTags(target)))
        properties[field] = this.property(p, false);
    }
    return Object.keys(properties).length > 0 ? { properties, type: 'object' } : { type: 'object' };
  }

  /**
   * A field as served: its type's $ref kept when the type is, else collapsed; its
   * description in full or by its first sentence.
   */
  property(p: Schema, fullDescription: boolean): Schema {
    const target = targetOf(p);
    if (target === undefined || isKept(this.pool, target)) {
      if (fullDescription || p.description === undefined) return p;
      return { ...p, description: firstSentence(p.description) };
    }
    const own = p.description ?? this.pool[target]!.description;
    const text = own === undefined ? '' : firstSentence(own);
    const tags = Object.fromEntries(Object.entries(p).filter(([k]) => isPatchTag(k)));
    return sortKeys({
      ...replaceTarget(p, this.collapsedType(target)),
      description: text === '' ? NOT_MODELLED : `${text} ${NOT_MODELLED}`,
      ...tags,
    });
  }

  /** A component as served (a kept type, its fields slimmed where they lead elsewhere). */
  schema(name: string): Schema {
    const s = this.pool[name];
    if (s === undefined) throw new Error(`no component schema ${name}`);
    if (s.properties === undefined) return s;
    const shaped = SHAPED[name];
    if (shaped !== undefined) {
      const fields = shaped === true ? Object.keys(s.properties) : ['name', ...shaped];
      const properties: Record<string, Schema> = {};
      for (const field of fields) properties[field] = this.property(s.properties[field]!, false);
      const required = s.required?.filter((f) => fields.includes(f)) ?? [];
      const text = s.description === undefined ? '' : `${firstSentence(s.description)} `;
      return {
        description: `${text}${shaped === true ? NOT_MODELLED_TYPE : NOT_MODELLED_SOME}`,
        properties,
        ...(required.length > 0 ? { required } : {}),
        type: 'object',
      };
    }
    const modelled = MODELLED[name] ?? true;
    const properties: Record<string, Schema> = {};
    for (const [field, p] of Object.entries(s.properties))
      properties[field] = this.property(p, modelled === true || modelled.includes(field));
    return { ...s, properties };
  }
}

/** The names of the components `v` refers to. */
function refsIn(v: unknown, out: Set<string>): void {
  if (Array.isArray(v)) for (const c of v) refsIn(c, out);
  else if (typeof v === 'object' && v !== null) {
    for (const [k, child] of Object.entries(v)) {
      if (k === '$ref' && typeof child === 'string' && child.startsWith(SCHEMA_REF))
        out.add(child.slice(SCHEMA_REF.length));
      else refsIn(child, out);
    }
  }
}

/**
 * The served schemas of a document whose kinds are `roots` (component names), and every
 * schema they reach, sorted by name. An unmodelled root (none today) is served as is.
 */
export function servedSchemas(
  pool: Readonly<Record<string, Schema>>,
  roots: Iterable<string>,
): Record<string, Schema> {
  const slimmer = new Slimmer(pool);
  const out: Record<string, Schema> = {};
  const todo = [...roots];
  while (todo.length > 0) {
    const name = todo.pop()!;
    if (out[name] !== undefined) continue;
    const s = isKept(pool, name) ? slimmer.schema(name) : pool[name];
    if (s === undefined) throw new Error(`no component schema ${name}`);
    out[name] = s;
    const refs = new Set<string>();
    refsIn(s, refs);
    todo.push(...refs);
  }
  return sortKeys(out);
}
