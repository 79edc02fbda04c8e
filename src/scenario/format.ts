// Scenario files (YAML): a title, the manifests' folder, and steps a reader would take —
// commands with expectations, waits, notes. Errors name file:line and the field.
// See docs/scenarios.md for the format.
import { compileExpectRegex } from './regex.ts';
import { InputError, readBounded } from '../api/load.ts';
import { dirname, resolve } from 'node:path';
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { PROXY_MODES, type ProxyMode } from '../control/node-setup.ts';
import type { LinkKind, LinkProfile } from '../sim/network.ts';

export interface Matcher {
  /** Exact text. */
  equals?: string;
  contains?: string[];
  /** Regular expressions (multiline); each must match. */
  matches?: string[];
  /** How many times `matches[0]` must match. */
  count?: number;
  /** Text that must not appear. */
  absent?: string[];
}

export interface Distribution {
  /** How many different answers the repeated runs must give. */
  answers: number;
  /** Each answer's share must lie within 1/answers ± tolerance. */
  tolerance: number;
}

export interface Expect {
  exitCode?: number;
  distribution?: Distribution;
  stdout?: Matcher;
  stderr?: Matcher;
  /** Distinct stdouts over `repeat` runs (load balancing shows as several answers). */
  distinct?: number;
}

export type Step =
  | { kind: 'note'; text: string; line: number }
  | { kind: 'wait'; ns: number; line: number }
  | { kind: 'apply'; manifest: string; expect?: Expect; line: number }
  | {
      kind: 'run';
      command: string;
      on: string;
      repeat: number;
      show: boolean;
      expect?: Expect;
      /** Run only in these proxy modes (e.g. ipvsadm in ipvs mode). */
      only?: ProxyMode[];
      line: number;
    };

/** Cluster settings a scenario may change (defaults: the seed's three-node cluster). */
export interface ScenarioCluster {
  /**
   * ipvsModules: false makes a node without the IPVS kernel modules (kube-proxy's fallback);
   * imagePullSeconds: how long the node takes to pull an image it does not have yet.
   */
  nodes?: {
    name: string;
    ip: string;
    controlPlane?: boolean;
    ipvsModules?: boolean;
    imagePullSeconds?: number;
  }[];
  podCIDR?: string;
  serviceCIDR?: string;
  dnsServiceIP?: string;
  /** Let ordinary pods run on the control-plane node. */
  taintControlPlane?: boolean;
  /** The cluster's version (printed versions, kube-proxy's behaviour and log format). */
  kubernetesVersion?: string;
  /** --ipvs-scheduler in ipvs mode (rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, mh). */
  scheduler?: string;
  /** Link profiles by kind (veth, node, external): latency, bandwidth, MTU, loss. */
  links?: Partial<Record<LinkKind, Partial<LinkProfile>>>;
}

const BANDWIDTH = /^(\d+(?:\.\d+)?)\s*(bit|kbit|mbit|gbit)$/i;
const BW_UNIT: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 };

function parseLinks(v: unknown, fail: (m: string) => Error): ScenarioCluster['links'] {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw fail('cluster.links: a mapping');
  const out: Partial<Record<LinkKind, Partial<LinkProfile>>> = {};
  for (const [kind, raw] of Object.entries(v as Record<string, unknown>)) {
    if (kind !== 'veth' && kind !== 'node' && kind !== 'external') {
      throw fail(`cluster.links: unknown link kind "${kind}" (veth, node, external)`);
    }
    const o = (raw ?? {}) as Record<string, unknown>;
    const p: Partial<LinkProfile> = {};
    for (const k of Object.keys(o)) {
      if (!['latency', 'bandwidth', 'mtu', 'loss'].includes(k))
        throw fail(`cluster.links.${kind}: unknown field "${k}"`);
    }
    if (o.latency !== undefined) {
      const ns = parseDuration(String(o.latency));
      if (ns === undefined) throw fail(`cluster.links.${kind}.latency: a duration like 2ms`);
      p.latencyNs = ns;
    }
    if (o.bandwidth !== undefined) {
      const m = BANDWIDTH.exec(String(o.bandwidth));
      if (!m) throw fail(`cluster.links.${kind}.bandwidth: like 100Mbit`);
      p.bandwidthBps = Number(m[1]) * BW_UNIT[m[2]!.toLowerCase()]!;
    }
    if (o.mtu !== undefined) {
      if (!Number.isInteger(o.mtu) || (o.mtu as number) < 68)
        throw fail(`cluster.links.${kind}.mtu: an integer >= 68`);
      p.mtu = o.mtu as number;
    }
    if (o.loss !== undefined) {
      if (typeof o.loss !== 'number' || o.loss < 0 || o.loss >= 1)
        throw fail(`cluster.links.${kind}.loss: a fraction in [0, 1)`);
      p.loss = o.loss;
    }
    out[kind] = p;
  }
  return out;
}

