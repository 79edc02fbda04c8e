// kubectl on the session's cluster: apply/create/delete -f, get (tables, -o yaml/json/
// jsonpath), delete pod, scale, create secret tls|generic. Output lines as kubectl
// prints them (`deployment.apps/myapp-deploy created`).
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { loadManifests, parseManifestText } from '../../api/load.ts';
import { matchesLabelSelector, parseSelector } from '../../api/selector.ts';
import { sourceOf } from '../../api/source.ts';
import { secretFromFiles } from '../../api/secret-from-files.ts';
import type { Kind, KubeObject } from '../../api/types.ts';
import { KIND_REF, formatApplyResult } from '../../control/cluster.ts';
import { lookupResource, renderGet } from '../../control/kubectl-get.ts';
import { type CommandContext, type ExecResult, fail, ok } from './command.ts';

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

/** kubectl-style flags: `-f X`, `--file=X`, `-oyaml`, `-n ns`, booleans like `-A`. */
function parse(args: string[]): Parsed {
  const valued = new Set([
    '-f',
    '--filename',
    '-n',
    '--namespace',
    '-o',
    '--output',
    '--replicas',
    '--key',
    '--cert',
    '--from-file',
    '--from-literal',
    '-l',
    '--selector',
    '--type',
    '--tail',
  ]);
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  const add = (k: string, v: string) => flags.set(k, [...(flags.get(k) ?? []), v]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) add(a.slice(0, eq), a.slice(eq + 1));
    else if (valued.has(a)) add(a, args[++i] ?? '');
    else if (/^-[on]\S+$/.test(a)) add(a.slice(0, 2), a.slice(2));
    else if (a.startsWith('-')) add(a, 'true');
    else positional.push(a);
  }
  return { positional, flags };
}

const one = (p: Parsed, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = p.flags.get(n);
    if (v !== undefined) return v[v.length - 1];
  }
  return undefined;
};
const all = (p: Parsed, ...names: string[]): string[] => names.flatMap((n) => p.flags.get(n) ?? []);

function resolvePath(ctx: CommandContext, f: string): string {
  return isAbsolute(f) ? f : join(ctx.session.baseDir, f);
}

/** `deployment.extensions/x` when the manifest said extensions/v1beta1, as old kubectl printed. */
function refFor(obj: KubeObject | undefined, kind: Kind): string {
  const written = obj === undefined ? undefined : sourceOf(obj)?.apiVersion;
  const group = written?.includes('/') ? written.split('/')[0] : undefined;
  if (group === 'extensions') return `${kind.toLowerCase()}.extensions`;
  return KIND_REF[kind];
}

function load(ctx: CommandContext, p: Parsed): KubeObject[] {
  const names = all(p, '-f', '--filename');
  if (names.length === 0) throw new Error('error: must specify one of -f and -k');
  const cfg = ctx.session.cluster.config;
  const opts = {
    serviceCidr: cfg.serviceCIDR,
    nodePortRange: cfg.nodePortRange,
    kubernetesVersion: cfg.kubernetesVersion,
  };
  // `-f -` reads the pipe: `kubectl get cm x -o yaml | sed … | kubectl apply -f -`.
  const r =
    names.length === 1 && names[0] === '-'
      ? parseManifestText(ctx.stdin ?? '', 'STDIN', opts)
      : loadManifests(
          names.map((f) => resolvePath(ctx, f)),
          opts,
        );
  if (!r.ok) throw new Error(r.errors.map((e) => `error: ${e.format()}`).join('\n'));
  return r.objects;
}

function applyOrCreate(ctx: CommandContext, p: Parsed, create: boolean): ExecResult {
  const objs = load(ctx, p);
  const cluster = ctx.session.cluster;
  if (create) {
    const exists = objs.find(
      (o) => cluster.get(o.kind, o.metadata.namespace, o.metadata.name) !== undefined,
    );
    if (exists !== undefined) {
      return fail(
        `Error from server (AlreadyExists): error when creating "${one(p, '-f', '--filename')}": ${lookupResource(exists.kind === 'Service' ? 'svc' : exists.kind.toLowerCase()).plural} "${exists.metadata.name}" already exists\n`,
      );
    }
  }
  const results = cluster.apply(objs);
  let stdout = '';
  let stderr = '';
  results.forEach((r, i) => {
    if (r.error !== undefined) stderr += `${formatApplyResult(r)}\n`;
    else stdout += `${refFor(objs[i], r.kind)}/${r.name} ${r.action}\n`;
  });
  return { stdout, stderr, exitCode: stderr === '' ? 0 : 1 };
}

function deleteCmd(ctx: CommandContext, p: Parsed): ExecResult {
  const cluster = ctx.session.cluster;
  const ns = one(p, '-n', '--namespace') ?? 'default';
  const targets: { kind: Kind; ns: string | undefined; name: string; obj?: KubeObject }[] =
    all(p, '-f', '--filename').length > 0
      ? load(ctx, p).map((o) => ({
          kind: o.kind,
          ns: o.metadata.namespace,
          name: o.metadata.name,
          obj: o,
        }))
      : selectedNames(ctx, p, ns).map((name) => ({
          kind: lookupResource(p.positional[1] ?? '').kind,
          ns,
          name,
        }));
  let stdout = '';
  let stderr = '';
  for (const t of targets) {
    if (cluster.get(t.kind, t.ns, t.name) === undefined) {
      stderr += `Error from server (NotFound): ${lookupResource(t.kind === 'Service' ? 'svc' : t.kind.toLowerCase()).plural} "${t.name}" not found\n`;
      continue;
    }
    cluster.delete(t.kind, t.ns, t.name);
    stdout += `${refFor(t.obj, t.kind).split('.')[0]} "${t.name}" deleted\n`;
  }
  return { stdout, stderr, exitCode: stderr === '' ? 0 : 1 };
}

