// Service validation: pkg/apis/core/validation ValidateService, in its order, plus
// the two checks the API server makes while allocating (clusterIP inside the
// service CIDR, nodePort inside the node-port range).

import { cidrContains, cidrSize, tryIpToU32 } from '../packet/addr.ts';
import { duplicate, forbidden, invalid, notSupported, pointAt, required } from './errors.ts';
import type { FieldError } from './errors.ts';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv6,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidPortNum,
} from './names.ts';
import type { ClusterLimits } from './options.ts';
import { validateLabels, validateObjectMeta } from './validate-meta.ts';
import { validatePortNumOrName } from './validate-pod.ts';
import type { Service, ServicePort } from './types.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const MAX_AFFINITY_SECONDS = 86400;

type Spec = Service['spec'];

function validateServicePort(
  sp: ServicePort,
  i: number,
  requireName: boolean,
  names: Set<string>,
): FieldError[] {
  const errs: FieldError[] = [];
  const p = ['spec', 'ports', i];
  const name = sp.name ?? '';
  if (requireName && name === '') {
    errs.push(required([...p, 'name']));
  } else if (name !== '') {
    for (const m of isDNS1123Label(name)) errs.push(invalid([...p, 'name'], name, m));
    if (names.has(name)) errs.push(duplicate([...p, 'name'], name));
    else names.add(name);
  }
  for (const m of isValidPortNum(sp.port ?? 0)) errs.push(invalid([...p, 'port'], sp.port ?? 0, m));
  if (!PROTOCOLS.includes(sp.protocol)) {
    errs.push(notSupported([...p, 'protocol'], sp.protocol, PROTOCOLS));
  }
  errs.push(...validatePortNumOrName(sp.targetPort, [...p, 'targetPort']));
  if (sp.appProtocol !== undefined) {
    for (const m of isQualifiedName(sp.appProtocol)) {
      errs.push(invalid([...p, 'appProtocol'], sp.appProtocol, m));
    }
  }
  return errs;
}

function validateClientIPAffinity(spec: Spec): FieldError[] {
  const path = ['spec', 'sessionAffinityConfig'];
  const why = 'when session affinity type is ClientIP';
  const cfg = spec.sessionAffinityConfig;
  if (cfg === undefined) return [required(path, why)];
  if (cfg.clientIP === undefined) return [required([...path, 'clientIP'], why)];
  const t = cfg.clientIP.timeoutSeconds;
  const tp = [...path, 'clientIP', 'timeoutSeconds'];
  if (t === undefined) return [required(tp, why)];
  if (t <= 0 || t > MAX_AFFINITY_SECONDS) {
    return [invalid(tp, t, `must be greater than 0 and less than ${MAX_AFFINITY_SECONDS}`)];
  }
  return [];
}

/** ValidateServiceClusterIPsRelatedFields, for a single-stack IPv4 cluster. */
function validateClusterIPs(spec: Spec): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ips = spec.clusterIPs ?? [];
  const field = ['spec', 'clusterIPs'];
  if (spec.clusterIP !== undefined && spec.clusterIP !== '' && ips[0] !== spec.clusterIP) {
    errs.push(invalid(field, ips, 'must match `clusterIP` when both are specified'));
  }
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (spec.ipFamilyPolicy !== undefined && !policies.includes(spec.ipFamilyPolicy)) {
    errs.push(notSupported(['spec', 'ipFamilyPolicy'], spec.ipFamilyPolicy, policies));
  }
  const seen = new Set<string>();
  spec.ipFamilies.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') {
      errs.push(notSupported(['spec', 'ipFamilies', i], f, ['IPv4', 'IPv6']));
    } else if (f === 'IPv6') {
      // svclab models a single-stack IPv4 cluster.
      errs.push(invalid(['spec', 'ipFamilies', i], f, 'not configured on this cluster'));
    }
    if (seen.has(f)) errs.push(duplicate(['spec', 'ipFamilies', i], f));
    seen.add(f);
  });
  const headless = ips.length === 1 && ips[0] === 'None';
  if (spec.ipFamilyPolicy === 'RequireDualStack' && !headless) {
    const detail = 'this cluster is not configured for dual-stack services';
    errs.push(invalid(['spec', 'ipFamilyPolicy'], spec.ipFamilyPolicy, detail));
  }
  let bad = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        bad = true;
        errs.push(invalid(field, ips, "'None' must be the first and only value"));
      }
      return;
    }
    for (const m of isValidIP(ip)) {
      bad = true;
      errs.push(invalid([...field, i], ip, m));
    }
  });
  if (ips.length > 2) errs.push(invalid(field, ips, 'may only hold up to 2 values'));
  if (bad || ips[0] === 'None') return errs;
  ips.forEach((ip, i) => {
    if (spec.ipFamilies[i] === 'IPv4' && isIPv6(ip)) {
      errs.push(
        invalid([...field, i], ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``),
      );
    }
  });
  return errs;
}

