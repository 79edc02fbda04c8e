// Kubernetes object shapes svclab understands, as the API server stores them after
// defaulting (core/v1, apps/v1, discovery.k8s.io/v1, networking.k8s.io/v1).
// Older API versions (extensions/v1beta1 ...) are converted to these on load.
// Only the fields svclab reads are typed; unknown fields are kept in the raw object.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  /** Virtual-clock time in nanoseconds (svclab's clock), rendered as AGE. */
  creationTimestamp?: number;
  deletionTimestamp?: number;
  /** Seconds the pod was given to terminate (set with deletionTimestamp). */
  deletionGracePeriodSeconds?: number;
  ownerReferences?: OwnerReference[];
  generateName?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
}

export interface TypeMeta {
  apiVersion: string;
  kind: string;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  /** Absent matches every effect. */
  effect?: TaintEffect;
}

// ---- core/v1 Namespace -------------------------------------------------------

export interface Namespace extends TypeMeta {
  kind: 'Namespace';
  metadata: ObjectMeta;
  status?: { phase: 'Active' | 'Terminating' };
}

// ---- core/v1 Node ------------------------------------------------------------

export interface Node extends TypeMeta {
  kind: 'Node';
  metadata: ObjectMeta;
  spec: { podCIDR?: string; podCIDRs?: string[]; unschedulable?: boolean; taints?: Taint[] };
  status: {
    addresses: { type: 'InternalIP' | 'ExternalIP' | 'Hostname'; address: string }[];
    conditions?: { type: string; status: 'True' | 'False' | 'Unknown' }[];
    nodeInfo?: {
      kubeletVersion: string;
      osImage: string;
      kernelVersion: string;
      containerRuntimeVersion: string;
    };
  };
}

// ---- core/v1 Pod -------------------------------------------------------------

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol: Protocol;
  hostPort?: number;
  hostIP?: string;
}

export interface Container {
  name: string;
  image: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  ports?: ContainerPort[];
  args?: string[];
  command?: string[];
  env?: { name: string; value?: string }[];
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  hostNetwork?: boolean;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  dnsPolicy?: 'ClusterFirst' | 'ClusterFirstWithHostNet' | 'Default' | 'None';
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  terminationGracePeriodSeconds?: number;
}

export interface PodTemplateSpec {
  metadata: Omit<ObjectMeta, 'name'> & { name?: string };
  spec: PodSpec;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface PodCondition {
  type: 'PodScheduled' | 'Initialized' | 'ContainersReady' | 'Ready';
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface Pod extends TypeMeta {
  kind: 'Pod';
  metadata: ObjectMeta;
  spec: PodSpec;
  status: {
    phase: PodPhase;
    podIP?: string;
    hostIP?: string;
    conditions?: PodCondition[];
    restartCount?: number;
    startTime?: number;
  };
}

// ---- apps/v1 Deployment, ReplicaSet -------------------------------------------

export interface DeploymentStrategy {
  type: 'RollingUpdate' | 'Recreate';
  /** An absolute number or a percentage string such as '25%'. */
  rollingUpdate?: { maxUnavailable?: number | string; maxSurge?: number | string };
}

export interface Deployment extends TypeMeta {
  kind: 'Deployment';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
    strategy?: DeploymentStrategy;
    minReadySeconds?: number;
    revisionHistoryLimit?: number;
    progressDeadlineSeconds?: number;
    paused?: boolean;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    unavailableReplicas?: number;
  };
}

export interface ReplicaSet extends TypeMeta {
  kind: 'ReplicaSet';
  metadata: ObjectMeta;
  spec: {
    replicas: number;
    selector: LabelSelector;
    template: PodTemplateSpec;
  };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    fullyLabeledReplicas?: number;
    observedGeneration?: number;
  };
}

// ---- core/v1 Service ------------------------------------------------------------

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

export interface ServicePort {
  name?: string;
  protocol: Protocol;
  port: number;
  /** Number or the name of a container port. */
  targetPort: number | string;
  nodePort?: number;
  appProtocol?: string;
}

export interface Service extends TypeMeta {
  kind: 'Service';
  metadata: ObjectMeta;
  spec: {
    type: ServiceType;
    selector?: Record<string, string>;
    ports: ServicePort[];
    /** 'None' for headless. Absent for ExternalName. */
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    externalIPs?: string[];
    loadBalancerIP?: string;
    /** The load-balancer implementation that owns it; svclab's MetalLB-style one owns unset. */
    loadBalancerClass?: string;
    loadBalancerSourceRanges?: string[];
    sessionAffinity: 'None' | 'ClientIP';
    sessionAffinityConfig?: { clientIP: { timeoutSeconds: number } };
    externalTrafficPolicy?: 'Cluster' | 'Local';
    internalTrafficPolicy?: 'Cluster' | 'Local';
    healthCheckNodePort?: number;
    ipFamilies: ('IPv4' | 'IPv6')[];
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
    publishNotReadyAddresses?: boolean;
    allocateLoadBalancerNodePorts?: boolean;
  };
  status?: { loadBalancer: { ingress?: { ip?: string; hostname?: string }[] } };
}

