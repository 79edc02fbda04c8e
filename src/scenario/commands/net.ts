// curl and dig on a session host, run until they finish on the virtual clock.
import { eraOf } from '../../control/era.ts';
import { curl } from '../../sim/clients/curl.ts';
import { dig } from '../../sim/clients/dig.ts';
import { type ResolvConf, podResolvConf } from '../../sim/clients/resolver.ts';
import type { CommandContext, ExecResult } from './command.ts';

function resolvConfFor(ctx: CommandContext): ResolvConf {
  const s = ctx.session;
  const cfg = s.cluster.config;
  const ns = s.podNamespace(ctx.on);
  // Nodes and outside machines ask kube-dns directly but have no cluster search path.
  if (ns === undefined) return { nameservers: [cfg.dnsServiceIP], search: [], ndots: 1 };
  return podResolvConf(ns, { nameserver: cfg.dnsServiceIP, domain: cfg.clusterDomain });
}

export function curlCommand(args: string[], ctx: CommandContext): ExecResult {
  const host = ctx.session.host(ctx.on);
  let result: ExecResult | undefined;
  curl(
    host,
    args,
    (r) =>
      (result = {
        stdout: r.stdout,
        stderr: r.stderr,
        exitCode: r.exitCode,
        transcript: r.transcript,
      }),
    {
      resolvConf: resolvConfFor(ctx),
    },
  );
  ctx.session.runUntil(() => result !== undefined);
  return (
    result ?? { stdout: '', stderr: 'curl: (28) the simulation ran out of time\n', exitCode: 28 }
  );
}

export function digCommand(args: string[], ctx: CommandContext): ExecResult {
  const host = ctx.session.host(ctx.on);
  let result: ExecResult | undefined;
  dig(host, args, (r) => (result = { stdout: r.stdout, stderr: '', exitCode: r.exitCode }), {
    defaultServer: resolvConfFor(ctx).nameservers[0] ?? '10.96.0.10',
    flavor: eraOf(ctx.session.cluster.config.kubernetesVersion).dig,
  });
  ctx.session.runUntil(() => result !== undefined);
  return (
    result ?? {
      stdout: ';; connection timed out; no servers could be reached\n',
      stderr: '',
      exitCode: 9,
    }
  );
}