/** ValidateNonSpecialIP: addresses a Service may not claim as external IPs. */
function specialIPReason(ip: string): string | undefined {
  const n = tryIpToU32(ip);
  if (n === undefined) return undefined;
  if (n === 0) return 'may not be unspecified (0.0.0.0)';
  if (n >>> 24 === 127) return 'may not be in the loopback range (127.0.0.0/8, ::1/128)';
  if (n >>> 16 === 0xa9fe) return 'may not be in the link-local range (169.254.0.0/16, fe80::/10)';
  if (n >>> 8 === 0xe00000) {
    return 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)';
  }
  return undefined;
}

/** The IP and node-port allocators' range checks (registry/core/service). */
function validateAllocations(spec: Spec, limits: ClusterLimits): FieldError[] {
  const errs: FieldError[] = [];
  const ip = spec.clusterIPs?.[0];
  if (spec.type !== 'ExternalName' && ip !== undefined && ip !== 'None') {
    const n = tryIpToU32(ip);
    const cidr = limits.serviceCidr;
    const last = (cidr.base + cidrSize(cidr) - 1) >>> 0;
    // The bitmap allocator never hands out the network or broadcast address.
    if (n !== undefined && (!cidrContains(cidr, n) || n === cidr.base || n === last)) {
      const detail = `failed to allocate IP ${ip}: the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${limits.serviceCidrText}`;
      errs.push(
        pointAt(invalid(['spec', 'clusterIPs'], spec.clusterIPs, detail), [
          'spec',
          'clusterIPs',
          0,
        ]),
      );
    }
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
    spec.ports.forEach((p, i) => {
      const np = p.nodePort;
      if (np === undefined || np === 0) return;
      if (np < limits.nodePortMin || np > limits.nodePortMax) {
        const range = `${limits.nodePortMin}-${limits.nodePortMax}`;
        errs.push(
          invalid(
            ['spec', 'ports', i, 'nodePort'],
            np,
            `provided port is not in the valid range. The range of valid ports is ${range}`,
          ),
        );
      }
    });
  }
  return errs;
}

/** core.ServicePort{Protocol, Port} as Go's %#v prints the duplicate-port key. */
function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

