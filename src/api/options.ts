// Cluster settings the loader checks against — the API server's flags
// --service-cluster-ip-range and --service-node-port-range, and its release.

import { tryParseCidr } from '../packet/addr.ts';
import type { Cidr } from '../packet/addr.ts';
import type { DefaultOptions } from './defaults.ts';

export interface ValidateOptions {
  /** Service CIDR clusterIPs must fall in. Default `10.96.0.0/12`. */
  serviceCidr?: string;
  /** NodePort range, `{min, max}` or `'30000-32767'` (the default). */
  nodePortRange?: { min: number; max: number } | string;
  /**
   * The API server's release (`v1.15.1`): group versions it does not serve are refused
   * (kinds.ts SERVED). Unset: every version svclab knows is accepted.
   */
  kubernetesVersion?: string;
}

export interface LoadOptions extends DefaultOptions, ValidateOptions {
  /** Walk directories recursively (kubectl apply -R). Default false: only the directory's own files. */
  recursive?: boolean;
}

export interface ClusterLimits {
  serviceCidr: Cidr;
  serviceCidrText: string;
  nodePortMin: number;
  nodePortMax: number;
}

export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
export const DEFAULT_NODE_PORT_RANGE = { min: 30000, max: 32767 } as const;

/** Resolve options to limits; throws on a malformed CIDR or range (a caller's mistake). */
export function clusterLimits(opts: ValidateOptions = {}): ClusterLimits {
  const text = opts.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  const cidr = tryParseCidr(text);
  if (cidr === undefined) throw new Error(`invalid service CIDR: ${JSON.stringify(text)}`);
  let range = opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
  if (typeof range === 'string') {
    const m = /^(\d+)-(\d+)$/.exec(range.trim());
    if (m === null) throw new Error(`invalid node port range: ${JSON.stringify(range)}`);
    range = { min: Number(m[1]), max: Number(m[2]) };
  }
  if (!(range.min >= 1 && range.max <= 65535 && range.min <= range.max)) {
    throw new Error(`invalid node port range: ${range.min}-${range.max}`);
  }
  return {
    serviceCidr: cidr,
    serviceCidrText: text,
    nodePortMin: range.min,
    nodePortMax: range.max,
  };
}
