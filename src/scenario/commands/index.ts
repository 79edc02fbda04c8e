// The commands a session understands, by name.
import type { ExecResult, Session } from '../session.ts';
import { kubectl } from './kubectl.ts';
import { curlCommand, digCommand } from './net.ts';
import { countersCommand, packetCommand, readyCommand } from './sim.ts';
import {
  conntrackCommand,
  iptablesCommand,
  iptablesSaveCommand,
  ipvsadmCommand,
  nftCommand,
} from './views.ts';

export interface CommandContext {
  session: Session;
  /** Where the command runs: a node name, `pod/NAME`, or `external`. */
  on: string;
}

export type Command = (args: string[], ctx: CommandContext) => Promise<ExecResult> | ExecResult;

export const COMMANDS: Record<string, Command> = {
  kubectl,
  curl: curlCommand,
  dig: digCommand,
  ipvsadm: ipvsadmCommand,
  iptables: iptablesCommand,
  'iptables-save': iptablesSaveCommand,
  nft: nftCommand,
  conntrack: conntrackCommand,
  ready: readyCommand,
  packet: packetCommand,
  counters: countersCommand,
  sleep: (args, ctx) => {
    const s = Number(args[0] ?? '0');
    if (!(s >= 0))
      return { stdout: '', stderr: `sleep: invalid time interval '${args[0]}'\n`, exitCode: 1 };
    ctx.session.wait(s * 1e9);
    return { stdout: '', stderr: '', exitCode: 0 };
  },
  echo: (args) => ({ stdout: `${args.join(' ')}\n`, stderr: '', exitCode: 0 }),
};

export const ok = (stdout: string, stderr = ''): ExecResult => ({ stdout, stderr, exitCode: 0 });
export const fail = (stderr: string, exitCode = 1, stdout = ''): ExecResult => ({
  stdout,
  stderr,
  exitCode,
});
