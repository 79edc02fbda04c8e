// `svclab lab up|down|status|exec|show|apply|delete`: the cluster as Linux network
// namespaces, the userspace dataplane forwarding real packets between TUN devices,
// real processes answering (src/lab). Needs root and the native TUN addon.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { secretFromFiles } from '../api/secret-from-files.ts';
import { toApiObject } from '../api/wire.ts';
import { loadManifests, readBounded, readBoundedBytes } from '../api/load.ts';
import { type CleanupReport, cleanupLab, findLeftovers } from '../lab/cleanup.ts';
import { request } from '../lab/client.ts';
import type { LabReply, LabRequest, LabStatus } from '../lab/daemon.ts';
import { labApi, labKubeconfig } from './lab-api.ts';
import { DEFAULT_PREFIX, checkObjectName, checkPrefix } from '../lab/names.ts';
import {
  type LabLock,
  type LabPaths,
  clearSecrets,
  ensureStateDir,
  inside,
  labPaths,
  livePid,
  stateAccessProblem,
  tryLock,
  writePrivate,
} from '../lab/state.ts';
import { repoPath } from '../lab/repo.ts';
import { tunSupport } from '../lab/tun.ts';
import { SHOW_VIEWS } from '../lab/views.ts';
import { CliError, collect, kubernetesVersion } from './cluster-from-files.ts';
import { DEFAULT_CONFIG } from '../control/cluster-config.ts';
import {
  type KubeProxyFlagOptions,
  kubeProxyOptions,
  kubeProxySettings,
  proxyMode,
} from './node-view.ts';

const BIN = repoPath('bin', 'svclab.js');
/** A Secret holds at most 1 MiB, as the API server allows; a file for one no more. */
const SECRET_MAX_BYTES = 1 << 20;

interface UpOptions extends KubeProxyFlagOptions {
  proxyMode: string;
  prefix: string;
  seed: number;
  foreground?: boolean;
  recursive?: boolean;
  timeout: number;
  apiPort: number;
}

/** Why the lab cannot run here, as a CliError (not root, no addon, no /dev/net/tun). */
function requireLab(): void {
  const s = tunSupport();
  if (!s.ok) throw new CliError(`svclab lab: ${s.reason}`);
}

/**
 * A scenario file stands for the manifests it applies (`apply:` steps and
 * `kubectl apply -f` runs, relative to its `dir`) and the Secrets its `kubectl create
 * secret` runs make (written as manifests into `secretDir`); anything else is a
 * manifest path.
 */
export function manifestsOf(args: string[], secretDir?: string): string[] {
  const files: string[] = [];
  for (const a of args) {
    if (!/\.ya?ml$/.test(a) || !existsSync(a)) {
      files.push(a);
      continue;
    }
    let doc: unknown;
    try {
      // Bounded and regular files only; the manifest loader reports what is wrong with it.
      doc = parseYaml(readBounded(a, 8 << 20, 'scenario'), { maxAliasCount: 100 });
    } catch {
      files.push(a);
      continue;
    }
    const sc = doc as { steps?: Array<{ apply?: string; run?: string }>; dir?: string } | null;
    if (sc === null || typeof sc !== 'object' || !Array.isArray(sc.steps)) {
      files.push(a);
      continue;
    }
    const base = resolve(dirname(a), sc.dir ?? '.');
    for (const s of sc.steps) {
      if (typeof s.apply === 'string') files.push(resolve(base, s.apply));
      const run = typeof s.run === 'string' ? s.run : '';
      if (run.startsWith('kubectl apply ')) {
        // Every -f FILE (also -f=FILE, --filename FILE) of the run.
        const argv = run.split(/\s+/);
        for (let i = 2; i < argv.length; i++) {
          const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
          if (flag !== '-f' && flag !== '--filename') continue;
          const value = inline ?? argv[++i];
          if (value !== undefined) files.push(resolve(base, value));
        }
      }
      if (secretDir !== undefined && run.startsWith('kubectl create secret ')) {
        files.push(secretManifest(run.split(/\s+/).slice(3), base, secretDir));
      }
    }
  }
  return files;
}

