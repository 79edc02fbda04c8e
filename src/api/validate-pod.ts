// Pods and pod templates: containers, container ports, restart and DNS policy
// (pkg/apis/core/validation ValidatePodSpec, validateContainers, validateContainerPorts).

import { duplicate, invalid, notSupported, required } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import { isDNS1123Label, isDNS1123Subdomain, isValidPortName, isValidPortNum } from './names.ts';
import { validateObjectMeta } from './validate-meta.ts';
import type { Container, Pod, PodSpec } from './types.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const RESTART_POLICIES = ['Always', 'Never', 'OnFailure'];
const DNS_POLICIES = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];

/** ValidatePortNumOrName: an int must be a port number, a string an IANA_SVC_NAME. */
export function validatePortNumOrName(port: number | string, path: FieldPath): FieldError[] {
  const msgs = typeof port === 'number' ? isValidPortNum(port) : isValidPortName(port);
  return msgs.map((m) => invalid(path, port, m));
}

function validateContainerPorts(c: Container, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (c.ports ?? []).forEach((p, i) => {
    const pp = [...path, i];
    const name = p.name ?? '';
    if (name !== '') {
      const msgs = isValidPortName(name);
      for (const m of msgs) errs.push(invalid([...pp, 'name'], name, m));
      if (msgs.length === 0 && names.has(name)) errs.push(duplicate([...pp, 'name'], name));
      names.add(name);
    }
    if ((p.containerPort ?? 0) === 0) {
      errs.push(required([...pp, 'containerPort']));
    } else {
      for (const m of isValidPortNum(p.containerPort)) {
        errs.push(invalid([...pp, 'containerPort'], p.containerPort, m));
      }
    }
    if ((p.hostPort ?? 0) !== 0) {
      for (const m of isValidPortNum(p.hostPort ?? 0))
        errs.push(invalid([...pp, 'hostPort'], p.hostPort, m));
    }
    if (!PROTOCOLS.includes(p.protocol)) {
      errs.push(notSupported([...pp, 'protocol'], p.protocol, PROTOCOLS));
    }
  });
  return errs;
}

function validateContainers(
  containers: readonly Container[] | undefined,
  path: FieldPath,
  requireOne: boolean,
): FieldError[] {
  const errs: FieldError[] = [];
  const list = containers ?? [];
  if (requireOne && list.length === 0) errs.push(required(path));
  const names = new Set<string>();
  list.forEach((c, i) => {
    const cp = [...path, i];
    if ((c.name ?? '') === '') errs.push(required([...cp, 'name']));
    else for (const m of isDNS1123Label(c.name)) errs.push(invalid([...cp, 'name'], c.name, m));
    if ((c.image ?? '') === '') errs.push(required([...cp, 'image']));
    if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) {
      errs.push(notSupported([...cp, 'imagePullPolicy'], c.imagePullPolicy, PULL_POLICIES));
    }
    errs.push(...validateContainerPorts(c, [...cp, 'ports']));
    (c.env ?? []).forEach((e, j) => {
      if ((e.name ?? '') === '') errs.push(required([...cp, 'env', j, 'name']));
    });
    if (c.name !== undefined && c.name !== '') {
      if (names.has(c.name)) errs.push(duplicate([...cp, 'name'], c.name));
      names.add(c.name);
    }
  });
  return errs;
}

/** Two containers of a pod may not claim the same host IP/protocol/port. */
function hostPortConflicts(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  spec.containers?.forEach((c, i) => {
    (c.ports ?? []).forEach((p, j) => {
      if ((p.hostPort ?? 0) === 0) return;
      const hostIP = p.hostIP ?? '';
      const key = `${hostIP}/${p.protocol}/${p.hostPort}`;
      if (seen.has(key))
        errs.push(duplicate([...path, 'containers', i, 'ports', j, 'hostPort'], key));
      seen.add(key);
    });
  });
  return errs;
}

export function validatePodSpec(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs = validateContainers(spec.containers, [...path, 'containers'], true);
  errs.push(...validateContainers(spec.initContainers, [...path, 'initContainers'], false));
  errs.push(...hostPortConflicts(spec, path));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy)) {
    errs.push(notSupported([...path, 'restartPolicy'], spec.restartPolicy, RESTART_POLICIES));
  }
  if (spec.dnsPolicy !== undefined && !DNS_POLICIES.includes(spec.dnsPolicy)) {
    errs.push(notSupported([...path, 'dnsPolicy'], spec.dnsPolicy, DNS_POLICIES));
  }
  if (spec.hostname !== undefined && spec.hostname !== '') {
    for (const m of isDNS1123Label(spec.hostname))
      errs.push(invalid([...path, 'hostname'], spec.hostname, m));
  }
  if (spec.subdomain !== undefined && spec.subdomain !== '') {
    for (const m of isDNS1123Label(spec.subdomain)) {
      errs.push(invalid([...path, 'subdomain'], spec.subdomain, m));
    }
  }
  return errs;
}

export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, isDNS1123Subdomain, true);
  errs.push(...validatePodSpec(pod.spec, ['spec']));
  return errs;
}
