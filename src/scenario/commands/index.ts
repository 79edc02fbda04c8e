// The commands a session understands, by name.
import { MAX_WAIT_NS } from '../format.ts';
import type { Command } from './command.ts';
import { kubectl } from './kubectl.ts';
import { curlCommand, digCommand } from './net.ts';
import { countersCommand, packetCommand, readyCommand } from './sim.ts';
import { grepCommand, sedCommand } from './text.ts';
import {
  conntrackCommand,
  iptablesCommand,
  iptablesSaveCommand,
  ipsetCommand,
  ipvsadmCommand,
  nftCommand,
} from './views.ts';

export type { Command, CommandContext, CommandSession, ExecResult } from './command.ts';

export const COMMANDS: Record<string, Command> = {
  kubectl,
  curl: curlCommand,
  dig: digCommand,
  ipvsadm: ipvsadmCommand,
  iptables: iptablesCommand,
  'iptables-save': iptablesSaveCommand,
  nft: nftCommand,
  ipset: ipsetCommand,
  conntrack: conntrackCommand,
  ready: readyCommand,
  packet: packetCommand,
  counters: countersCommand,
  grep: grepCommand,
  sed: sedCommand,
  sleep: (args, ctx) => {
    const s = Number(args[0] ?? '0');
    if (!(s >= 0))
      return { stdout: '', stderr: `sleep: invalid time interval '${args[0]}'\n`, exitCode: 1 };
    // Virtual time, but bounded all the same: 7 days at most (MAX_WAIT_NS).
    if (s * 1e9 > MAX_WAIT_NS)
      return {
        stdout: '',
        stderr: `sleep: ${args[0]}s is more than svclab's limit of 604800s (7 days of virtual time)\n`,
        exitCode: 1,
      };
    ctx.session.wait(s * 1e9);
    return { stdout: '', stderr: '', exitCode: 0 };
  },
  echo: (args) => ({ stdout: `${args.join(' ')}\n`, stderr: '', exitCode: 0 }),
};