/** The NAMEs given after the resource, or those its `-l` selector picks in `ns`. */
function selectedNames(ctx: CommandContext, p: Parsed, ns: string): string[] {
  const sel = one(p, '-l', '--selector');
  if (sel === undefined) return p.positional.slice(2);
  const kind = lookupResource(p.positional[1] ?? '').kind;
  const selector = parseSelector(sel);
  return ctx.session.cluster
    .list(kind, ns)
    .filter((o) => matchesLabelSelector(selector, o.metadata.labels ?? {}))
    .map((o) => o.metadata.name)
    .sort();
}

/** kubectl logs (POD | -l SELECTOR) [-n NS] [--tail N] [--prefix]. */
function logs(ctx: CommandContext, p: Parsed): ExecResult {
  const ns = one(p, '-n', '--namespace') ?? 'default';
  const sel = one(p, '-l', '--selector');
  const pods =
    sel === undefined
      ? p.positional.slice(1, 2).map((n) => n.replace(/^pods?\//, ''))
      : selectedNames(ctx, { ...p, positional: ['logs', 'pods'] }, ns);
  if (pods.length === 0) {
    return sel === undefined
      ? fail('error: expected POD or TYPE/NAME is a required argument for the logs command\n')
      : ok('', `No resources found in ${ns} namespace.\n`);
  }
  // With a selector kubectl shows the last 10 lines of each pod unless told otherwise.
  const tailText = one(p, '--tail');
  const tail = tailText === undefined ? (sel === undefined ? -1 : 10) : Number(tailText);
  const prefix = p.flags.has('--prefix');
  let stdout = '';
  for (const name of pods) {
    const pod = ctx.session.cluster.get('Pod', ns, name);
    if (pod === undefined) return fail(`Error from server (NotFound): pods "${name}" not found\n`);
    const lines = ctx.session.podLogs(ns, name) ?? [];
    const shown = tail >= 0 ? lines.slice(Math.max(0, lines.length - tail)) : lines;
    const tag = prefix ? `[pod/${name}/${pod.spec.containers[0]?.name ?? ''}] ` : '';
    for (const l of shown) stdout += `${tag}${l}\n`;
  }
  return ok(stdout);
}

function get(ctx: CommandContext, p: Parsed): ExecResult {
  const [resource, ...names] = p.positional.slice(1);
  if (resource === undefined) return fail('You must specify the type of resource to get.\n');
  const output = one(p, '-o', '--output');
  const opts = {
    namespace: one(p, '-n', '--namespace') ?? 'default',
    allNamespaces: p.flags.has('-A') || p.flags.has('--all-namespaces'),
    ...(one(p, '-l', '--selector') !== undefined ? { selector: one(p, '-l', '--selector')! } : {}),
  };
  const cluster = ctx.session.cluster;
  const types = resource.split(',');
  const outs = types.map((r) =>
    renderGet(cluster, r, names, {
      ...opts,
      withKind: types.length > 1,
      ...(output !== undefined ? { output } : {}),
    }),
  );
  const stdout = outs
    .map((o) => o.stdout)
    .filter((s) => s !== '')
    .join('\n');
  return ok(stdout, stdout === '' ? (outs[0]?.stderr ?? '') : '');
}

function createSecret(ctx: CommandContext, p: Parsed): ExecResult {
  const [, , type, name] = p.positional;
  if (name === undefined) return fail('error: exactly one NAME is required\n');
  const ns = one(p, '-n', '--namespace') ?? 'default';
  const cert = one(p, '--cert');
  const key = one(p, '--key');
  const secret = secretFromFiles(
    type,
    name,
    ns,
    {
      ...(cert !== undefined ? { cert } : {}),
      ...(key !== undefined ? { key } : {}),
      fromFile: all(p, '--from-file'),
      fromLiteral: all(p, '--from-literal'),
    },
    (f) => readFileSync(resolvePath(ctx, f)),
  );
  if (typeof secret === 'string') return fail(`${secret}\n`);
  const [r] = ctx.session.cluster.apply([secret]);
  if (r?.error !== undefined) return fail(`${formatApplyResult(r)}\n`);
  return ok(`secret/${name} created\n`);
}

function scale(ctx: CommandContext, p: Parsed): ExecResult {
  const target = p.positional.slice(1).join('/');
  const name = target.replace(/^(deploy|deployment|deployments)(\.apps)?\//, '');
  const replicas = Number(one(p, '--replicas'));
  if (!Number.isInteger(replicas) || replicas < 0)
    return fail('error: --replicas=COUNT is required\n');
  ctx.session.cluster.scale(one(p, '-n', '--namespace') ?? 'default', name, replicas);
  return ok(`deployment.apps/${name} scaled\n`);
}

export function kubectl(args: string[], ctx: CommandContext): ExecResult {
  const p = parse(args);
  const verb = p.positional[0];
  switch (verb) {
    case 'apply':
      return applyOrCreate(ctx, p, false);
    case 'create':
      return p.positional[1] === 'secret' ? createSecret(ctx, p) : applyOrCreate(ctx, p, true);
    case 'delete':
      return deleteCmd(ctx, p);
    case 'get':
      return get(ctx, p);
    case 'scale':
      return scale(ctx, p);
    case 'logs':
      return logs(ctx, p);
    default:
      return fail(
        `error: unknown command "${verb ?? ''}" for "kubectl" (svclab simulates apply, create, delete, get, logs, scale)\n`,
      );
  }
}