export interface Scenario {
  file: string;
  cluster?: ScenarioCluster;
  title: string;
  /** Where the seed walkthrough tells this part (section name). */
  section?: string;
  /** Folder relative file names in commands are looked up in. */
  dir: string;
  proxyMode?: ProxyMode;
  seed?: number;
  steps: Step[];
}

export class ScenarioError extends Error {}

/** The longest `wait:` (and `sleep`) a scenario may ask for: 7 days of virtual time. */
export const MAX_WAIT_NS = 7 * 24 * 3600 * 1e9;
/** The largest scenario file read (1 MiB): scenarios are lists of commands. */
export const SCENARIO_MAX_BYTES = 1 << 20;
/** The most runs one step's `repeat:` may ask for. */
export const MAX_REPEAT = 10_000;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_NS: Record<string, number> = { ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s.trim());
  return m ? Number(m[1]) * UNIT_NS[m[2]!]! : undefined;
}

function matcher(v: unknown, where: string): Matcher {
  if (typeof v === 'string') return { equals: v };
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new ScenarioError(
      `${where}: must be a string or a mapping (contains, matches, count, absent)`,
    );
  }
  const o = v as Record<string, unknown>;
  const list = (k: string): string[] | undefined => {
    const x = o[k];
    if (x === undefined) return undefined;
    const arr = Array.isArray(x) ? x : [x];
    if (!arr.every((s) => typeof s === 'string'))
      throw new ScenarioError(`${where}.${k}: must be text`);
    return arr as string[];
  };
  for (const k of Object.keys(o)) {
    if (!['equals', 'contains', 'matches', 'count', 'absent'].includes(k)) {
      throw new ScenarioError(`${where}: unknown field "${k}"`);
    }
  }
  const m: Matcher = {};
  const eq = o.equals;
  if (eq !== undefined) {
    if (typeof eq !== 'string') throw new ScenarioError(`${where}.equals: must be text`);
    m.equals = eq;
  }
  const contains = list('contains');
  const matches = list('matches');
  const absent = list('absent');
  if (contains) m.contains = contains;
  if (matches) {
    for (const r of matches) {
      try {
        compileExpectRegex(r);
      } catch (err) {
        throw new ScenarioError(`${where}.matches: ${(err as Error).message}`);
      }
    }
    m.matches = matches;
  }
  if (absent) m.absent = absent;
  if (o.count !== undefined) {
    if (!Number.isInteger(o.count)) throw new ScenarioError(`${where}.count: must be an integer`);
    m.count = o.count as number;
  }
  return m;
}

