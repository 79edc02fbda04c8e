// Views of a running cluster (`svclab serve` or the lab) instead of files: `--server`
// uses $KUBECONFIG or svclab serve's kubeconfig, `--kubeconfig FILE` names one. `get`
// asks the API for Tables and prints them as kubectl does; the node views run their
// tool on the node through svclab's /svclab/v1/nodes/NODE/tool endpoint.
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { parse } from 'yaml';
import { renderTable } from '../api/kubectl/table.ts';
import { CliError } from './cluster-from-files.ts';

export interface RemoteOptions {
  server?: boolean;
  kubeconfig?: string;
}

interface Target {
  server: string;
  token: string;
  ca: string;
}

/** Is a running cluster asked for? */
export const wantsRemote = (o: RemoteOptions): boolean =>
  o.server === true || o.kubeconfig !== undefined;

function kubeconfigPath(o: RemoteOptions): string {
  if (o.kubeconfig !== undefined) return o.kubeconfig;
  const env = process.env['KUBECONFIG'];
  if (env !== undefined && env !== '') return env.split(':')[0]!;
  return join(process.env['SVCLAB_HOME'] ?? join(homedir(), '.svclab'), 'serve', 'kubeconfig');
}

/** The current context's server, token and CA from a kubeconfig svclab wrote. */
export function loadTarget(o: RemoteOptions): Target {
  const file = kubeconfigPath(o);
  if (!existsSync(file)) {
    throw new CliError(`error: no kubeconfig at ${file} (is \`svclab serve\` running?)`);
  }
  const doc = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  type Named<T> = { name: string } & T;
  const contexts = (doc['contexts'] ?? []) as Named<{
    context: { cluster: string; user: string };
  }>[];
  const ctx = contexts.find((c) => c.name === doc['current-context']) ?? contexts[0];
  const cluster = ((doc['clusters'] ?? []) as Named<{ cluster: Record<string, string> }>[]).find(
    (c) => c.name === ctx?.context.cluster,
  )?.cluster;
  const user = ((doc['users'] ?? []) as Named<{ user: Record<string, string> }>[]).find(
    (u) => u.name === ctx?.context.user,
  )?.user;
  const caData = cluster?.['certificate-authority-data'];
  if (cluster?.['server'] === undefined || user?.['token'] === undefined || caData === undefined) {
    throw new CliError(`error: ${file} has no server, token and CA for its current context`);
  }
  return {
    server: cluster['server'],
    token: user['token'],
    ca: Buffer.from(caData, 'base64').toString(),
  };
}

