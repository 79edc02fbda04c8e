// Hand-written Endpoints and EndpointSlices (pkg/apis/core/validation
// validateEndpointSubsets; pkg/apis/discovery/validation ValidateEndpointSlice).

import { duplicate, invalid, notSupported, required } from './errors.ts';
import type { FieldError, FieldPath } from './errors.ts';
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv4,
  isIPv6,
  isQualifiedName,
  isValidIP,
  isValidPortNum,
} from './names.ts';
import { tryIpToU32 } from '../packet/addr.ts';
import { validateObjectMeta } from './validate-meta.ts';
import type { EndpointAddress, EndpointPort, EndpointSlice, Endpoints } from './types.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

/** ValidateNonSpecialIP, IPv4 part: endpoints may not point at these. */
function specialIP(ip: string): string | undefined {
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

function validateAddress(a: EndpointAddress, path: FieldPath): FieldError[] {
  const ip = a.ip ?? '';
  const errs = isValidIP(ip).map((m) => invalid([...path, 'ip'], ip, m));
  if (a.hostname !== undefined && a.hostname !== '') {
    for (const m of isDNS1123Label(a.hostname))
      errs.push(invalid([...path, 'hostname'], a.hostname, m));
  }
  if (a.nodeName !== undefined) {
    for (const m of isDNS1123Subdomain(a.nodeName))
      errs.push(invalid([...path, 'nodeName'], a.nodeName, m));
  }
  const special = errs.length === 0 ? specialIP(ip) : undefined;
  if (special !== undefined) errs.push(invalid([...path, 'ip'], ip, special));
  return errs;
}

function validatePort(p: EndpointPort, requireName: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = p.name ?? '';
  if (requireName && name === '') errs.push(required([...path, 'name']));
  else
    for (const m of name === '' ? [] : isDNS1123Label(name))
      errs.push(invalid([...path, 'name'], name, m));
  for (const m of isValidPortNum(p.port ?? 0))
    errs.push(invalid([...path, 'port'], p.port ?? 0, m));
  if (!PROTOCOLS.includes(p.protocol))
    errs.push(notSupported([...path, 'protocol'], p.protocol, PROTOCOLS));
  const app = p.appProtocol;
  if (app !== undefined)
    for (const m of isQualifiedName(app)) errs.push(invalid([...path, 'appProtocol'], app, m));
  return errs;
}

export function validateEndpoints(ep: Endpoints): FieldError[] {
  const errs = validateObjectMeta(ep.metadata, isDNS1123Subdomain, true);
  ep.subsets.forEach((ss, i) => {
    const sp = ['subsets', i];
    const ready = ss.addresses ?? [];
    const notReady = ss.notReadyAddresses ?? [];
    if (ready.length === 0 && notReady.length === 0) {
      errs.push(required(sp, 'must specify `addresses` or `notReadyAddresses`'));
    }
    ready.forEach((a, j) => errs.push(...validateAddress(a, [...sp, 'addresses', j])));
    notReady.forEach((a, j) => errs.push(...validateAddress(a, [...sp, 'notReadyAddresses', j])));
    const ports = ss.ports ?? [];
    ports.forEach((p, j) => errs.push(...validatePort(p, ports.length > 1, [...sp, 'ports', j])));
  });
  return errs;
}

export function validateEndpointSlice(slice: EndpointSlice): FieldError[] {
  const errs = validateObjectMeta(slice.metadata, isDNS1123Subdomain, true);
  const type: string = slice.addressType;
  if (type === undefined || type === '') errs.push(required(['addressType']));
  else if (!ADDRESS_TYPES.includes(type))
    errs.push(notSupported(['addressType'], type, ADDRESS_TYPES));
  slice.endpoints.forEach((e, i) => {
    const ep = ['endpoints', i];
    const addrs = e.addresses ?? [];
    if (addrs.length === 0)
      errs.push(required([...ep, 'addresses'], 'must contain at least 1 address'));
    else if (addrs.length > 100) {
      errs.push({
        path: [...ep, 'addresses'],
        message: `Too many: ${addrs.length}: must have at most 100 items`,
      });
    }
    addrs.forEach((a, j) => {
      const ap = [...ep, 'addresses', j];
      if (type === 'IPv4' && !isIPv4(a)) errs.push(invalid(ap, a, 'must be a valid IPv4 address'));
      else if (type === 'IPv6' && !isIPv6(a))
        errs.push(invalid(ap, a, 'must be a valid IPv6 address'));
      else if (type === 'FQDN') for (const m of isDNS1123Subdomain(a)) errs.push(invalid(ap, a, m));
      const special = type === 'IPv4' && isIPv4(a) ? specialIP(a) : undefined;
      if (special !== undefined) errs.push(invalid(ap, a, special));
    });
    if (e.hostname !== undefined) {
      for (const m of isDNS1123Label(e.hostname))
        errs.push(invalid([...ep, 'hostname'], e.hostname, m));
    }
    if (e.nodeName !== undefined) {
      for (const m of isDNS1123Subdomain(e.nodeName))
        errs.push(invalid([...ep, 'nodeName'], e.nodeName, m));
    }
  });
  const names = new Set<string>();
  slice.ports.forEach((p, i) => {
    const pp = ['ports', i];
    const name = p.name ?? '';
    for (const m of name === '' ? [] : isDNS1123Label(name))
      errs.push(invalid([...pp, 'name'], name, m));
    if (names.has(name)) errs.push(duplicate([...pp, 'name'], name));
    names.add(name);
    if (!PROTOCOLS.includes(p.protocol))
      errs.push(notSupported([...pp, 'protocol'], p.protocol, PROTOCOLS));
    if (p.port !== undefined)
      for (const m of isValidPortNum(p.port)) errs.push(invalid([...pp, 'port'], p.port, m));
  });
  return errs;
}
