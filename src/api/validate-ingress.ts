// Ingress validation (pkg/apis/networking/validation ValidateIngressSpec and
// friends). Objects arrive converted to networking.k8s.io/v1; `writtenVersion`
// only changes the wording the API server uses for the default backend.

import { forbidden, invalid, invalidRaw, notSupported, pointAt, required } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import {
  isDNS1035Label,
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
} from './names.ts';
import { validateObjectMeta } from './validate-meta.ts';
import type { HTTPIngressPath, Ingress, IngressBackend, IngressClass } from './types.ts';

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_SUFFIXES = ['/..', '/.'];
const CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

function validateBackend(b: IngressBackend, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (b.resource !== undefined && b.service !== undefined) {
    return [invalid(path, '', 'cannot set both resource and service backends')];
  }
  if (b.resource !== undefined) {
    const rp = [...path, 'resource'];
    if (b.resource.apiGroup !== undefined) {
      for (const m of isDNS1123Subdomain(b.resource.apiGroup)) {
        errs.push(invalid([...rp, 'apiGroup'], b.resource.apiGroup, m));
      }
    }
    if ((b.resource.kind ?? '') === '') errs.push(required([...rp, 'kind'], 'kind is required'));
    if ((b.resource.name ?? '') === '') errs.push(required([...rp, 'name'], 'name is required'));
    return errs;
  }
  if (b.service === undefined)
    return [invalid(path, '', 'resource or service backend is required')];
  const sp = [...path, 'service'];
  const name = b.service.name ?? '';
  if (name === '') errs.push(required([...sp, 'name']));
  for (const m of name === '' ? [] : isDNS1035Label(name))
    errs.push(invalid([...sp, 'name'], name, m));
  const port = b.service.port ?? {};
  const portName = port.name ?? '';
  const portNumber = port.number ?? 0;
  if (portName !== '' && portNumber !== 0) {
    errs.push(
      pointAt(invalid(path, '', 'cannot set both port name & port number'), [...sp, 'port']),
    );
  } else if (portName !== '') {
    for (const m of isValidPortName(portName))
      errs.push(invalid([...sp, 'port', 'name'], portName, m));
  } else if (portNumber !== 0) {
    for (const m of isValidPortNum(portNumber))
      errs.push(invalid([...sp, 'port', 'number'], portNumber, m));
  } else {
    errs.push(pointAt(required(path, 'port name or number is required'), [...sp, 'port']));
  }
  return errs;
}

function validatePath(p: HTTPIngressPath, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const pp = [...path, 'path'];
  const value = p.path ?? '';
  if (p.pathType === undefined)
    return [required([...path, 'pathType'], 'pathType must be specified')];
  switch (p.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!value.startsWith('/')) errs.push(invalid(pp, value, 'must be an absolute path'));
      if (value === '') break;
      for (const seq of INVALID_SEQUENCES) {
        if (value.includes(seq)) errs.push(invalid(pp, value, `must not contain '${seq}'`));
      }
      for (const suf of INVALID_SUFFIXES) {
        if (value.endsWith(suf)) errs.push(invalid(pp, value, `cannot end with '${suf}'`));
      }
      break;
    case 'ImplementationSpecific':
      if (value !== '' && !value.startsWith('/'))
        errs.push(invalid(pp, value, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported([...path, 'pathType'], p.pathType, PATH_TYPES));
  }
  errs.push(...validateBackend(p.backend ?? {}, [...path, 'backend']));
  return errs;
}

function validateHost(host: string, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (isIPv4(host) || isIPv6(host))
    errs.push(invalid(path, host, 'must be a DNS name, not an IP address'));
  const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  for (const m of msgs) errs.push(invalid(path, host, m));
  return errs;
}

