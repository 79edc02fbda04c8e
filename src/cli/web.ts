// The web view from the command line: the network a journey runs through (the
// simulation's session for `svclab serve`, the lab daemon for `svclab lab up`), and
// `svclab web-login`, which asks a running cluster for a fresh one-time login URL with
// the kubeconfig's token (the lab's daemon writes its output to a log, so it prints none).
import type { Command } from 'commander';
import { request } from 'node:https';
import type { JourneyDriver } from '../apiserver/journey.ts';
import type { JourneySource } from '../apiserver/web-contract.ts';
import { resolveNodes } from '../control/cluster-config.ts';
import type { LabDaemon } from '../lab/daemon.ts';
import { labExec } from '../lab/exec-stream.ts';
import { labPaths } from '../lab/state.ts';
import { checkPrefix, DEFAULT_PREFIX } from '../lab/names.ts';
import { quoteLine } from '../scenario/pod-exec.ts';
import { EXTERNAL_CLIENT_IP, type Session } from '../scenario/session.ts';
import { CliError } from './cluster-from-files.ts';
import { labKubeconfig } from './lab-api.ts';
import { loadTarget } from './remote.ts';

/** The simulation's network for journeys: curl runs through the session's prompt. */
export function simJourneys(session: Session): JourneyDriver {
  const nodes = resolveNodes(session.cluster.config);
  const first = nodes[0]!;
  const sources: JourneySource[] = [
    {
      id: 'client',
      kind: 'client',
      label: `client (a shell on ${first.name})`,
      ip: first.ip,
    },
    { id: 'external', kind: 'external', label: 'external host', ip: EXTERNAL_CLIENT_IP },
    ...nodes.map((n) => ({ id: `node/${n.name}`, kind: 'node' as const, label: n.name, ip: n.ip })),
  ];
  const on = (from: string): string =>
    from === 'client' ? first.name : from.startsWith('node/') ? from.slice(5) : from;
  return {
    runtime: 'sim',
    mode: session.mode,
    nodes: session.net.nodes,
    externalIP: EXTERNAL_CLIENT_IP,
    sources: () => sources,
    run: (from, argv) => session.exec(quoteLine(argv), on(from)),
    nowMs: () => session.cluster.now() / 1e6,
  };
}

/** The lab's network for journeys: curl runs in the source's network namespace. */
export function labJourneys(d: LabDaemon): JourneyDriver {
  const hosts = () => d.runtime.list();
  const external = () => hosts().find((h) => h.kind === 'external');
  return {
    runtime: 'lab',
    mode: d.net.mode,
    nodes: d.net.nodes,
    get externalIP() {
      return external()?.ip ?? '';
    },
    sources: () =>
      hosts()
        .filter((h) => h.kind !== 'pod')
        .map((h) => ({
          id: h.kind === 'node' ? `node/${h.name}` : h.kind,
          kind: h.kind,
          label: h.kind === 'node' ? h.name : `${h.kind} (${h.netns})`,
          ip: h.ip,
        })),
    run: async (from, argv) => {
      const host = hosts().find((h) =>
        from.startsWith('pod/')
          ? h.kind === 'pod' && `pod/${h.namespace}/${h.name}` === from
          : from.startsWith('node/')
            ? h.kind === 'node' && h.name === from.slice(5)
            : h.kind === from,
      );
      if (host === undefined) return { stdout: '', stderr: `no host ${from}\n`, exitCode: 1 };
      let stdout = '';
      let stderr = '';
      const text = (c: Uint8Array | string) =>
        typeof c === 'string' ? c : Buffer.from(c).toString('utf8');
      const exitCode = await labExec(
        host.netns,
        { namespace: '', pod: host.name, command: argv, stdin: false, tty: false },
        {
          stdout: (c) => (stdout += text(c)),
          stderr: (c) => (stderr += text(c)),
          signal: AbortSignal.timeout(10_000),
        },
      );
      return { stdout, stderr, exitCode };
    },
    nowMs: () => d.cluster.now() / 1e6,
  };
}

/** POST /svclab/v1/web/login with the kubeconfig's token: a fresh one-time login URL. */
export function fetchLoginUrl(kubeconfig: string | undefined): Promise<string> {
  const t = loadTarget({ server: true, ...(kubeconfig === undefined ? {} : { kubeconfig }) });
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.server}/svclab/v1/web/login`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${t.token}`, accept: 'application/json' },
        ca: t.ca,
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) {
            reject(new CliError(`error: ${t.server}: ${res.statusCode}: ${text}`));
            return;
          }
          resolve((JSON.parse(text) as { url: string }).url);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new CliError(`error: ${t.server}: ${e.message}`)));
    req.end();
  });
}

export function registerWebLogin(program: Command): void {
  program
    .command('web-login')
    .description(
      'print a one-time login URL for the web view of the running `svclab serve` (or lab)',
    )
    .option('--kubeconfig <file>', 'the cluster to ask (default $KUBECONFIG, else svclab serve)')
    .option('--lab', "the running lab's (root)")
    .option('--prefix <prefix>', 'the lab prefix (with --lab)', DEFAULT_PREFIX)
    .action(async (o: { kubeconfig?: string; lab?: boolean; prefix: string }) => {
      const file =
        o.lab === true ? labKubeconfig(labPaths(checkPrefix(o.prefix)).dir) : o.kubeconfig;
      process.stdout.write(`${await fetchLoginUrl(file)}\n`);
    });
}
