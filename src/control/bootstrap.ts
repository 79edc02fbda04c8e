// What a fresh kubeadm cluster holds before the user applies anything: the standard
// namespaces, Node objects (control plane tainted NoSchedule), default/kubernetes
// (10.96.0.1:443 -> the API servers' :6443, endpoints written by the API server itself),
// kube-system/kube-dns (10.96.0.10: 53/UDP dns, 53/TCP dns-tcp, 9153/TCP metrics) with
// the CoreDNS Deployment, and optionally the host-network system pods.
import type {
  Deployment,
  EndpointSlice,
  Endpoints,
  Namespace,
  Node,
  Pod,
  Service,
} from '../api/types.ts';
import type { ClusterConfig, ResolvedNode } from './cluster-config.ts';
import { kubernetesServiceIP } from './cluster-config.ts';
import { eraOf } from './era.ts';
import { SERVICE_NAME_LABEL } from './controllers/endpointslice.ts';
import { SKIP_MIRROR_LABEL } from './controllers/endpointslice-mirroring.ts';

export function namespaces(): Namespace[] {
  return ['default', 'kube-node-lease', 'kube-public', 'kube-system'].map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
    status: { phase: 'Active' },
  }));
}

export function nodeObject(n: ResolvedNode, cfg: ClusterConfig): Node {
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    ...n.labels,
  };
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: n.name, labels },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR] },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
      nodeInfo: (({ osImage, kernelVersion, containerRuntimeVersion }) => ({
        kubeletVersion: cfg.kubernetesVersion,
        osImage,
        kernelVersion,
        containerRuntimeVersion,
      }))(eraOf(cfg.kubernetesVersion)),
    },
  };
  if (n.controlPlane) {
    const era = eraOf(cfg.kubernetesVersion);
    for (const l of era.controlPlaneLabels) labels[l] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
    if (cfg.taintControlPlane)
      node.spec.taints = era.controlPlaneTaints.map((key) => ({ key, effect: 'NoSchedule' }));
  }
  return node;
}

const HTTPS_PORT = (cfg: ClusterConfig) => ({
  name: 'https',
  port: cfg.apiServerPort,
  protocol: 'TCP' as const,
});

export function kubernetesService(cfg: ClusterConfig): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { component: 'apiserver', provider: 'kubernetes' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: kubernetesServiceIP(cfg),
      ports: [{ name: 'https', protocol: 'TCP', port: 443, targetPort: cfg.apiServerPort }],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
  };
}

/** The API server's own endpoint reconciler output (never mirrored). */
export function kubernetesEndpoints(
  cfg: ClusterConfig,
  apiServers: string[],
): [Endpoints, EndpointSlice] {
  const ep: Endpoints = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'kubernetes', namespace: 'default', labels: { [SKIP_MIRROR_LABEL]: 'true' } },
    subsets: [{ addresses: apiServers.map((ip) => ({ ip })), ports: [HTTPS_PORT(cfg)] }],
  };
  const slice: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'kubernetes',
      namespace: 'default',
      labels: { [SERVICE_NAME_LABEL]: 'kubernetes' },
    },
    addressType: 'IPv4',
    endpoints: apiServers.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
    ports: [HTTPS_PORT(cfg)],
  };
  return [ep, slice];
}

const KUBE_DNS_LABELS = { 'k8s-app': 'kube-dns' };

export function kubeDnsService(cfg: ClusterConfig): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: 'kube-dns',
      namespace: 'kube-system',
      labels: {
        ...KUBE_DNS_LABELS,
        'kubernetes.io/cluster-service': 'true',
        'kubernetes.io/name': 'CoreDNS',
      },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: cfg.dnsServiceIP,
      selector: { ...KUBE_DNS_LABELS },
      ports: [
        { name: 'dns', protocol: 'UDP', port: 53, targetPort: 53 },
        { name: 'dns-tcp', protocol: 'TCP', port: 53, targetPort: 53 },
        { name: 'metrics', protocol: 'TCP', port: 9153, targetPort: 9153 },
      ],
      sessionAffinity: 'None',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      internalTrafficPolicy: 'Cluster',
    },
  };
}

export function corednsDeployment(cfg: ClusterConfig): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { ...KUBE_DNS_LABELS } },
    spec: {
      replicas: cfg.coreDNSReplicas,
      selector: { matchLabels: { ...KUBE_DNS_LABELS } },
      template: {
        metadata: { labels: { ...KUBE_DNS_LABELS } },
        spec: {
          containers: [
            {
              name: 'coredns',
              image: cfg.coreDNSImage,
              imagePullPolicy: 'IfNotPresent',
              args: ['-conf', '/etc/coredns/Corefile'],
              ports: [
                { name: 'dns', containerPort: 53, protocol: 'UDP' },
                { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
              ],
            },
          ],
          restartPolicy: 'Always',
          terminationGracePeriodSeconds: 30,
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [
            { key: 'CriticalAddonsOnly', operator: 'Exists' },
            ...eraOf(cfg.kubernetesVersion).controlPlaneTaints.map((key) => ({
              key,
              effect: 'NoSchedule' as const,
            })),
          ],
        },
      },
    },
  };
}

function hostPod(
  name: string,
  nodeName: string,
  labels: Record<string, string>,
  image: string,
): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'kube-system', labels },
    spec: {
      containers: [
        {
          name: labels['component'] ?? labels['k8s-app'] ?? name,
          image,
          imagePullPolicy: 'IfNotPresent',
        },
      ],
      nodeName,
      hostNetwork: true,
      restartPolicy: 'Always',
      tolerations: [{ operator: 'Exists', effect: 'NoExecute' }],
    },
    status: { phase: 'Pending' },
  };
}

/** kubeadm's static pods, mirrored by the kubelet as `<component>-<node>`, owned by the Node. */
export function staticPods(node: Node, cfg: ClusterConfig): Pod[] {
  const v = cfg.kubernetesVersion;
  const era = eraOf(v);
  const components: [string, string][] = [
    ['etcd', era.etcdImage],
    ['kube-apiserver', `${era.registry}/kube-apiserver:${v}`],
    ['kube-controller-manager', `${era.registry}/kube-controller-manager:${v}`],
    ['kube-scheduler', `${era.registry}/kube-scheduler:${v}`],
  ];
  return components.map(([component, image]) => {
    const pod = hostPod(
      `${component}-${node.metadata.name}`,
      node.metadata.name,
      { component, tier: 'control-plane' },
      image,
    );
    pod.metadata.ownerReferences = [
      {
        apiVersion: 'v1',
        kind: 'Node',
        name: node.metadata.name,
        uid: node.metadata.uid!,
        controller: true,
      },
    ];
    return pod;
  });
}

/** The kube-proxy DaemonSet's pod for a node (the DaemonSet object itself is not modelled). */
export function kubeProxyPod(nodeName: string, daemonSetUid: string, cfg: ClusterConfig): Pod {
  const pod = hostPod(
    '',
    nodeName,
    { 'k8s-app': 'kube-proxy', 'pod-template-generation': '1' },
    `${eraOf(cfg.kubernetesVersion).registry}/kube-proxy:${cfg.kubernetesVersion}`,
  );
  pod.metadata.generateName = 'kube-proxy-';
  pod.spec.tolerations = [{ operator: 'Exists' }];
  pod.metadata.ownerReferences = [
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      name: 'kube-proxy',
      uid: daemonSetUid,
      controller: true,
    },
  ];
  return pod;
}