export function validateIngress(
  ing: Ingress,
  writtenVersion = 'networking.k8s.io/v1',
): FieldError[] {
  const errs = validateObjectMeta(ing.metadata, isDNS1123Subdomain, true);
  const spec = ing.spec;
  const rules = spec.rules ?? [];
  if (rules.length === 0 && spec.defaultBackend === undefined) {
    const field = writtenVersion === 'networking.k8s.io/v1' ? 'defaultBackend' : 'backend';
    const shown =
      spec.rules === undefined ? '[]networking.IngressRule(nil)' : '[]networking.IngressRule{}';
    errs.push(invalidRaw(['spec'], shown, `either \`${field}\` or \`rules\` must be specified`));
  }
  if (spec.defaultBackend !== undefined) {
    errs.push(...validateBackend(spec.defaultBackend, ['spec', 'defaultBackend']));
  }
  rules.forEach((rule, i) => {
    const rp = ['spec', 'rules', i];
    if (rule.host !== undefined && rule.host !== '')
      errs.push(...validateHost(rule.host, [...rp, 'host']));
    if (rule.http === undefined) return;
    const paths = rule.http.paths ?? [];
    if (paths.length === 0) errs.push(required([...rp, 'http', 'paths']));
    paths.forEach((p, j) => errs.push(...validatePath(p, [...rp, 'http', 'paths', j])));
  });
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((h, j) => {
      const msgs = h.includes('*') ? isWildcardDNS1123Subdomain(h) : isDNS1123Subdomain(h);
      for (const m of msgs) errs.push(invalid(['spec', 'tls', i, 'hosts', j], h, m));
    });
  });
  if (spec.ingressClassName !== undefined) {
    for (const m of isDNS1123Subdomain(spec.ingressClassName)) {
      errs.push(invalid(['spec', 'ingressClassName'], spec.ingressClassName, m));
    }
    const annotation = ing.metadata.annotations?.[CLASS_ANNOTATION];
    if (annotation !== undefined) {
      // The API server really reports this path without `metadata.`.
      const err = invalid(
        ['annotations', CLASS_ANNOTATION],
        annotation,
        'can not be set when the class field is also set',
      );
      errs.push(pointAt(err, ['metadata', 'annotations', { key: CLASS_ANNOTATION }]));
    }
  }
  return errs;
}

// ---- IngressClass ---------------------------------------------------------------------

/** maxLenIngressClassController. */
const CONTROLLER_MAX = 250;
const HTTP_PATH_FMT = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const HTTP_PATH_RE = new RegExp(`^${HTTP_PATH_FMT}$`);

/** validation.IsDomainPrefixedPath: `acme.io/foo`, the host a DNS subdomain. */
function domainPrefixedPath(path: FieldPath, value: string): FieldError[] {
  if (value === '') return [required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host === '' || rest === '') {
    return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = isDNS1123Subdomain(host).map((m) => invalid(path, host, m));
  if (!HTTP_PATH_RE.test(rest)) {
    errs.push(
      invalid(path, rest, `Invalid path (regex used for validation is '${HTTP_PATH_FMT}')`),
    );
  }
  return errs;
}

/** ValidateIngressClass: a DNS-subdomain name, a domain-prefixed controller, parameters. */
export function validateIngressClass(ic: IngressClass): FieldError[] {
  const errs = validateObjectMeta(ic.metadata, isDNS1123Subdomain, false);
  const controller = ic.spec.controller ?? '';
  const cp = ['spec', 'controller'];
  if (controller.length > CONTROLLER_MAX) {
    errs.push({ path: cp, message: `Too long: may not be longer than ${CONTROLLER_MAX}` });
  }
  errs.push(...domainPrefixedPath(cp, controller));
  const params = ic.spec.parameters;
  if (params === undefined) return errs;
  const pp = ['spec', 'parameters'];
  if (params.apiGroup !== undefined && params.apiGroup !== '') {
    for (const m of isDNS1123Subdomain(params.apiGroup)) {
      errs.push(invalid([...pp, 'apiGroup'], params.apiGroup, m));
    }
  }
  if ((params.kind ?? '') === '') errs.push(required([...pp, 'kind']));
  if ((params.name ?? '') === '') errs.push(required([...pp, 'name']));
  const scope = params.scope ?? '';
  const ns = params.namespace;
  if (scope === '') errs.push(required([...pp, 'scope']));
  else if (scope === 'Namespace') {
    if (ns === undefined || ns === '') {
      errs.push(required([...pp, 'namespace'], "`parameters.scope` is set to 'Namespace'"));
    } else {
      for (const m of isDNS1123Subdomain(ns)) errs.push(invalid([...pp, 'namespace'], ns, m));
    }
  } else if (scope === 'Cluster') {
    if (ns !== undefined && ns !== '') {
      errs.push(forbidden([...pp, 'namespace'], "`parameters.scope` is set to 'Cluster'"));
    }
  } else {
    errs.push(notSupported([...pp, 'scope'], scope, ['Cluster', 'Namespace']));
  }
  return errs;
}
