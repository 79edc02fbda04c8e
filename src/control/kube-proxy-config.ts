// kube-proxy's configuration as a kubeadm cluster holds it: the `kube-proxy` ConfigMap in
// kube-system, whose `config.conf` is a KubeProxyConfiguration
// (kubeproxy.config.k8s.io/v1alpha1). svclab's own flags (--proxy-mode, --ipvs-scheduler,
// --masquerade-all, --cluster-cidr, --nodeport-addresses) write the same fields, as
// `kubeadm init` writes them from its configuration; each node's kube-proxy reads the file
// when it starts (control/kube-proxy.ts).
import { LineCounter, isMap, parseDocument } from 'yaml';
import type { ConfigMap } from '../api/types.ts';
import { parseCidr } from '../packet/addr.ts';
import { isProxyMode, type ProxyMode } from '../proxy/modes.ts';

export const KUBE_PROXY_NAMESPACE = 'kube-system';
export const KUBE_PROXY_CONFIGMAP = 'kube-proxy';
export const KUBE_PROXY_CONFIG_KEY = 'config.conf';
/** Where the kube-proxy DaemonSet mounts the ConfigMap (`--config=`). */
export const KUBE_PROXY_CONFIG_PATH = '/var/lib/kube-proxy/config.conf';

/** The KubeProxyConfiguration fields svclab reads; each has the kube-proxy flag of its name. */
export interface KubeProxySettings {
  /** --proxy-mode; '' is the platform default (iptables on Linux). */
  mode?: ProxyMode | '';
  /** --ipvs-scheduler (ipvs.scheduler); '' is rr. */
  ipvsScheduler?: string;
  /** --masquerade-all (iptables.masqueradeAll; nftables.masqueradeAll in nftables mode). */
  masqueradeAll?: boolean;
  /** --cluster-cidr: comma-separated CIDRs (the local-traffic detector). */
  clusterCIDR?: string;
  /** --nodeport-addresses: CIDRs, or ['primary']; undefined is every node address. */
  nodePortAddresses?: string[];
}

/** IPVS schedulers kube-proxy's validation accepts (validateIPVSSchedulerMethod). */
export const IPVS_SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'sh',
  'dh',
  'sed',
  'nq',
  'mh',
] as const;

/** The mode a setting means on Linux: blank is iptables. */
export function effectiveMode(mode: ProxyMode | '' | undefined): ProxyMode {
  return mode === undefined || mode === '' ? 'iptables' : mode;
}

/** Check flag or file values as kube-proxy's validation does; returns the first error. */
export function validateKubeProxySettings(s: KubeProxySettings): string | undefined {
  if (s.mode !== undefined && s.mode !== '' && !isProxyMode(s.mode))
    return `KubeProxyConfiguration.Mode: Invalid value: "${String(s.mode)}": must be iptables, ipvs, nftables or blank (blank means the best-available proxy [currently iptables])`;
  const sched = s.ipvsScheduler;
  if (
    sched !== undefined &&
    sched !== '' &&
    !(IPVS_SCHEDULERS as readonly string[]).includes(sched)
  )
    return `KubeProxyIPVSConfiguration.Scheduler: Invalid value: "${sched}": must be in [${IPVS_SCHEDULERS.join(' ')}]`;
  for (const c of s.clusterCIDR === undefined || s.clusterCIDR === ''
    ? []
    : s.clusterCIDR.split(',')) {
    if (!isCidr(c.trim()))
      return `KubeProxyConfiguration.ClusterCIDR: Invalid value: "${s.clusterCIDR}": must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)`;
  }
  for (const a of s.nodePortAddresses ?? []) {
    if (a !== 'primary' && !isCidr(a))
      return `KubeProxyConfiguration.NodePortAddresses[0]: Invalid value: "${a}": must be a valid CIDR`;
  }
  return undefined;
}

function isCidr(s: string): boolean {
  try {
    parseCidr(s);
    return s.includes('/');
  } catch {
    return false;
  }
}

const q = (s: string) => (s === '' ? '""' : s);

/**
 * `config.conf` as kubeadm writes it (v1.29+ field set), with the settings filled in. Blank
 * and zero values mean kube-proxy's defaults, as in the real file.
 */