/** The release the first scenario file among `args` pins (cluster.kubernetesVersion), if any. */
export function scenarioVersion(args: string[]): string | undefined {
  for (const a of args) {
    if (!/\.ya?ml$/.test(a) || !existsSync(a)) continue;
    let doc: unknown;
    try {
      doc = parseYaml(readBounded(a, 8 << 20, 'scenario'), { maxAliasCount: 100 });
    } catch {
      continue;
    }
    const sc = doc as { steps?: unknown; cluster?: { kubernetesVersion?: unknown } } | null;
    if (sc === null || typeof sc !== 'object' || !Array.isArray(sc.steps)) continue;
    const v = sc.cluster?.kubernetesVersion;
    if (typeof v === 'string') return v;
  }
  return undefined;
}

/** `kubectl create secret TYPE NAME …` as a Secret manifest in `dir`; its path. */
function secretManifest(argv: string[], base: string, dir: string): string {
  const [type, name = ''] = argv;
  const opts = new Map<string, string[]>();
  for (let i = 2; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = inline ?? argv[++i] ?? '';
    opts.set(flag, [...(opts.get(flag) ?? []), value]);
  }
  const one = (f: string) => opts.get(f)?.[0];
  const ns = one('-n') ?? one('--namespace') ?? 'default';
  // Before the name reaches a path: RFC 1123, as the API server would insist.
  try {
    checkObjectName(ns, name);
  } catch (e) {
    throw new CliError(
      `svclab lab: ${(e as Error).message} (kubectl create secret ${argv.join(' ')})`,
    );
  }
  const cert = one('--cert');
  const key = one('--key');
  const secret = secretFromFiles(
    type,
    name,
    ns,
    {
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      fromFile: opts.get('--from-file') ?? [],
      fromLiteral: opts.get('--from-literal') ?? [],
    },
    (f) => readBoundedBytes(resolve(base, f), SECRET_MAX_BYTES, 'secret file'),
  );
  if (typeof secret === 'string') throw new CliError(`svclab lab: ${secret} (${argv.join(' ')})`);
  const file = inside(dir, `secret-${ns}-${name}.yaml`);
  writePrivate(file, stringifyYaml(toApiObject(secret)));
  return file;
}

/** A running lab's daemon, or a one-line reason there is none (and what is left over). */
async function requireRunning(prefix: string): Promise<LabPaths> {
  const paths = labPaths(checkPrefix(prefix));
  const denied = stateAccessProblem(paths);
  if (denied !== undefined) throw new CliError(`svclab lab: ${denied}`);
  if (livePid(paths) !== undefined) return paths;
  const left = describeLeftovers(await findLeftovers(prefix));
  throw new CliError(
    `svclab lab: no lab "${prefix}" is running (svclab lab up first)` +
      (left === '' ? '' : `; leftovers of a crashed one: ${left} (svclab lab down removes them)`),
  );
}

/** `3 namespaces (a b c), 1 device (d), …`, or '' when nothing is left. */
export function describeLeftovers(r: CleanupReport): string {
  const part = (n: number, what: string, names: Array<string | number>) =>
    n === 0 ? [] : [`${n} ${what}${n === 1 ? '' : 's'} (${names.join(' ')})`];
  return [
    ...part(r.namespaces.length, 'namespace', r.namespaces),
    ...part(r.devices.length, 'device', r.devices),
    ...part(r.processes.length, 'process', r.processes).map((s) =>
      s.replace('processs', 'processes'),
    ),
    ...part(r.etc.length, '/etc/netns entry', r.etc).map((s) => s.replace('entrys', 'entries')),
  ].join(', ');
}

export async function ask(prefix: string, req: LabRequest): Promise<LabReply> {
  await requireRunning(prefix);
  try {
    return await request(prefix, req);
  } catch (e) {
    throw new CliError(`svclab lab: ${(e as Error).message}`);
  }
}

/** Print a reply's output; a failed request becomes the exit status. */
function emit(reply: LabReply): void {
  if (!reply.ok) throw new CliError(reply.error);
  if (reply.stdout) process.stdout.write(reply.stdout);
  if (reply.stderr) process.stderr.write(reply.stderr);
  if ((reply.exitCode ?? 0) !== 0) throw new CliError('', reply.exitCode);
}

