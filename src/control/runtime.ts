// A cluster as a live world, beyond its store: running a command in a pod (kubectl exec),
// a pod's log (kubectl logs), a node's tools, and exclusive writes. The simulation on the
// wall clock (scenario/live-runtime.ts) and the lab (apiserver/lab-runtime.ts over the
// lab daemon) implement it; the API server serves whichever it is given.
import type { Cluster } from './cluster.ts';

export interface ExecRequest {
  namespace: string;
  pod: string;
  /** The container asked for (`-c`); undefined means the pod's first. */
  container?: string;
  /** argv, as kubectl sends it (`command=` repeated). */
  command: string[];
  stdin: boolean;
  tty: boolean;
}

/** The streams of one exec: what the pod writes, and what the user types. */
export interface ExecStreams {
  stdout(chunk: Uint8Array | string): void;
  stderr(chunk: Uint8Array | string): void;
  /** Bytes the user sends (only when `stdin`); ends when the user closes stdin. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}

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