export function validateService(svc: Service, limits: ClusterLimits): FieldError[] {
  const errs = validateObjectMeta(svc.metadata, isDNS1035Label, true);
  const spec = svc.spec;
  const ports = spec.ports;
  const headless = spec.clusterIPs?.length === 1 && spec.clusterIPs[0] === 'None';
  if (ports.length === 0 && !headless && spec.type !== 'ExternalName') {
    errs.push(required(['spec', 'ports']));
  }
  if ((spec.type === 'LoadBalancer' || spec.type === 'NodePort') && headless) {
    const detail = `may not be set to 'None' for ${spec.type} services`;
    errs.push(invalid(['spec', 'clusterIPs', 0], 'None', detail));
  } else if (spec.type === 'ExternalName') {
    if ((spec.clusterIPs ?? []).length > 0 || (spec.clusterIP ?? '') !== '') {
      errs.push(
        pointAt(forbidden(['spec', 'clusterIPs'], 'may not be set for ExternalName services'), [
          'spec',
          'clusterIP',
        ]),
      );
    }
    if (spec.ipFamilies.length > 0) {
      errs.push(forbidden(['spec', 'ipFamilies'], 'may not be set for ExternalName services'));
    }
    if (spec.ipFamilyPolicy !== undefined) {
      errs.push(forbidden(['spec', 'ipFamilyPolicy'], 'may not be set for ExternalName services'));
    }
    // A trailing dot marks the CNAME as fully qualified.
    const cname = (spec.externalName ?? '').replace(/\.$/, '');
    if (cname === '') errs.push(required(['spec', 'externalName']));
    for (const m of cname === '' ? [] : isDNS1123Subdomain(cname)) {
      errs.push(invalid(['spec', 'externalName'], cname, m));
    }
  }
  const names = new Set<string>();
  ports.forEach((p, i) => errs.push(...validateServicePort(p, i, ports.length > 1, names)));
  if (spec.selector !== undefined)
    errs.push(...validateLabels(spec.selector, ['spec', 'selector']));
  const affinities = ['ClientIP', 'None'];
  if (!affinities.includes(spec.sessionAffinity)) {
    errs.push(notSupported(['spec', 'sessionAffinity'], spec.sessionAffinity, affinities));
  } else if (spec.sessionAffinity === 'ClientIP') {
    errs.push(...validateClientIPAffinity(spec));
  } else if (spec.sessionAffinityConfig !== undefined) {
    errs.push(
      forbidden(['spec', 'sessionAffinityConfig'], 'must not be set when session affinity is None'),
    );
  }
  errs.push(...validateClusterIPs(spec));
  (spec.externalIPs ?? []).forEach((ip, i) => {
    const bad = isValidIP(ip);
    const special = bad.length === 0 ? specialIPReason(ip) : undefined;
    for (const m of special === undefined ? bad : [special]) {
      errs.push(invalid(['spec', 'externalIPs', i], ip, m));
    }
  });
  if (!SERVICE_TYPES.includes(spec.type)) {
    errs.push(notSupported(['spec', 'type'], spec.type, SERVICE_TYPES));
  }
  if (spec.type === 'ClusterIP') {
    ports.forEach((p, i) => {
      if ((p.nodePort ?? 0) !== 0) {
        errs.push(
          forbidden(['spec', 'ports', i, 'nodePort'], "may not be used when `type` is 'ClusterIP'"),
        );
      }
    });
  }
  const nodePorts = new Set<string>();
  ports.forEach((p, i) => {
    if ((p.nodePort ?? 0) === 0) return;
    const key = `${p.protocol}/${p.nodePort}`;
    if (nodePorts.has(key)) errs.push(duplicate(['spec', 'ports', i, 'nodePort'], p.nodePort));
    nodePorts.add(key);
  });
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    const key = `${p.protocol}/${p.port}`;
    if (seen.has(key)) {
      errs.push({
        path: ['spec', 'ports', i],
        message: `Duplicate value: ${goServicePortKey(p.protocol, p.port)}`,
      });
    }
    seen.add(key);
  });
  errs.push(...validateServiceTail(spec));
  errs.push(...validateAllocations(spec, limits));
  return errs;
}

/** Source ranges, LB-only fields, traffic policies (the end of ValidateService). */
function validateServiceTail(spec: Spec): FieldError[] {
  const errs: FieldError[] = [];
  const ranges = spec.loadBalancerSourceRanges ?? [];
  if (ranges.length > 0) {
    // The API server really spells this path with a capital L.
    const shown = ['spec', 'LoadBalancerSourceRanges'];
    const at = ['spec', 'loadBalancerSourceRanges'];
    if (spec.type !== 'LoadBalancer') {
      errs.push(pointAt(forbidden(shown, "may only be used when `type` is 'LoadBalancer'"), at));
    }
    ranges.forEach((r, i) => {
      for (const m of isValidCIDR(r.trim())) {
        errs.push(pointAt(invalid([...shown, i], r.trim(), m), [...at, i]));
      }
    });
  }
  if (spec.allocateLoadBalancerNodePorts !== undefined && spec.type !== 'LoadBalancer') {
    errs.push(
      forbidden(
        ['spec', 'allocateLoadBalancerNodePorts'],
        "may only be used when `type` is 'LoadBalancer'",
      ),
    );
  }
  const external =
    spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.externalIPs ?? []).length > 0;
  const etp = spec.externalTrafficPolicy;
  if (!external && etp !== undefined) {
    errs.push(
      invalid(
        ['spec', 'externalTrafficPolicy'],
        etp,
        'may only be set for externally-accessible services',
      ),
    );
  } else if (external && etp !== 'Cluster' && etp !== 'Local') {
    errs.push(notSupported(['spec', 'externalTrafficPolicy'], etp ?? '', ['Cluster', 'Local']));
  }
  const needsHealthCheck = spec.type === 'LoadBalancer' && etp === 'Local';
  if (!needsHealthCheck && (spec.healthCheckNodePort ?? 0) !== 0) {
    errs.push(
      invalid(
        ['spec', 'healthCheckNodePort'],
        spec.healthCheckNodePort,
        "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'",
      ),
    );
  } else if (needsHealthCheck && spec.healthCheckNodePort !== undefined) {
    for (const m of isValidPortNum(spec.healthCheckNodePort)) {
      errs.push(invalid(['spec', 'healthCheckNodePort'], spec.healthCheckNodePort, m));
    }
  }
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== 'Cluster' && itp !== 'Local') {
    errs.push(notSupported(['spec', 'internalTrafficPolicy'], itp, ['Cluster', 'Local']));
  }
  return errs;
}
