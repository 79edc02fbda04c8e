// The simulation as a live cluster: a Session whose virtual clock follows the wall
// clock (a tick every few milliseconds advances it to "now"), so pods start, turn
// ready and terminate in real seconds while packets still cross each node's dataplane.
import type { Session } from './session.ts';
import type {
  ClusterRuntime,
  ExecRequest,
  ExecStreams,
  LogOptions,
  PodLog,
  ToolResult,
} from '../control/runtime.ts';
import { runNodeTool } from '../proxy/node-tool.ts';
import { simExec } from './pod-exec.ts';

const TICK_MS = 10;

export class SimRuntime implements ClusterRuntime {
  readonly cluster;
  readonly epochMs: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly session: Session) {
    this.cluster = session.cluster;
    // Virtual time zero is as long ago as the session has already run.
    this.epochMs = Date.now() - Math.floor(this.cluster.now() / 1e6);
    this.cluster.epochMs = this.epochMs;
  }

  /** Start following the wall clock. */
  start(): void {
    this.timer ??= setInterval(() => this.tick(), TICK_MS);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Advance virtual time to the wall clock (never back: a command may have run ahead). */
  tick(): void {
    const target = (Date.now() - this.epochMs) * 1e6;
    const now = this.cluster.now();
    if (target > now) this.cluster.advance(target - now);
  }

  exec(req: ExecRequest, streams: ExecStreams): Promise<number> {
    return simExec(this.session, req, streams);
  }

  logs(namespace: string, pod: string, _opts: LogOptions): PodLog | undefined {
    return this.session.runtime.logs(namespace, pod);
  }

  /** The node's tool (argv[0]) through proxy/node-tool.ts, as a scenario's node runs it. */
  nodeTool(node: string, argv: string[]): Promise<ToolResult> {
    const sim = this.session.net.nodes.get(node);
    if (sim === undefined) {
      return Promise.resolve({ stdout: '', stderr: `no such node: ${node}\n`, exitCode: 1 });
    }
    return Promise.resolve(runNodeTool(sim, argv, this.cluster.now() / 1e6));
  }

  write<T>(fn: () => T): T {
    return fn();
  }
}
