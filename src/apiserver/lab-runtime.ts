// The live lab as a ClusterRuntime: the daemon's cluster (its clock already follows the
// wall clock), `kubectl exec` in the pod's network namespace, and writes that kick the
// lab's runtime so new pods get their namespaces and workers.
import type { LabDaemon } from '../lab/daemon.ts';
import { labExec } from '../lab/exec-stream.ts';
import { labNodeTool } from '../lab/views.ts';
import type {
  ClusterRuntime,
  ExecRequest,
  ExecStreams,
  LogOptions,
  PodLog,
  ToolResult,
} from './runtime.ts';

export class LabClusterRuntime implements ClusterRuntime {
  readonly cluster;
  readonly epochMs: number;

  constructor(private readonly daemon: LabDaemon) {
    this.cluster = daemon.cluster;
    this.epochMs = Date.now() - Math.floor(this.cluster.now() / 1e6);
    this.cluster.epochMs = this.epochMs;
  }

  exec(req: ExecRequest, streams: ExecStreams): Promise<number> {
    const host = this.daemon.runtime
      .list()
      .find((h) => h.kind === 'pod' && h.namespace === req.namespace && h.name === req.pod);
    if (host === undefined) {
      return Promise.reject(
        new Error(`unable to upgrade connection: pod ${req.pod} has no network namespace yet`),
      );
    }
    return labExec(host.netns, req, streams);
  }

  /** The lab's workers write no log the daemon keeps (yet): nothing to show. */
  /** Lab pods keep no logs yet; a kube-proxy pod's log is what its node's kube-proxy wrote. */
  logs(namespace: string, pod: string, _opts: LogOptions): PodLog | undefined {
    if (namespace !== 'kube-system') return undefined;
    for (const n of this.daemon.net.nodes.values()) {
      const lines = n.kubeProxy.podLog(pod);
      if (lines !== undefined) return { lines, dropped: 0 };
    }
    return undefined;
  }

  /** The node's tool (argv[0]) through proxy/node-tool.ts: the lab node's views, the tools' grammar. */
  nodeTool(node: string, argv: string[]): Promise<ToolResult> {
    const sim = this.daemon.net.nodes.get(node);
    if (sim === undefined) {
      return Promise.resolve({ stdout: '', stderr: `no such node: ${node}\n`, exitCode: 1 });
    }
    return Promise.resolve(labNodeTool(this.cluster, sim, argv));
  }

  write<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.daemon.changed();
    }
  }
}
