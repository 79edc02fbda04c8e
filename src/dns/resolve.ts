// Answers one question with CoreDNS `kubernetes` plugin semantics (plugin/kubernetes and
// the Kubernetes DNS-Based Service Discovery spec, schema 1.1.0):
//   <svc>.<ns>.svc.<zone>            A: ClusterIP, or one per ready endpoint if headless;
//                                    CNAME for ExternalName
//   <ep>.<svc>.<ns>.svc.<zone>       A of a headless service's endpoint
//   _<port>._<proto>.<svc>...        SRV for named ports (+ A records in additional)
//   a-b-c-d.<ns>.pod.<zone>          A (pods insecure)
//   d.c.b.a.in-addr.arpa             PTR for ClusterIPs and headless endpoints
//   dns-version.<zone>               TXT "1.1.0"
// A name that exists without records of the asked type is NOERROR with no answers
// (NODATA); a name that does not exist is NXDOMAIN. Both carry the zone's SOA.
import type { Answer, RecordType } from 'dns-packet';
import type { DnsIndex, DnsService } from './index.ts';

export type Rcode = 'NOERROR' | 'NXDOMAIN' | 'SERVFAIL' | 'REFUSED' | 'FORMERR';

export interface Resolution {
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
  /** True when the name is inside a zone this server is authoritative for. */
  authoritative: boolean;
}

export interface ResolveOptions {
  ttl: number;
  /** SOA serial (CoreDNS uses the time of the last API change, in epoch seconds). */
  serial: number;
  /** Shuffles answers like CoreDNS's `loadbalance` plugin; identity when absent. */
  shuffle?: <T>(items: T[]) => T[];
}

const SCHEMA_VERSION = '1.1.0';

function soa(zone: string, o: ResolveOptions): Answer {
  return {
    name: zone,
    type: 'SOA',
    class: 'IN',
    ttl: o.ttl,
    data: {
      mname: `ns.dns.${zone}`,
      rname: `hostmaster.${zone}`,
      serial: o.serial,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: o.ttl,
    },
  };
}

const a = (name: string, ip: string, ttl: number): Answer => ({
  name,
  type: 'A',
  class: 'IN',
  ttl,
  data: ip,
});

/** Parses `d.c.b.a.in-addr.arpa` into `a.b.c.d`. */
function reverseIp(labels: string[]): string | undefined {
  if (labels.length !== 6) return undefined;
  const octets = labels.slice(0, 4).reverse();
  if (!octets.every((o) => /^(0|[1-9]\d{0,2})$/.test(o) && Number(o) <= 255)) return undefined;
  return octets.join('.');
}

function podIp(label: string): string | undefined {
  const parts = label.split('-');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) {
    return undefined;
  }
  return parts.map(Number).join('.');
}

