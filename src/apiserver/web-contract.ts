// The web view's endpoints beyond the Kubernetes API, as JSON types: the contract between
// the API server (apiserver/web.ts, journey.ts, compare.ts) and the page (src/web/), which
// imports only these declarations. docs/web.md describes each endpoint.
//
//   GET  /svclab/v1/web        → WebInfo          the cluster's mode, nodes, journey sources
//   GET  /svclab/v1/web/watch?pods=RV&…          one watch stream for the page's kinds
//   POST /svclab/v1/journeys   ← JourneyRequest   → Journey: one real request, hop by hop
//   POST /svclab/v1/compare    ← CompareRequest   → CompareResult: one packet in each mode
//   GET  /svclab/v1/bench      → BenchIndex       the latest `svclab bench` run's charts
//   POST /svclab/v1/web/login  → { url }          a new one-time login URL (bearer only)

/** A place a request can start from. */
export interface JourneySource {
  /** What JourneyRequest.from takes: `client`, `external`, `node/NAME`, `pod/NS/NAME`. */
  id: string;
  kind: 'client' | 'external' | 'node' | 'pod';
  label: string;
  ip: string;
}

export interface WebInfo {
  /** `sim` (svclab serve) or `lab` (svclab lab up). */
  runtime: 'sim' | 'lab';
  /** The proxy mode every node runs: iptables, ipvs or nftables. */
  mode: string;
  nodes: { name: string; ip: string; podCIDR: string }[];
  /** The sources a journey can start from (pods are listed by the page itself). */
  sources: JourneySource[];
  /** The address outside hosts have (the seed's outside machine). */
  externalIP: string;
  /** Whether POST /svclab/v1/compare is served (the simulation only). */
  compare: boolean;
}

export interface JourneyRequest {
  /** A JourneySource id, or `pod/NS/NAME`. */
  from: string;
  /**
   * `NAME:PORT` or `svc/NS/NAME:PORT` (a Service's ClusterIP), `IP:PORT` (a ClusterIP, a
   * pod, a node IP with a NodePort, a LoadBalancer IP), or `http://HOST/PATH` (an Ingress
   * rule, sent to the ingress controller's Service with that Host header).
   */
  to: string;
}

/** An IPv4 packet's header as the page shows it. */
export interface Header {
  proto: 'tcp' | 'udp' | 'icmp' | string;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  /** TCP flags (`SYN`, `SYN,ACK` …) or the ICMP type (`port-unreachable` …); '' for UDP. */
  flags: string;
  /** Payload bytes after the L4 header. */
  length: number;
}

/** One step of a rule walk (proxy/trace.ts TraceEvent), with its netfilter hook. */
export interface TraceStep {
  hook: string;
  table: string;
  chain: string;
  ruleNum: number;
  kind: 'rule' | 'return' | 'policy';
  text: string;
  result?: string;
}

/** Something on the topology a packet is at: `pod/NS/NAME`, `node/NAME`, `external`, `client`, `router`. */
export type PlaceId = string;

/** One packet crossing one node's dataplane. */
export interface Hop {
  /** Order of the crossing within the journey (0 first). */
  seq: number;
  /** Which way: from the client toward the server, or back. */
  direction: 'request' | 'reply';
  /** The connection it belongs to: 0 the client's, 1 a proxy's upstream (ingress-nginx) … */
  leg: number;
  node: string;
  /** Where it came from and where the node sent it. */
  from: PlaceId;
  to: PlaceId;
  inIface: string;
  outIface: string;
  before: Header;
  after: Header;
  verdict: 'forward' | 'local' | 'drop';
  /** NAT the node applied (`DNAT 10.96.0.5:80 → 10.244.1.3:80`, `SNAT … (MASQUERADE)`). */
  nat: string[];
  /** conntrack: a new connection (rules walked) or an established one (NAT from the entry). */
  ct: 'new' | 'established' | 'related' | 'invalid';
  /** The rules walked (new connections only: later packets follow conntrack). */
  trace: TraceStep[];
  /** Why it was dropped (dataplane drop counter name: rule-reject, rule-drop …). */
  drop?: string;
  /** Packets the node generated for this one (ICMP port unreachable for a REJECT). */
  emitted: Header[];
}

export interface Journey {
  from: JourneySource;
  /** The target as given, and the address the first packet is sent to. */
  to: string;
  dst: string;
  /** The command run on the source, as typed. */
  command: string;
  /** answered: a reply came back; rejected: ICMP unreachable or RST; dropped/timeout: nothing came back. */
  outcome: 'answered' | 'rejected' | 'dropped' | 'failed';
  /** One sentence: where and why. */
  summary: string;
  /** What the command printed (first lines), and its exit code. */
  stdout: string;
  stderr: string;
  exitCode: number;
  hops: Hop[];
  /** True when more packets crossed than `hops` holds. */
  truncated: boolean;
  /** The conntrack entry each node made for the journey's connections (`conntrack -L` lines). */
  conntrack: { node: string; entry: string }[];
  /** The backend that answered (the pod the DNAT chose), when one did. */
  backend?: { pod?: string; ip: string; port: number };
}

export interface CompareRequest {
  /** Extra Services (each with one endpoint) beside the cluster's own, 0 … 10,000. */
  services: number;
  /** The target as in JourneyRequest.to (a Service or IP:PORT); default the first Service. */
  to?: string;
  /** The source address (default a pod's, else the first node's). */
  from?: string;
}

export interface CompareMode {
  mode: string;
  /** Rules evaluated (iptables/nftables: every rule a linear walk compares), or lookups (ipvs). */
  visited: number;
  /** What was counted, in words (`rules compared`, `hash lookups`). */
  unit: string;
  /** Rules that matched / lookups made, as `svclab trace` prints them. */
  steps: TraceStep[];
  /** The first packet's outcome (`DNAT 10.96.0.5:80 → 10.244.1.3:80`, `REJECT`). */
  result: string;
  /** Rules (or virtual servers) the mode holds in total. */
  tableSize: number;
  /** Wall time of the classification, µs. */
  micros: number;
}

export interface CompareResult {
  services: number;
  to: string;
  from: string;
  modes: CompareMode[];
}

export interface BenchIndex {
  date: string;
  commit: string;
  argv: string[];
  charts: { suite: string; url: string }[];
  summary?: string;
}