export function renderKubeProxyConfiguration(s: KubeProxySettings): string {
  const npa = s.nodePortAddresses;
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: ${q(s.clusterCIDR ?? '')}
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpBeLiberal: false
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: ${s.masqueradeAll === true}
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ${q(s.ipvsScheduler ?? '')}
  strictARP: false
  syncPeriod: 0s
  tcpFinTimeout: 0s
  tcpTimeout: 0s
  udpTimeout: 0s
kind: KubeProxyConfiguration
logging:
  flushFrequency: 0
  options:
    json:
      infoBufferSize: "0"
    text:
      infoBufferSize: "0"
  verbosity: 0
metricsBindAddress: ""
mode: ${q(s.mode ?? '')}
nftables:
  masqueradeAll: ${s.masqueradeAll === true}
  masqueradeBit: null
  minSyncPeriod: 0s
  syncPeriod: 0s
nodePortAddresses: ${npa === undefined ? 'null' : `\n${npa.map((a) => `- ${a}`).join('\n')}`}
oomScoreAdj: null
portRange: ""
showHiddenMetricsForAlphaFeatures: false
winkernel:
  enableDSR: false
  forwardHealthCheckVip: false
  networkName: ""
  rootHnsEndpointName: ""
  sourceVip: ""
`;
}

const KUBECONFIG_CONF = `apiVersion: v1
kind: Config
clusters:
- cluster:
    certificate-authority: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
    server: https://%SERVER%
  name: default
contexts:
- context:
    cluster: default
    namespace: default
    user: default
  name: default
current-context: default
users:
- name: default
  user:
    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
`;

/** kubeadm's kube-proxy ConfigMap for a cluster whose API server is at `server` (ip:port). */
export function kubeProxyConfigMap(s: KubeProxySettings, server: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: KUBE_PROXY_CONFIGMAP,
      namespace: KUBE_PROXY_NAMESPACE,
      labels: { app: 'kube-proxy' },
      annotations: { 'kubeadm.kubernetes.io/component-config.hash': 'sha256:svclab' },
    },
    data: {
      [KUBE_PROXY_CONFIG_KEY]: renderKubeProxyConfiguration(s),
      'kubeconfig.conf': KUBECONFIG_CONF.replace('%SERVER%', server),
    },
  };
}

/** Top-level fields of v1alpha1 KubeProxyConfiguration (strict decoding rejects others). */
const TOP_FIELDS = new Set([
  'apiVersion',
  'kind',
  'bindAddress',
  'bindAddressHardFail',
  'clientConnection',
  'clusterCIDR',
  'configSyncPeriod',
  'conntrack',
  'detectLocal',
  'detectLocalMode',
  'enableProfiling',
  'featureGates',
  'healthzBindAddress',
  'hostnameOverride',
  'iptables',
  'ipvs',
  'linux',
  'logging',
  'metricsBindAddress',
  'mode',
  'nftables',
  'nodePortAddresses',
  'oomScoreAdj',
  'portRange',
  'showHiddenMetricsForAlphaFeatures',
  'udpIdleTimeout',
  'winkernel',
  'windowsRunAsService',
]);

export type ParsedKubeProxyConfig =
  { ok: true; settings: KubeProxySettings } | { ok: false; error: string };

/**
 * Read a `config.conf`: the settings, or the error kube-proxy exits with (strict decoding,
 * then validation), naming the line where there is one.
 */
export function parseKubeProxyConfiguration(text: string): ParsedKubeProxyConfig {
  const path = KUBE_PROXY_CONFIG_PATH;
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lc.linePos(e.pos[0]).line;
    return { ok: false, error: `failed to load ${path}: yaml: line ${line}: ${e.message}` };
  }
  const root: unknown = doc.toJS({ maxAliasCount: 100 });
  if (!isMap(doc.contents) || root === null || typeof root !== 'object')
    return { ok: false, error: `failed to load ${path}: not a KubeProxyConfiguration` };
  const o = root as Record<string, unknown>;
  if (o.kind !== 'KubeProxyConfiguration')
    return {
      ok: false,
      error: `failed to load ${path}: no kind "${String(o.kind)}" is registered for version "${String(o.apiVersion)}"`,
    };
  for (const k of Object.keys(o)) {
    if (!TOP_FIELDS.has(k))
      return {
        ok: false,
        error: `failed to load ${path}: strict decoding error: unknown field "${k}"`,
      };
  }
  const sub = (k: string): Record<string, unknown> => {
    const v = o[k];
    return v !== null && typeof v === 'object' && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  };
  const str = (v: unknown): string | undefined =>
    v === null || v === undefined ? undefined : String(v);
  const mode = str(o.mode) ?? '';
  const s: KubeProxySettings = { mode: mode as ProxyMode | '' };
  const sched = str(sub('ipvs').scheduler);
  if (sched !== undefined) s.ipvsScheduler = sched;
  // The masquerade switch lives per backend in v1alpha1 (and under `linux` since v1.32).
  const masq =
    sub('linux').masqueradeAll ??
    (effectiveMode(s.mode) === 'nftables'
      ? sub('nftables').masqueradeAll
      : sub('iptables').masqueradeAll);
  if (masq === true) s.masqueradeAll = true;
  const cidr = str(o.clusterCIDR);
  if (cidr !== undefined && cidr !== '') s.clusterCIDR = cidr;
  if (Array.isArray(o.nodePortAddresses)) s.nodePortAddresses = o.nodePortAddresses.map(String);
  const bad = validateKubeProxySettings(s);
  return bad === undefined
    ? { ok: true, settings: s }
    : { ok: false, error: `invalid configuration: ${bad}` };
}

/** The settings written over a config.conf's text (flags over the file). */
export function withSettings(text: string, s: KubeProxySettings): string {
  const parsed = parseKubeProxyConfiguration(text);
  const base = parsed.ok ? parsed.settings : {};
  return renderKubeProxyConfiguration({ ...base, ...s });
}