function call(
  t: Target,
  method: string,
  path: string,
  accept: string,
  body?: unknown,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${t.token}`, accept };
    const data = body === undefined ? undefined : JSON.stringify(body);
    if (data !== undefined) headers['content-type'] = 'application/json';
    const req = request(
      `${t.server}${path}`,
      { method, headers, ca: t.ca, timeout: 30_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => reject(new CliError(`error: ${t.server}: ${e.message}`)));
    req.end(data);
  });
}

/** A failed request as kubectl prints it: `Error from server (NotFound): ...`. */
function serverError(text: string): CliError {
  try {
    const s = JSON.parse(text) as { reason?: string; message?: string };
    return new CliError(`Error from server (${s.reason ?? 'Unknown'}): ${s.message ?? text}`);
  } catch {
    return new CliError(`error: ${text}`);
  }
}

/** Run a node tool on the running cluster; prints what it printed, returns its exit code. */
export async function remoteTool(o: RemoteOptions, node: string, argv: string[]): Promise<number> {
  const t = loadTarget(o);
  const r = await call(
    t,
    'POST',
    `/svclab/v1/nodes/${encodeURIComponent(node)}/tool`,
    'application/json',
    { argv },
  );
  if (r.status !== 200) throw serverError(r.text);
  const out = JSON.parse(r.text) as { stdout: string; stderr: string; exitCode: number };
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  return out.exitCode;
}

/** The first node of a running cluster (what the views default to). */
export async function firstNode(o: RemoteOptions): Promise<string> {
  const t = loadTarget(o);
  const r = await call(t, 'GET', '/api/v1/nodes', 'application/json');
  if (r.status !== 200) throw serverError(r.text);
  const list = JSON.parse(r.text) as { items: { metadata: { name: string } }[] };
  const first = list.items[0]?.metadata.name;
  if (first === undefined) throw new CliError('error: the cluster has no nodes');
  return first;
}

/** Where a kubectl resource name lives: core or a group, and whether it is namespaced. */
const RESOURCES: Record<
  string,
  { path: string; plural: string; ref: string; namespaced: boolean }
> = {};

/**
 * Where a resource lives on a server of an older release (discovery would say): a v1.15
 * cluster has Ingresses in extensions/v1beta1 only.
 */
const OLDER: Record<string, { path: string; ref: string }> = {
  ingresses: { path: '/apis/extensions/v1beta1', ref: 'ingress.extensions' },
};
for (const [names, path, plural, ref, namespaced] of [
  [['svc', 'service', 'services'], '/api/v1', 'services', 'service', true],
  [['po', 'pod', 'pods'], '/api/v1', 'pods', 'pod', true],
  [['ep', 'endpoints'], '/api/v1', 'endpoints', 'endpoints', true],
  [['no', 'node', 'nodes'], '/api/v1', 'nodes', 'node', false],
  [['ns', 'namespace', 'namespaces'], '/api/v1', 'namespaces', 'namespace', false],
  [['ev', 'event', 'events'], '/api/v1', 'events', 'event', true],
  [['secret', 'secrets'], '/api/v1', 'secrets', 'secret', true],
  [['cm', 'configmap', 'configmaps'], '/api/v1', 'configmaps', 'configmap', true],
  [
    ['deploy', 'deployment', 'deployments'],
    '/apis/apps/v1',
    'deployments',
    'deployment.apps',
    true,
  ],
  [['rs', 'replicaset', 'replicasets'], '/apis/apps/v1', 'replicasets', 'replicaset.apps', true],
  [
    ['endpointslice', 'endpointslices'],
    '/apis/discovery.k8s.io/v1',
    'endpointslices',
    'endpointslice.discovery.k8s.io',
    true,
  ],
  [
    ['ing', 'ingress', 'ingresses'],
    '/apis/networking.k8s.io/v1',
    'ingresses',
    'ingress.networking.k8s.io',
    true,
  ],
] as const) {
  for (const n of names) RESOURCES[n] = { path, plural, ref, namespaced };
}

export interface RemoteGetOptions {
  namespace: string;
  allNamespaces: boolean;
  output?: string;
  withKind: boolean;
}

interface Table {
  columnDefinitions: { name: string; priority: number }[];
  rows: { cells: unknown[]; object?: { metadata?: { namespace?: string } } }[];
}

/** kubectl get against the running cluster: one resource type, as kubectl prints it. */
export async function remoteGet(
  o: RemoteOptions,
  resource: string,
  names: string[],
  g: RemoteGetOptions,
): Promise<{ stdout: string; stderr: string }> {
  let res = RESOURCES[resource.toLowerCase()];
  if (res === undefined)
    throw new CliError(`error: the server doesn't have a resource type "${resource}"`);
  const t = loadTarget(o);
  // The group version is not served (an older release): its older home, if it has one.
  const older = OLDER[res.plural];
  if (older !== undefined && (await call(t, 'GET', res.path, 'application/json')).status === 404)
    res = { ...res, ...older };
  const ns =
    res.namespaced && !g.allNamespaces ? `/namespaces/${encodeURIComponent(g.namespace)}` : '';
  const base = `${res.path}${ns}/${res.plural}`;
  const output = g.output ?? '';
  if (output === 'yaml' || output === 'json') {
    const path = names.length === 1 ? `${base}/${encodeURIComponent(names[0]!)}` : base;
    const r = await call(t, 'GET', path, 'application/json');
    if (r.status !== 200) throw serverError(r.text);
    const doc = JSON.parse(r.text) as Record<string, unknown>;
    if (names.length !== 1) Object.assign(doc, { apiVersion: 'v1', kind: 'List' });
    const { stringify } = await import('yaml');
    return {
      stdout: output === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : stringify(doc),
      stderr: '',
    };
  }
  if (output !== '' && output !== 'wide') {
    throw new CliError(
      `error: unable to match a printer suitable for the output format "${output}"`,
    );
  }
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io';
  const tables: Table[] = [];
  for (const path of names.length > 0
    ? names.map((n) => `${base}/${encodeURIComponent(n)}`)
    : [base]) {
    const r = await call(t, 'GET', path, accept);
    if (r.status !== 200) throw serverError(r.text);
    tables.push(JSON.parse(r.text) as Table);
  }
  const cols = tables[0]!.columnDefinitions;
  const shown = cols
    .map((c, i) => [c, i] as const)
    .filter(([c]) => c.priority === 0 || output === 'wide');
  const rows = tables.flatMap((tb) => tb.rows);
  if (rows.length === 0) {
    const where = ns === '' ? '' : ` in ${g.namespace} namespace`;
    return { stdout: '', stderr: `No resources found${where}.\n` };
  }
  const all = g.allNamespaces && res.namespaced;
  const headers = [...(all ? ['NAMESPACE'] : []), ...shown.map(([c]) => c.name.toUpperCase())];
  const body = rows.map((row) => {
    const cells = shown.map(([c, i]) => {
      const v = String(row.cells[i] ?? '');
      return g.withKind && c.name.toUpperCase() === 'NAME' ? `${res.ref}/${v}` : v;
    });
    return [...(all ? [row.object?.metadata?.namespace ?? ''] : []), ...cells];
  });
  return { stdout: renderTable(headers, body), stderr: '' };
}
