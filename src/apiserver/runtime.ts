// What the API server needs from the world the cluster runs in (control/runtime.ts), and
// the node tools its endpoint runs.
import { NODE_TOOL_NAMES } from '../proxy/node-tool.ts';

export type {
  ClusterRuntime,
  ExecRequest,
  ExecStreams,
  LogOptions,
  PodLog,
  ToolResult,
} from '../control/runtime.ts';

/** The node tools a client may run through `/svclab/v1/nodes/NODE/tool` (proxy/node-tool.ts). */
export const NODE_TOOLS: readonly string[] = NODE_TOOL_NAMES;