// ---- core/v1 Endpoints, discovery.k8s.io/v1 EndpointSlice --------------------------

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid?: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: Protocol;
  appProtocol?: string;
}

export interface Endpoints extends TypeMeta {
  kind: 'Endpoints';
  metadata: ObjectMeta;
  subsets: {
    addresses?: EndpointAddress[];
    notReadyAddresses?: EndpointAddress[];
    ports?: EndpointPort[];
  }[];
}

export interface Endpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  nodeName?: string;
  zone?: string;
  targetRef?: { kind: string; name: string; namespace: string; uid?: string };
}

export interface EndpointSlice extends TypeMeta {
  kind: 'EndpointSlice';
  metadata: ObjectMeta;
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  endpoints: Endpoint[];
  ports: EndpointPort[];
}

// ---- networking.k8s.io/v1 Ingress ------------------------------------------------

export interface IngressBackend {
  service?: { name: string; port: { number?: number; name?: string } };
  resource?: { apiGroup?: string; kind: string; name: string };
}

export interface HTTPIngressPath {
  path?: string;
  pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  backend: IngressBackend;
}

export interface IngressRule {
  host?: string;
  http?: { paths: HTTPIngressPath[] };
}

export interface Ingress extends TypeMeta {
  kind: 'Ingress';
  metadata: ObjectMeta;
  spec: {
    ingressClassName?: string;
    defaultBackend?: IngressBackend;
    tls?: { hosts?: string[]; secretName?: string }[];
    rules?: IngressRule[];
  };
  status?: { loadBalancer: { ingress?: { ip?: string; hostname?: string }[] } };
}

// ---- core/v1 Secret, ConfigMap ---------------------------------------------------

export interface Secret extends TypeMeta {
  kind: 'Secret';
  metadata: ObjectMeta;
  type: string;
  /** Decoded bytes (manifests carry base64 in `data`, plain text in `stringData`). */
  data: Record<string, Uint8Array>;
}

export interface ConfigMap extends TypeMeta {
  kind: 'ConfigMap';
  metadata: ObjectMeta;
  data: Record<string, string>;
  /** Base64 text, as written (svclab does not read it). */
  binaryData?: Record<string, string>;
}

// ---- networking.k8s.io/v1 IngressClass -----------------------------------------------

/** `ingressclass.kubernetes.io/is-default-class: "true"` marks the cluster's default class. */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export interface IngressClassParametersReference {
  apiGroup?: string;
  kind: string;
  name: string;
  /** 'Cluster' (the default when parameters are given) or 'Namespace'. */
  scope?: string;
  namespace?: string;
}

export interface IngressClass extends TypeMeta {
  kind: 'IngressClass';
  metadata: ObjectMeta;
  spec: { controller?: string; parameters?: IngressClassParametersReference };
}

// ---- core/v1 Event ------------------------------------------------------------------

/** core/v1 ObjectReference: what an event is about (`spec.containers{myapp}` as fieldPath). */
export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/**
 * core/v1 Event. Events recorded through client-go's legacy recorder carry source,
 * firstTimestamp, lastTimestamp and count; events written through events.k8s.io/v1
 * (the scheduler's) carry eventTime, action, series and an empty source instead, and
 * read back through core/v1 with `firstTimestamp: null` (null is kept, as the API shows it).
 * Times are virtual-clock nanoseconds like every other time in svclab.
 */
export interface Event extends TypeMeta {
  kind: 'Event';
  metadata: ObjectMeta;
  involvedObject: ObjectReference;
  reason?: string;
  message?: string;
  source?: { component?: string; host?: string };
  firstTimestamp?: number | null;
  lastTimestamp?: number | null;
  count?: number;
  type?: string;
  eventTime?: number | null;
  series?: { count: number; lastObservedTime: number };
  action?: string;
  related?: ObjectReference;
  reportingComponent?: string;
  reportingInstance?: string;
}

export type KubeObject =
  | Namespace
  | Node
  | Pod
  | Deployment
  | ReplicaSet
  | Service
  | Endpoints
  | EndpointSlice
  | Ingress
  | Secret
  | ConfigMap
  | IngressClass
  | Event;

export type Kind = KubeObject['kind'];

/** The object of a given kind. */
export type ObjectOfKind<K extends Kind> = Extract<KubeObject, { kind: K }>;
