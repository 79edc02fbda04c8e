// A pod's stub resolver (glibc res_nsearch as configured by the kubelet's resolv.conf):
// search list and ndots decide which names are asked, in which order, over UDP.
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { SECOND } from '../../control/clock.ts';
import { tryIpToU32 } from '../../packet/index.ts';
import type { SimHost } from '../host.ts';
import { dnsExchange } from './dns-exchange.ts';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  ndots: number;
  /** Per try, ns (resolv.conf `options timeout:`; glibc default 5 s). */
  timeoutNs?: number;
  /** Rounds over the nameservers (`options attempts:`; default 2). */
  attempts?: number;
}

/** What the kubelet writes for a ClusterFirst pod in `namespace`. */
export function podResolvConf(
  namespace: string,
  o: { nameserver?: string; domain?: string } = {},
): ResolvConf {
  const d = o.domain ?? 'cluster.local';
  return {
    nameservers: [o.nameserver ?? '10.96.0.10'],
    search: [`${namespace}.svc.${d}`, `svc.${d}`, d],
    ndots: 5,
  };
}

export function formatResolvConf(c: ResolvConf): string {
  let s = c.nameservers.map((n) => `nameserver ${n}\n`).join('');
  if (c.search.length > 0) s += `search ${c.search.join(' ')}\n`;
  return `${s}options ndots:${c.ndots}\n`;
}

export function parseResolvConf(text: string): ResolvConf {
  const c: ResolvConf = { nameservers: [], search: [], ndots: 1 };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line
      .replace(/[#;].*/, '')
      .trim()
      .split(/\s+/);
    if (key === 'nameserver' && rest[0] !== undefined) c.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') c.search = rest;
    else if (key === 'options') {
      for (const o of rest) {
        const [k, v] = o.split(':');
        if (k === 'ndots') c.ndots = Math.min(15, Number(v));
        if (k === 'timeout') c.timeoutNs = Number(v) * SECOND;
        if (k === 'attempts') c.attempts = Number(v);
      }
    }
  }
  return c;
}

/**
 * Names tried for `name`, in order (glibc __res_context_search): a trailing dot means
 * exactly that name; with at least `ndots` dots the name is tried as is first;
 * otherwise each search suffix comes first and the bare name last.
 */
export function searchCandidates(name: string, c: Pick<ResolvConf, 'search' | 'ndots'>): string[] {
  if (name.endsWith('.')) return [name.slice(0, -1)];
  const dots = name.split('.').length - 1;
  const searched = c.search.map((d) => `${name}.${d}`);
  return dots >= c.ndots ? [name, ...searched] : [...searched, name];
}

export interface ResolveAttempt {
  name: string;
  /** NOERROR, NXDOMAIN, SERVFAIL..., NODATA (NOERROR without an A), or TIMEOUT. */
  result: string;
}

export interface ResolveResult {
  /** IPv4 addresses found (empty on failure). */
  ips: string[];
  /** The name that answered, and the CNAME chain's end when there was one. */
  name: string | undefined;
  canonicalName: string | undefined;
  tried: ResolveAttempt[];
  /** EAI-style failure: NXDOMAIN ("Name or service not known") or TIMEOUT ("Temporary failure"). */
  error: 'NXDOMAIN' | 'TIMEOUT' | undefined;
  elapsedNs: number;
}

/** Resolve `name` to IPv4 addresses the way a pod's getaddrinfo() would (A queries only). */
export function resolveName(
  host: SimHost,
  name: string,
  conf: ResolvConf,
  done: (r: ResolveResult) => void,
): void {
  const start = host.clock.now();
  const literal = tryIpToU32(name);
  const base = { tried: [] as ResolveAttempt[], canonicalName: undefined };
  if (literal !== undefined || name === 'localhost') {
    const ip = literal !== undefined ? name : '127.0.0.1';
    return done({ ...base, ips: [ip], name, error: undefined, elapsedNs: 0 });
  }
  const names = searchCandidates(name, conf);
  const tried: ResolveAttempt[] = [];
  let timedOut = false;
  const next = (i: number) => {
    const candidate = names[i];
    const elapsedNs = host.clock.now() - start;
    if (candidate === undefined) {
      const error = timedOut ? 'TIMEOUT' : 'NXDOMAIN';
      return done({ ...base, ips: [], name: undefined, tried, error, elapsedNs });
    }
    ask(host, candidate, conf, (rcode, packet) => {
      const ips = packet === undefined ? [] : addresses(packet);
      tried.push({
        name: candidate,
        result: rcode === 'NOERROR' && ips.length === 0 ? 'NODATA' : rcode,
      });
      if (rcode === 'TIMEOUT') timedOut = true;
      if (ips.length === 0) return next(i + 1);
      const cname = packet?.answers?.find((a) => a.type === 'CNAME');
      done({
        ips,
        name: candidate,
        canonicalName: cname === undefined ? undefined : lastName(packet!),
        tried,
        error: undefined,
        elapsedNs: host.clock.now() - start,
      });
    });
  };
  next(0);
}

function ask(
  host: SimHost,
  name: string,
  conf: ResolvConf,
  cb: (rcode: string, packet?: DecodedPacket) => void,
): void {
  const query = dnsPacket.encode({
    type: 'query',
    id: host.rng.int(0x10000),
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: 'A', class: 'IN' }],
  });
  const servers = conf.nameservers.length > 0 ? conf.nameservers : ['127.0.0.1'];
  const attempts = (conf.attempts ?? 2) * servers.length;
  const timeoutNs = conf.timeoutNs ?? 5 * SECOND;
  const tryServer = (n: number) => {
    if (n >= attempts) return cb('TIMEOUT');
    const server = servers[n % servers.length]!;
    dnsExchange(host, query, { server, timeoutNs, tries: 1 }, (reply) => {
      if (reply === undefined) return tryServer(n + 1);
      cb((reply.packet as DecodedPacket & { rcode?: string }).rcode ?? 'NOERROR', reply.packet);
    });
  };
  tryServer(0);
}

function addresses(p: DecodedPacket): string[] {
  return (p.answers ?? [])
    .filter((a): a is Answer & { data: string } => a.type === 'A')
    .map((a) => a.data);
}

function lastName(p: DecodedPacket): string | undefined {
  const a = (p.answers ?? []).filter((x) => x.type === 'A');
  return a[a.length - 1]?.name;
}