export function parseScenario(text: string, file: string): Scenario {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new ScenarioError(`${file}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const lineOf = (n: YamlNode | null | undefined) => (n?.range ? lc.linePos(n.range[0]).line : 1);
  const root = doc.contents;
  if (!isMap(root))
    throw new ScenarioError(`${file}:1: a scenario is a mapping with title and steps`);
  const top = doc.toJS() as Record<string, unknown>;
  const at = (line: number, msg: string) => new ScenarioError(`${file}:${line}: ${msg}`);
  for (const k of Object.keys(top)) {
    if (!['title', 'section', 'dir', 'proxyMode', 'seed', 'cluster', 'steps'].includes(k)) {
      throw at(lineOf(root.get(k, true) as YamlNode), `unknown field "${k}"`);
    }
  }
  if (typeof top.title !== 'string') throw at(1, 'title: required text');
  const mode = top.proxyMode;
  if (mode !== undefined && !PROXY_MODES.includes(mode as ProxyMode)) {
    throw at(
      lineOf(root.get('proxyMode', true) as YamlNode),
      `proxyMode: must be one of ${PROXY_MODES.join(', ')}`,
    );
  }
  const cluster =
    top.cluster === undefined
      ? undefined
      : parseCluster(top.cluster, (m) => at(lineOf(root.get('cluster', true) as YamlNode), m));
  const stepsNode = root.get('steps', true) as YamlNode | undefined;
  if (!isSeq(stepsNode)) throw at(lineOf(stepsNode), 'steps: required list');
  const steps: Step[] = stepsNode.items.map((item, i) => {
    const line = lineOf(item as YamlNode);
    const where = `steps[${i}]`;
    const s = (item as { toJSON(): unknown }).toJSON() as Record<string, unknown> | string;
    if (typeof s === 'string')
      return { kind: 'run', command: s, on: 'k8s-master01', repeat: 1, show: true, line };
    if (typeof s.note === 'string') return { kind: 'note', text: s.note, line };
    if (s.wait !== undefined) {
      const ns = parseDuration(String(s.wait));
      if (ns === undefined) throw at(line, `${where}.wait: a duration like 5s, 500ms or 2m`);
      if (ns > MAX_WAIT_NS)
        throw at(
          line,
          `${where}.wait: at most 168h (7 days of virtual time), got ${String(s.wait)}`,
        );
      return { kind: 'wait', ns, line };
    }
    const parseExpect = (): Expect | undefined => {
      if (s.expect === undefined) return undefined;
      const e = s.expect as Record<string, unknown>;
      const out: Expect = {};
      for (const k of Object.keys(e)) {
        if (!['exitCode', 'stdout', 'stderr', 'distinct', 'distribution'].includes(k))
          throw at(line, `${where}.expect: unknown field "${k}"`);
      }
      if (e.exitCode !== undefined) out.exitCode = Number(e.exitCode);
      if (e.distinct !== undefined) out.distinct = Number(e.distinct);
      if (e.distribution !== undefined) {
        const d = e.distribution as Record<string, unknown>;
        if (!Number.isInteger(d.answers) || typeof d.tolerance !== 'number')
          throw at(
            line,
            `${where}.expect.distribution: needs answers (integer) and tolerance (a fraction)`,
          );
        out.distribution = { answers: d.answers as number, tolerance: d.tolerance };
      }
      try {
        if (e.stdout !== undefined) out.stdout = matcher(e.stdout, `${where}.expect.stdout`);
        if (e.stderr !== undefined) out.stderr = matcher(e.stderr, `${where}.expect.stderr`);
      } catch (err) {
        throw at(line, (err as Error).message);
      }
      return out;
    };
    if (typeof s.apply === 'string') {
      for (const k of Object.keys(s)) {
        if (!['apply', 'expect'].includes(k)) throw at(line, `${where}: unknown field "${k}"`);
      }
      const expect = parseExpect();
      return { kind: 'apply', manifest: s.apply, ...(expect ? { expect } : {}), line };
    }
    if (typeof s.run !== 'string') throw at(line, `${where}: needs run, apply, wait or note`);
    for (const k of Object.keys(s)) {
      if (!['run', 'on', 'repeat', 'show', 'expect', 'only'].includes(k))
        throw at(line, `${where}: unknown field "${k}"`);
    }
    const only = s.only === undefined ? undefined : Array.isArray(s.only) ? s.only : [s.only];
    if (only !== undefined && !only.every((m) => PROXY_MODES.includes(m as ProxyMode))) {
      throw at(line, `${where}.only: proxy modes among ${PROXY_MODES.join(', ')}`);
    }
    const repeat = s.repeat ?? 1;
    if (!Number.isInteger(repeat) || (repeat as number) < 1)
      throw at(line, `${where}.repeat: a positive integer`);
    if ((repeat as number) > MAX_REPEAT)
      throw at(line, `${where}.repeat: at most ${MAX_REPEAT}, got ${String(repeat)}`);
    const expect = parseExpect();
    return {
      kind: 'run',
      command: s.run,
      on: typeof s.on === 'string' ? s.on : 'k8s-master01',
      repeat: repeat as number,
      show: s.show !== false,
      ...(expect ? { expect } : {}),
      ...(only ? { only: only as ProxyMode[] } : {}),
      line,
    };
  });
  return {
    file,
    title: top.title,
    ...(typeof top.section === 'string' ? { section: top.section } : {}),
    dir: resolve(dirname(file), typeof top.dir === 'string' ? top.dir : '.'),
    ...(mode !== undefined ? { proxyMode: mode as ProxyMode } : {}),
    ...(typeof top.seed === 'number' ? { seed: top.seed } : {}),
    ...(cluster ? { cluster } : {}),
    steps,
  };
}

function parseCluster(v: unknown, fail: (m: string) => Error): ScenarioCluster {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail('cluster: a mapping');
  const o = v as Record<string, unknown>;
  const known = [
    'nodes',
    'podCIDR',
    'serviceCIDR',
    'dnsServiceIP',
    'taintControlPlane',
    'scheduler',
    'links',
    'kubernetesVersion',
  ];
  for (const k of Object.keys(o))
    if (!known.includes(k)) throw fail(`cluster: unknown field "${k}"`);
  const c: ScenarioCluster = {};
  if (o.nodes !== undefined) {
    if (
      !Array.isArray(o.nodes) ||
      !o.nodes.every(
        (n) =>
          typeof n?.name === 'string' &&
          typeof n?.ip === 'string' &&
          (n.imagePullSeconds === undefined ||
            (typeof n.imagePullSeconds === 'number' &&
              n.imagePullSeconds >= 0 &&
              n.imagePullSeconds <= 3600)),
      )
    )
      throw fail(
        'cluster.nodes: a list of {name, ip, controlPlane?, ipvsModules?, imagePullSeconds? (0-3600)}',
      );
    c.nodes = o.nodes as ScenarioCluster['nodes'] & object;
  }
  if (o.kubernetesVersion !== undefined) {
    if (typeof o.kubernetesVersion !== 'string' || !/^v1\.\d+\.\d+$/.test(o.kubernetesVersion))
      throw fail('cluster.kubernetesVersion: a version like v1.32.0');
    c.kubernetesVersion = o.kubernetesVersion;
  }
  for (const k of ['podCIDR', 'serviceCIDR', 'dnsServiceIP', 'scheduler'] as const) {
    if (o[k] === undefined) continue;
    if (typeof o[k] !== 'string') throw fail(`cluster.${k}: text`);
    c[k] = o[k] as string;
  }
  if (o.taintControlPlane !== undefined) c.taintControlPlane = o.taintControlPlane === true;
  if (o.links !== undefined) c.links = parseLinks(o.links, fail)!;
  return c;
}

/**
 * A file of `parts` (e.g. scenarios/seed/walkthrough.yaml) chains other scenario files,
 * each replayed on its own fresh cluster, in order. Returns the part files (resolved), or
 * undefined when the file is an ordinary scenario.
 */
export function scenarioParts(file: string): string[] | undefined {
  let doc: unknown;
  try {
    doc = parseDocument(readBounded(file, SCENARIO_MAX_BYTES, 'scenario')).toJS();
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || !('parts' in doc)) return undefined;
  const parts = (doc as { parts: unknown }).parts;
  if (!Array.isArray(parts) || !parts.every((p) => typeof p === 'string')) {
    throw new ScenarioError(`${file}: parts: a list of scenario file names`);
  }
  return parts.map((p: string) => resolve(dirname(file), p));
}

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readBounded(file, SCENARIO_MAX_BYTES, 'scenario');
  } catch (err) {
    if (err instanceof InputError) throw new ScenarioError(`${file}: ${err.message}`);
    throw new ScenarioError(
      `${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  return parseScenario(text, file);
}