export async function labStatus(prefix: string): Promise<LabStatus> {
  const r = await ask(prefix, { cmd: 'status' });
  if (!r.ok || r.status === undefined) throw new CliError(r.ok ? 'no status' : r.error);
  return r.status;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function daemonArgs(files: string[], o: UpOptions): string[] {
  return [
    'lab',
    'daemon',
    ...files,
    '--proxy-mode',
    o.proxyMode,
    '--prefix',
    o.prefix,
    '--seed',
    String(o.seed),
    ...(o.ipvsScheduler !== undefined ? ['--ipvs-scheduler', o.ipvsScheduler] : []),
    ...(o.masqueradeAll ? ['--masquerade-all'] : []),
    ...(o.clusterCidr !== undefined ? ['--cluster-cidr', o.clusterCidr] : []),
    ...(o.nodeportAddresses !== undefined ? ['--nodeport-addresses', o.nodeportAddresses] : []),
    ...(o.recursive ? ['-R'] : []),
    ...(o.kubernetesVersion !== undefined ? ['--kubernetes-version', o.kubernetesVersion] : []),
    '--api-port',
    String(o.apiPort),
  ];
}

/**
 * Run `fn` holding the lab's lock (flock on its state directory's lock file): one `lab up`
 * or `lab down` of a prefix at a time.
 */
async function locked<T>(
  paths: LabPaths,
  what: string,
  fn: (lock: LabLock) => Promise<T>,
): Promise<T> {
  ensureStateDir(paths);
  const lock: LabLock | undefined = tryLock(paths);
  if (lock === undefined)
    throw new CliError(
      `svclab lab: another lab up or down of this prefix is running (${paths.lockFile} is locked); ${what} refused`,
    );
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}

async function up(args: string[], o: UpOptions): Promise<void> {
  const prefix = checkPrefix(o.prefix);
  if (o.proxyMode === 'userspace')
    throw new CliError(
      'error: the lab cannot run userspace mode yet (its kube-proxy relay runs in the simulation only: svclab run/serve --proxy-mode userspace)',
    );
  requireLab();
  process.umask(0o077);
  const mode = proxyMode(o.proxyMode);
  kubeProxySettings(o); // a bad kube-proxy flag fails here, before anything is built
  const paths = labPaths(prefix);
  await locked(paths, 'lab up', (lock) => upLocked(args, o, prefix, mode, paths, lock));
}

async function upLocked(
  args: string[],
  o: UpOptions,
  prefix: string,
  mode: ReturnType<typeof proxyMode>,
  paths: LabPaths,
  lock: LabLock,
): Promise<void> {
  const pid = livePid(paths);
  if (pid !== undefined)
    throw new CliError(`svclab lab: lab "${prefix}" is already up (pid ${pid}); lab down first`);
  const files = manifestsOf(args, paths.dir);
  // A scenario of the seed's era brings its release (the flag still wins).
  const pinned = o.kubernetesVersion ?? scenarioVersion(args);
  if (pinned !== undefined) o.kubernetesVersion = pinned;
  // The manifests' errors here, one line each with file:line, before anything is built.
  const loaded = loadManifests(files, {
    recursive: o.recursive === true,
    kubernetesVersion: kubernetesVersion(o.kubernetesVersion) ?? DEFAULT_CONFIG.kubernetesVersion,
  });
  if (!loaded.ok) throw new CliError(loaded.errors.map((e) => `error: ${e.format()}`).join('\n'));
  if (o.foreground) {
    const { runDaemon } = await import('../lab/daemon.ts');
    await runDaemon({
      prefix,
      mode,
      files,
      seed: o.seed,
      ...(o.kubernetesVersion !== undefined
        ? { kubernetesVersion: kubernetesVersion(o.kubernetesVersion)! }
        : {}),
      kubeProxy: kubeProxySettings({ ...o, proxyMode: mode }),
      ...(o.recursive ? { recursive: true } : {}),
      // Up: the lock is for bringing it up; `lab down` must be able to take it.
      onStarted: async (d) => {
        lock.release();
        return labApi(o.apiPort)(d);
      },
    });
    process.exit(0);
  }
  const log = openSync(paths.logFile, 'w', 0o600);
  chmodSync(paths.logFile, 0o600);
  const child = spawn(process.execPath, [BIN, ...daemonArgs(files, o)], {
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  let exited: number | null | undefined;
  child.on('exit', (code) => {
    exited = code;
  });
  child.unref();
  const deadline = Date.now() + o.timeout * 1000;
  for (;;) {
    await sleep(200);
    if (exited !== undefined) {
      // The daemon's last word (its error, one line) is the reason.
      const last = readFileSync(paths.logFile, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .pop();
      await cleanupLab(prefix);
      throw new CliError(
        `svclab lab: the daemon exited (${exited}) before the lab was ready: ${last ?? 'no log'} (log: ${paths.logFile})`,
      );
    }
    if (Date.now() > deadline) {
      // Not ready is not up: take the half-built lab down again rather than leave it
      // coming up behind a failed command.
      await stopDaemon(prefix, child.pid);
      await cleanupLab(prefix);
      throw new CliError(
        `svclab lab: not ready after ${o.timeout}s; took it down again (see ${paths.logFile})`,
      );
    }
    let s: LabStatus;
    try {
      const r = await request(prefix, { cmd: 'status' }, 2000);
      if (!r.ok || r.status === undefined) continue;
      s = r.status;
    } catch {
      continue;
    }
    if (!s.ready) continue;
    const pods = s.hosts.filter((h) => h.kind === 'pod').length;
    process.stdout.write(
      `lab ${prefix} up (${mode} mode): ${pods} pods, client, external, ` +
        `${s.hosts.filter((h) => h.kind === 'node').length} nodes; daemon pid ${s.pid}, ` +
        `state ${s.stateDir}\n` +
        (s.apiServer === undefined
          ? ''
          : `Kubernetes API at ${s.apiServer}:\n  export KUBECONFIG=${labKubeconfig(s.stateDir)}\n`),
    );
    return;
  }
}

/**
 * Ask the daemon to go (`down` on its socket, else SIGTERM, SIGKILL after 15 s), only
 * when the pid is this lab's daemon (its pid file's start time and command line match).
 */
async function stopDaemon(prefix: string, spawned?: number): Promise<number | undefined> {
  const paths = labPaths(prefix);
  const pid = livePid(paths) ?? spawned;
  if (pid === undefined) return undefined;
  await request(prefix, { cmd: 'down' }, 5000).catch(() => {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone already
    }
  });
  for (let i = 0; i < 150 && alive(pid); i++) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  return pid;
}

async function down(prefix: string): Promise<void> {
  const paths = labPaths(checkPrefix(prefix));
  const denied = stateAccessProblem(paths);
  if (denied !== undefined) throw new CliError(`svclab lab: ${denied}`);
  await locked(paths, 'lab down', () => downLocked(prefix, paths));
}

async function downLocked(prefix: string, paths: LabPaths): Promise<void> {
  const pid = await stopDaemon(prefix);
  // Whatever a crashed daemon left behind (and idempotent when nothing is left).
  const r = await cleanupLab(prefix);
  clearSecrets(paths);
  const left = r.namespaces.length + r.devices.length + r.processes.length + r.etc.length;
  process.stdout.write(
    pid !== undefined || left > 0
      ? `lab ${prefix} down${left > 0 ? ` (removed ${left} leftovers)` : ''}\n`
      : `no lab ${prefix} was running\n`,
  );
}

function formatStatus(s: LabStatus): string {
  let out =
    `lab ${s.prefix}: ${s.mode} mode, ${s.ready ? 'ready' : 'starting'}\n` +
    `daemon pid ${s.pid}\nstate dir ${s.stateDir}\nlog ${s.log}\n` +
    `packets: ${s.counters.received} received, ${s.counters.forwarded} forwarded, ` +
    `${s.counters.localDelivered} to node stacks, ${s.counters.dropped} dropped by dataplanes, ` +
    `${s.counters.noDevice} with no device, ${s.counters.txDropped} tx dropped\n`;
  const drops = Object.entries(s.drops).map(([k, v]) => `${k}=${v}`);
  if (drops.length > 0) out += `dataplane drops: ${drops.join(' ')}\n`;
  out += '\n';
  const rows = s.hosts.map((h) => [
    h.kind,
    h.namespace !== undefined ? `${h.namespace}/${h.name}` : h.name,
    h.ip,
    h.node ?? '',
    h.kind === 'pod' ? (h.ready ? 'ready' : 'not ready') : '',
    h.netns,
    h.dev,
  ]);
  const head = ['KIND', 'NAME', 'IP', 'NODE', 'STATE', 'NETNS', 'DEVICE'];
  const widths = head.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [head, ...rows])
    out += `${r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('   ')
      .trimEnd()}\n`;
  return out;
}

/** The namespace of a lab name: a pod (NAME or NS/NAME), `client`, `external` or a node. */
export function netnsFor(s: Pick<LabStatus, 'hosts'>, name: string): string | undefined {
  const byName = s.hosts.filter(
    (h) => h.name === name || (h.namespace !== undefined && `${h.namespace}/${h.name}` === name),
  );
  const exact = byName.find((h) => h.kind !== 'pod') ?? byName[0];
  return exact?.netns;
}

async function exec(prefix: string, name: string, argv: string[]): Promise<number> {
  // With options before NAME, commander passes the `--` on with the command.
  const cmd = argv[0] === '--' ? argv.slice(1) : argv;
  if (cmd.length === 0) throw new CliError('svclab lab exec: give a command after --');
  const s = await labStatus(prefix);
  const netns = netnsFor(s, name);
  if (netns === undefined)
    throw new CliError(
      `svclab lab exec: no pod, node or host named "${name}" (try: ${s.hosts.map((h) => h.name).join(', ')})`,
    );
  const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: 'inherit' });
  return new Promise((resolveExit) => {
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 128 : 1)));
    child.on('error', () => resolveExit(127));
  });
}

