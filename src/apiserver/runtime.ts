// What the API server needs from the world the cluster runs in, beyond the store:
// running a command in a pod (kubectl exec) and a pod's log (kubectl logs). The
// simulation (`svclab serve`) and the lab (`svclab lab up`) each implement it.
import type { Cluster } from '../control/cluster.ts';
import { NODE_TOOL_NAMES } from '../proxy/node-tool.ts';
import type { ExecRequest, ExecStreams } from '../workloads/exec.ts';

export type { ExecRequest, ExecStreams } from '../workloads/exec.ts';

export interface LogOptions {
  container?: string;
  /** Lines from the end (`--tail`). */
  tailLines?: number;
  timestamps?: boolean;
}

export interface PodLog {
  lines: readonly string[];
  /** Lines dropped before lines[0]. */
  dropped: number;
}

/** What a node tool printed (iptables-save, ipvsadm -Ln, nft list ruleset, conntrack -L). */
export interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** The node tools a client may run through `/svclab/v1/nodes/NODE/tool` (proxy/node-tool.ts). */
export const NODE_TOOLS: readonly string[] = NODE_TOOL_NAMES;

/** One cluster world: the sim session or the live lab. */
export interface ClusterRuntime {
  readonly cluster: Cluster;
  /** Wall-clock milliseconds that virtual time zero stands for (creationTimestamp, AGE). */
  readonly epochMs: number;
  /**
   * Run a command in a pod. Resolves to the exit code; rejects with an Error whose message
   * is what kubectl should print (no such container, command not found ...).
   */
  exec(req: ExecRequest, streams: ExecStreams): Promise<number>;
  /**
   * The pod's log so far: the lines kept, and how many older ones were rotated away
   * (so a follower can tell new lines by their absolute index). Undefined when the
   * pod's workload writes no log.
   */
  logs(namespace: string, pod: string, opts: LogOptions): PodLog | undefined;
  /** Run one of NODE_TOOLS on a node (argv[0] is the tool), as `svclab iptables-save` would. */
  nodeTool(node: string, argv: string[]): Promise<ToolResult>;
  /**
   * Run `fn` with the cluster to itself (writes and their settling), so a long apply does
   * not interleave with a clock tick. Runtimes that are single-threaded just call it.
   */
  write<T>(fn: () => T): T;
}
