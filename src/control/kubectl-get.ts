// kubectl get's output for a cluster: resource names and aliases, tables with kubectl's
// columns, -o yaml/json. Used by `svclab get`, a session's `kubectl get` and `svclab lab show`.
import { stringify } from 'yaml';
import type { Kind, KubeObject } from '../api/types.ts';
import { toApiList, toApiObject } from '../api/wire.ts';
import { type Cluster, KIND_REF } from './cluster.ts';
import type { Printer } from '../api/kubectl/printers.ts';
import { PRINTERS } from '../api/kubectl/by-kind.ts';
import { jsonpath } from '../api/kubectl/jsonpath.ts';
import { renderTable } from '../api/kubectl/table.ts';
import { matchesLabelSelector, parseSelector } from '../api/selector.ts';
import { clusterMinor } from './cluster-config.ts';
import { toExtensionsIngress } from '../api/old-shapes.ts';

/** A kubectl-style failure: the message is what kubectl prints. */
export class KubectlError extends Error {}

interface Resource {
  kind: Kind;
  plural: string;
  namespaced: boolean;
  printer: Printer<never>;
}

const RESOURCES: [string[], Resource][] = [
  [
    ['svc', 'service', 'services'],
    { kind: 'Service', plural: 'services', namespaced: true, printer: PRINTERS.Service },
  ],
  [['po', 'pod', 'pods'], { kind: 'Pod', plural: 'pods', namespaced: true, printer: PRINTERS.Pod }],
  [
    ['ep', 'endpoints'],
    { kind: 'Endpoints', plural: 'endpoints', namespaced: true, printer: PRINTERS.Endpoints },
  ],
  [
    ['endpointslice', 'endpointslices'],
    {
      kind: 'EndpointSlice',
      plural: 'endpointslices',
      namespaced: true,
      printer: PRINTERS.EndpointSlice,
    },
  ],
  [
    ['ing', 'ingress', 'ingresses'],
    { kind: 'Ingress', plural: 'ingresses', namespaced: true, printer: PRINTERS.Ingress },
  ],
  [
    ['deploy', 'deployment', 'deployments'],
    { kind: 'Deployment', plural: 'deployments', namespaced: true, printer: PRINTERS.Deployment },
  ],
  [
    ['rs', 'replicaset', 'replicasets'],
    { kind: 'ReplicaSet', plural: 'replicasets', namespaced: true, printer: PRINTERS.ReplicaSet },
  ],
  [
    ['no', 'node', 'nodes'],
    { kind: 'Node', plural: 'nodes', namespaced: false, printer: PRINTERS.Node },
  ],
  [
    ['ev', 'event', 'events'],
    { kind: 'Event', plural: 'events', namespaced: true, printer: PRINTERS.Event },
  ],
  [
    ['cm', 'configmap', 'configmaps'],
    { kind: 'ConfigMap', plural: 'configmaps', namespaced: true, printer: PRINTERS.ConfigMap },
  ],
  [
    ['secret', 'secrets'],
    { kind: 'Secret', plural: 'secrets', namespaced: true, printer: PRINTERS.Secret },
  ],
  [
    ['ns', 'namespace', 'namespaces'],
    { kind: 'Namespace', plural: 'namespaces', namespaced: false, printer: PRINTERS.Namespace },
  ],
  [
    ['ingressclass', 'ingressclasses'],
    {
      kind: 'IngressClass',
      plural: 'ingressclasses',
      namespaced: false,
      printer: PRINTERS.IngressClass,
    },
  ],
];

export function lookupResource(name: string): Resource {
  const found = RESOURCES.find(([names]) => names.includes(name.toLowerCase()));
  if (found === undefined) {
    throw new KubectlError(`error: the server doesn't have a resource type "${name}"`);
  }
  return found[1];
}

export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  /** Prefix names with `<resource>/` (kubectl does when several types are listed). */
  withKind?: boolean;
  /** -l: a label selector (`app=x,tier!=y`). */
  selector?: string;
}

/** kubectl get's output for one resource type; `stderr` holds "No resources found". */
export function renderGet(
  cluster: Cluster,
  resourceName: string,
  names: string[],
  opts: GetOptions,
): { stdout: string; stderr: string } {
  const res = lookupResource(resourceName);
  const ns = res.namespaced && !opts.allNamespaces ? (opts.namespace ?? 'default') : undefined;
  let objs: KubeObject[] = cluster.list(res.kind, ns);
  if (opts.selector !== undefined) {
    const sel = parseSelector(opts.selector);
    objs = objs.filter((o) => matchesLabelSelector(sel, o.metadata.labels ?? {}));
  }
  objs.sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name}`.localeCompare(
      `${b.metadata.namespace ?? ''}/${b.metadata.name}`,
    ),
  );
  if (names.length > 0) {
    const missing = names.filter((n) => !objs.some((o) => o.metadata.name === n));
    if (missing.length > 0) {
      const group =
        res.kind === 'Deployment' || res.kind === 'ReplicaSet'
          ? `${res.plural}.apps`
          : res.kind === 'IngressClass'
            ? `${res.plural}.networking.k8s.io`
            : res.plural;
      throw new KubectlError(`Error from server (NotFound): ${group} "${missing[0]}" not found`);
    }
    objs = names.map((n) => objs.find((o) => o.metadata.name === n)!);
  }
  const output = opts.output ?? '';
  // Before v1.19 `kubectl get ingress` reads extensions/v1beta1, the only version served.
  const oldIngress = res.kind === 'Ingress' && clusterMinor(cluster.config) < 19;
  const served = (o: KubeObject): Record<string, unknown> => {
    const w = toApiObject(o);
    if (oldIngress) {
      w['apiVersion'] = 'extensions/v1beta1';
      toExtensionsIngress(w);
    }
    return w;
  };
  const list = (os: KubeObject[]) => ({ ...toApiList([]), items: os.map(served) });
  if (output.startsWith('jsonpath=')) {
    const doc = names.length === 1 ? served(objs[0]!) : list(objs);
    return { stdout: jsonpath(output.slice('jsonpath='.length), doc), stderr: '' };
  }
  if (output === 'yaml' || output === 'json') {
    const single = names.length === 1;
    const doc = single ? served(objs[0]!) : list(objs);
    const text =
      output === 'json'
        ? `${JSON.stringify(doc, null, 4)}\n`
        : stringify(doc, { indentSeq: false, version: '1.1' });
    return { stdout: text, stderr: '' };
  }
  if (output !== '' && output !== 'wide') {
    throw new KubectlError(
      `error: unable to match a printer suitable for the output format "${output}"`,
    );
  }
  if (objs.length === 0) {
    const where = ns === undefined ? '' : ` in ${ns} namespace`;
    return { stdout: '', stderr: `No resources found${where}.\n` };
  }
  const wide = output === 'wide';
  const minor = clusterMinor(cluster.config);
  const ctx = { now: cluster.now(), wide, minor };
  const printer = res.printer as Printer<KubeObject>;
  const all = opts.allNamespaces === true && res.namespaced;
  const headers = [...(all ? ['NAMESPACE'] : []), ...printer.headers(wide, minor)];
  const rows = objs.map((o) => {
    const row = printer.row(o, ctx);
    if (opts.withKind) row[0] = `${KIND_REF[o.kind]}/${row[0]}`;
    return [...(all ? [o.metadata.namespace ?? ''] : []), ...row];
  });
  return { stdout: renderTable(headers, rows), stderr: '' };
}