const prefixOption = (cmd: Command) =>
  cmd.option('--prefix <prefix>', 'name prefix of the lab', DEFAULT_PREFIX);

function upOptions(cmd: Command): Command {
  return kubeProxyOptions(
    prefixOption(cmd).argument(
      '[manifests...]',
      'manifest files or directories, or a scenario file',
    ),
    'iptables',
  )
    .option('--seed <n>', 'seed of the cluster', (v) => Number.parseInt(v, 10), 1)
    .option('-R, --recursive', 'walk directories recursively')
    .option('--timeout <s>', 'seconds to wait for the lab', (v) => Number.parseInt(v, 10), 90)
    .option(
      '--api-port <n>',
      'port of the Kubernetes API on 127.0.0.1 (0: any; taken: any)',
      (v) => Number.parseInt(v, 10),
      6443,
    );
}

export function registerLab(program: Command): void {
  const lab = program
    .command('lab')
    .description('the cluster in Linux network namespaces, real packets through TUN devices (root)')
    .enablePositionalOptions();

  upOptions(lab.command('up').description('build the lab and start its daemon'))
    .option('--foreground', 'stay attached (Ctrl-C takes the lab down)')
    .action(async (args: string[], o: UpOptions) => up(args, o));

  upOptions(lab.command('daemon', { hidden: true }).description('run the lab daemon')).action(
    async (args: string[], o: UpOptions) => {
      requireLab();
      const { runDaemon } = await import('../lab/daemon.ts');
      const { mode: _mode, ...kubeProxy } = kubeProxySettings(o);
      await runDaemon({
        prefix: checkPrefix(o.prefix),
        mode: proxyMode(o.proxyMode),
        files: args,
        seed: o.seed,
        ...(o.kubernetesVersion !== undefined
          ? { kubernetesVersion: kubernetesVersion(o.kubernetesVersion)! }
          : {}),
        kubeProxy,
        ...(o.recursive ? { recursive: true } : {}),
        onStarted: labApi(o.apiPort),
      });
      // Down: nothing of the lab is left to keep this process, whatever handles linger.
      process.exit(0);
    },
  );

  prefixOption(
    lab.command('down').description('remove every namespace, device and process of the lab'),
  ).action(async (o: { prefix: string }) => down(o.prefix));

  prefixOption(lab.command('status').description('namespaces, pods, daemon, counters'))
    .option('--json', 'as JSON')
    .action(async (o: { prefix: string; json?: boolean }) => {
      // No daemon: requireRunning says so, with what a crashed one left and lab down removes.
      const s = await labStatus(o.prefix);
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
    });

  prefixOption(
    lab
      .command('exec')
      .description('run a command in a namespace: a pod, client, external or a node')
      .argument('<name>', 'pod name, client, external or node name')
      .argument('[cmd...]', 'the command (after --)')
      .passThroughOptions(),
  ).action(async (name: string, cmd: string[], o: { prefix: string }) => {
    const code = await exec(o.prefix, name, cmd);
    if (code !== 0) throw new CliError('', code);
  });

  prefixOption(
    lab
      .command('show')
      .description(`the live state: ${SHOW_VIEWS.join('|')}`)
      .argument('<what>', SHOW_VIEWS.join('|'))
      .option('--node <name>', "the node whose tables to show (default: the client's node)")
      .option('-n, --namespace <ns>', 'namespace (kubectl views)', 'default')
      .option('-A, --all-namespaces', 'all namespaces (kubectl views)')
      .option('-o, --output <format>', 'wide, yaml or json (kubectl views)', 'wide'),
  ).action(
    async (
      what: string,
      o: {
        prefix: string;
        node?: string;
        namespace: string;
        allNamespaces?: boolean;
        output: string;
      },
    ) => {
      emit(
        await ask(o.prefix, {
          cmd: 'show',
          what,
          namespace: o.namespace,
          output: o.output,
          ...(o.node !== undefined ? { node: o.node } : {}),
          ...(o.allNamespaces ? { allNamespaces: true } : {}),
        }),
      );
    },
  );

  prefixOption(
    lab
      .command('apply')
      .description('kubectl apply to the running lab')
      .requiredOption('-f, --filename <path>', 'manifest file (repeatable)', collect, []),
  ).action(async (o: { prefix: string; filename: string[] }) => {
    emit(await ask(o.prefix, { cmd: 'apply', files: o.filename.map((f) => resolve(f)) }));
  });

  prefixOption(
    lab
      .command('create')
      .description(
        'kubectl create secret tls|generic NAME to the running lab (--cert/--key, --from-file, --from-literal)',
      )
      .argument('<what>', 'secret')
      .argument('<type>', 'tls or generic')
      .argument('<name>', 'the Secret name')
      .option('-n, --namespace <ns>', 'namespace', 'default')
      .option('--cert <file>', 'tls: the certificate (PEM)')
      .option('--key <file>', 'tls: the private key (PEM)')
      .option('--from-file <[key=]path>', 'generic: a key from a file (repeatable)', collect, [])
      .option('--from-literal <key=value>', 'generic: a literal key (repeatable)', collect, []),
  ).action(
    async (
      what: string,
      type: string,
      name: string,
      o: {
        prefix: string;
        namespace: string;
        cert?: string;
        key?: string;
        fromFile: string[];
        fromLiteral: string[];
      },
    ) => {
      if (what !== 'secret')
        throw new CliError(`error: lab create makes secrets, not "${what}"`, 2);
      checkPrefix(o.prefix);
      // Before the name touches a path: RFC 1123, as the API server would insist.
      try {
        checkObjectName(o.namespace, name);
      } catch (e) {
        throw new CliError(`error: ${(e as Error).message}`, 1);
      }
      let secret;
      try {
        secret = secretFromFiles(
          type,
          name,
          o.namespace,
          {
            ...(o.cert !== undefined ? { cert: o.cert } : {}),
            ...(o.key !== undefined ? { key: o.key } : {}),
            fromFile: o.fromFile,
            fromLiteral: o.fromLiteral,
          },
          (f) => readBoundedBytes(resolve(f), SECRET_MAX_BYTES, 'secret file'),
        );
      } catch (e) {
        throw new CliError(`error: ${(e as Error).message}`, 1);
      }
      if (typeof secret === 'string') throw new CliError(secret, 1);
      const paths = await requireRunning(o.prefix);
      // The daemon applies files: the Secret as the API returns it (data base64), kept in
      // the lab's state directory.
      const file = inside(paths.dir, `secret-${o.namespace}-${name}.yaml`);
      writePrivate(file, stringifyYaml(toApiObject(secret)));
      emit(await ask(o.prefix, { cmd: 'apply', files: [file] }));
    },
  );

  prefixOption(
    lab
      .command('delete')
      .description('kubectl delete -f FILE, or delete KIND NAME (pod, svc, deploy)')
      .argument('[kind]', 'pod, svc or deploy')
      .argument('[name]', 'object name')
      .option('-f, --filename <path>', 'manifest file (repeatable)', collect, [])
      .option('-n, --namespace <ns>', 'namespace', 'default')
      .option('--grace-period <s>', 'seconds to terminate', (v) => Number.parseInt(v, 10)),
  ).action(
    async (
      kind: string | undefined,
      name: string | undefined,
      o: { prefix: string; filename: string[]; namespace: string; gracePeriod?: number },
    ) => {
      if (o.filename.length > 0) {
        emit(await ask(o.prefix, { cmd: 'delete', files: o.filename.map((f) => resolve(f)) }));
        return;
      }
      const kinds: Record<string, 'Pod' | 'Service' | 'Deployment'> = {
        pod: 'Pod',
        pods: 'Pod',
        po: 'Pod',
        svc: 'Service',
        service: 'Service',
        deploy: 'Deployment',
        deployment: 'Deployment',
      };
      const k = kind === undefined ? undefined : kinds[kind];
      if (k === undefined || name === undefined)
        throw new CliError('svclab lab delete: -f FILE, or KIND NAME (pod, svc, deploy)');
      emit(
        await ask(o.prefix, {
          cmd: 'delete-object',
          kind: k,
          namespace: o.namespace,
          name,
          ...(o.gracePeriod !== undefined ? { gracePeriodSeconds: o.gracePeriod } : {}),
        }),
      );
    },
  );
}
