// The live lab as a ClusterRuntime: the daemon's cluster (its clock already follows the
// wall clock), `kubectl exec` in the pod's network namespace, and writes that kick the
// lab's runtime so new pods get their namespaces and workers.
import type { LabDaemon } from '../lab/daemon.ts';
import { labExec } from '../lab/exec-stream.ts';
import { renderShow } from '../lab/views.ts';
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
  logs(_namespace: string, _pod: string, _opts: LogOptions): PodLog | undefined {
    return undefined;
  }

  /**
   * The lab's `show` views by tool name. Each prints the tool's main listing (iptables
   * -t nat -nvL, ipvsadm -Ln, nft list ruleset, conntrack -L); other flags are not read.
   */
  nodeTool(node: string, argv: string[]): Promise<ToolResult> {
    const what: Record<string, string> = {
      'iptables-save': 'iptables-save',
      iptables: 'iptables',
      nft: 'nft',
      ipvsadm: 'ipvs',
      conntrack: 'conntrack',
    };
    const sim = this.daemon.net.nodes.get(node);
    const view = what[argv[0] ?? ''];
    if (sim === undefined || view === undefined) {
      return Promise.resolve({ stdout: '', stderr: `no such node or tool\n`, exitCode: 1 });
    }
    return Promise.resolve(renderShow(this.cluster, sim, { what: view, node }));
  }

  write<T>(fn: () => T): T {
    try {
      return fn();
    } finally {
      this.daemon.changed();
    }
  }
}
