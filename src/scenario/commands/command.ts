// What a command is: a function of its arguments and of the prompt it runs at. The
// session (session.ts) holds the registry (index.ts) and the commands hold this, so the
// imports point one way: session → index → each command → command.ts.
import type { Cluster } from '../../control/cluster.ts';
import type { ProxyMode } from '../../control/node-setup.ts';
import type { SimHost } from '../../sim/host.ts';
import type { SimNetwork } from '../../sim/network.ts';

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** stdout and stderr interleaved as a terminal shows them, when the tool knows. */
  transcript?: string;
}

/** What a command may use of the session it runs in (`Session` in session.ts has it all). */
export interface CommandSession {
  readonly cluster: Cluster;
  readonly net: SimNetwork;
  readonly mode: ProxyMode;
  /** Where relative file names in commands are found. */
  readonly baseDir: string;
  /** Run virtual time forward. */
  wait(ns: number): void;
  /** Run virtual time until `done()` or `limitNs` has passed; returns whether it finished. */
  runUntil(done: () => boolean, limitNs?: number): boolean;
  /** The host a command runs on: a node name, `pod/NAME` (prefix ok), or `external`. */
  host(on: string): SimHost;
  /** Namespace of the pod a host belongs to (for its resolv.conf), or undefined for nodes. */
  podNamespace(on: string): string | undefined;
  /** A pod's log lines (kubectl logs), or undefined when it has none. */
  podLogs(namespace: string, name: string): readonly string[] | undefined;
  /** The proxy mode kube-proxy runs on a node now (it changes when kube-proxy restarts). */
  modeOn(node: string): ProxyMode;
}

export interface CommandContext {
  session: CommandSession;
  /** Where the command runs: a node name, `pod/NAME`, or `external`. */
  on: string;
  /** What a pipe feeds the command (`… | grep x`, `… | kubectl apply -f -`). */
  stdin?: string;
}

export type Command = (args: string[], ctx: CommandContext) => Promise<ExecResult> | ExecResult;

export const ok = (stdout: string, stderr = ''): ExecResult => ({ stdout, stderr, exitCode: 0 });
export const fail = (stderr: string, exitCode = 1, stdout = ''): ExecResult => ({
  stdout,
  stderr,
  exitCode,
});