export function resolve(
  index: DnsIndex,
  qname: string,
  qtype: RecordType,
  o: ResolveOptions,
): Resolution {
  const name = qname.replace(/\.$/, '').toLowerCase();
  const labels = name === '' ? [] : name.split('.');
  const res: Resolution = {
    rcode: 'NOERROR',
    answers: [],
    authorities: [],
    additionals: [],
    authoritative: true,
  };
  const shuffle = o.shuffle ?? (<T>(x: T[]) => x);
  const nodata = (): Resolution => ({ ...res, authorities: [soa(index.zone, o)] });
  const nxdomain = (): Resolution => ({ ...nodata(), rcode: 'NXDOMAIN' });

  if (name.endsWith('.in-addr.arpa')) {
    const ip = reverseIp(labels);
    const target = ip === undefined ? undefined : index.reverse.get(ip);
    if (target === undefined) return nxdomain();
    if (qtype !== 'PTR') return nodata();
    res.answers.push({
      name: qname.replace(/\.$/, ''),
      type: 'PTR',
      class: 'IN',
      ttl: o.ttl,
      data: target,
    });
    return res;
  }

  const zone = index.zone;
  if (name !== zone && !name.endsWith(`.${zone}`)) {
    // Outside the cluster zone: CoreDNS forwards upstream; the simulation has none.
    return { ...res, rcode: 'SERVFAIL', authoritative: false };
  }
  const rel = name === zone ? [] : labels.slice(0, labels.length - zone.split('.').length);
  const owner = qname.replace(/\.$/, '');

  if (rel.length === 0) {
    if (qtype === 'SOA') return { ...res, answers: [soa(zone, o)] };
    if (qtype === 'NS') {
      return {
        ...res,
        answers: [{ name: zone, type: 'NS', class: 'IN', ttl: o.ttl, data: `ns.dns.${zone}` }],
      };
    }
    return nodata();
  }
  if (rel.length === 1 && rel[0] === 'dns-version') {
    if (qtype !== 'TXT') return nodata();
    return {
      ...res,
      answers: [{ name: owner, type: 'TXT', class: 'IN', ttl: o.ttl, data: SCHEMA_VERSION }],
    };
  }

  const kind = rel[rel.length - 1];
  const ns = rel[rel.length - 2];
  if (kind === 'pod') {
    if (rel.length === 1) return nodata();
    if (ns === undefined || !index.namespaces.has(ns)) return nxdomain();
    if (rel.length === 2) return nodata();
    const ip = rel.length === 3 && rel[0] !== undefined ? podIp(rel[0]) : undefined;
    if (ip === undefined) return nxdomain();
    if (qtype !== 'A') return nodata();
    return { ...res, answers: [a(owner, ip, o.ttl)] };
  }
  if (kind !== 'svc') return nxdomain();
  if (rel.length === 1) return nodata();
  if (ns === undefined || !index.namespaces.has(ns)) return nxdomain();
  if (rel.length === 2) return nodata();

  const svcName = rel[rel.length - 3] ?? '';
  const entry = index.services.get(`${ns}/${svcName}`);
  if (entry === undefined) return nxdomain();
  const svcFqdn = `${svcName}.${ns}.svc.${zone}`;
  const head = rel.slice(0, rel.length - 3);

  if (head.length === 0)
    return serviceRecords(zone, entry, owner, svcFqdn, qtype, res, o, shuffle) ?? nxdomain();
  if (head.length === 1) {
    // <endpoint>.<svc>: only headless services publish endpoint names.
    if (entry.service.spec.clusterIP !== 'None') return nxdomain();
    const matches = entry.endpoints.filter((e) => e.hostname === head[0]);
    if (matches.length === 0) return nxdomain();
    if (qtype !== 'A') return nodata();
    return { ...res, answers: matches.map((e) => a(owner, e.ip, o.ttl)) };
  }
  if (head.length === 2 && head[0]?.startsWith('_') && head[1]?.startsWith('_')) {
    const portName = head[0].slice(1);
    const proto = head[1].slice(1).toUpperCase();
    const port = entry.service.spec.ports.find(
      (p) => p.name !== undefined && p.name.toLowerCase() === portName && p.protocol === proto,
    );
    if (port === undefined) return nxdomain();
    if (qtype !== 'SRV') return nodata();
    return srvRecords(entry, owner, svcFqdn, port.port, res, o, shuffle);
  }
  return nxdomain();
}

function serviceRecords(
  zone: string,
  entry: DnsService,
  owner: string,
  svcFqdn: string,
  qtype: RecordType,
  res: Resolution,
  o: ResolveOptions,
  shuffle: <T>(x: T[]) => T[],
): Resolution | undefined {
  const spec = entry.service.spec;
  if (spec.type === 'ExternalName') {
    // CNAME for any type; the target is resolved upstream, which the simulation lacks.
    const target = (spec.externalName ?? '').replace(/\.$/, '');
    return {
      ...res,
      answers: [{ name: owner, type: 'CNAME', class: 'IN', ttl: o.ttl, data: target }],
    };
  }
  const headless = spec.clusterIP === 'None';
  // A headless service without ready endpoints has no records at all: NXDOMAIN.
  if (headless && entry.endpoints.length === 0) return undefined;
  if (qtype === 'A') {
    const ips = headless ? entry.endpoints.map((e) => e.ip) : [spec.clusterIP ?? ''];
    return { ...res, answers: shuffle(ips.map((ip) => a(owner, ip, o.ttl))) };
  }
  if (qtype === 'SRV') {
    const named = spec.ports.filter((p) => p.name);
    if (named.length === 0) return { ...res, authorities: [soa(zone, o)] };
    let out = res;
    for (const p of named) out = srvRecords(entry, owner, svcFqdn, p.port, out, o, shuffle);
    return out;
  }
  return { ...res, authorities: [soa(zone, o)] };
}

function srvRecords(
  entry: DnsService,
  owner: string,
  svcFqdn: string,
  port: number,
  res: Resolution,
  o: ResolveOptions,
  shuffle: <T>(x: T[]) => T[],
): Resolution {
  const headless = entry.service.spec.clusterIP === 'None';
  const targets = headless
    ? entry.endpoints.map((e) => ({ target: `${e.hostname}.${svcFqdn}`, ip: e.ip }))
    : [{ target: svcFqdn, ip: entry.service.spec.clusterIP ?? '' }];
  // CoreDNS splits a weight of 100 evenly over the records of one priority.
  const weight = Math.floor(100 / Math.max(1, targets.length));
  const srv: Answer[] = targets.map((t) => ({
    name: owner,
    type: 'SRV',
    class: 'IN',
    ttl: o.ttl,
    data: { priority: 0, weight, port, target: t.target },
  }));
  const extra = targets.map((t) => a(t.target, t.ip, o.ttl));
  return {
    ...res,
    answers: [...res.answers, ...shuffle(srv)],
    additionals: [...res.additionals, ...extra],
  };
}
