// The paths of a group version's OpenAPI v3 document: the served resources' real URL paths
// and operations as kube-apiserver has them, each operation with its
// x-kubernetes-group-version-kind, the PATCH media types and the fieldValidation parameter
// (so kubectl apply leaves field validation to the server). Their bodies and responses
// `$ref` the component schemas of schemas.ts.
import type { GroupVersionPath } from './documents.ts';

type Obj = Record<string, unknown>;

type Sub = 'status' | 'scale' | 'log' | 'exec' | 'finalize';

export interface Resource {
  resource: string;
  kind: string;
  namespaced: boolean;
  subresources: Sub[];
}

const res = (resource: string, kind: string, subresources: Sub[] = [], namespaced = true) => ({
  resource,
  kind,
  namespaced,
  subresources,
});

/** The served resources of each group version, with their kinds and subresources. */
export const RESOURCES: Record<GroupVersionPath, Resource[]> = {
  'api/v1': [
    res('namespaces', 'Namespace', ['status', 'finalize'], false),
    res('nodes', 'Node', ['status'], false),
    res('pods', 'Pod', ['status', 'log', 'exec']),
    res('services', 'Service', ['status']),
    res('endpoints', 'Endpoints'),
    res('secrets', 'Secret'),
    res('configmaps', 'ConfigMap'),
    res('events', 'Event'),
  ],
  'apis/apps/v1': [
    res('deployments', 'Deployment', ['status', 'scale']),
    res('replicasets', 'ReplicaSet', ['status', 'scale']),
  ],
  'apis/discovery.k8s.io/v1': [res('endpointslices', 'EndpointSlice')],
  'apis/events.k8s.io/v1': [res('events', 'Event')],
  'apis/extensions/v1beta1': [
    res('deployments', 'Deployment', ['status', 'scale']),
    res('replicasets', 'ReplicaSet', ['status', 'scale']),
    res('ingresses', 'Ingress', ['status']),
  ],
  'apis/networking.k8s.io/v1': [
    res('ingresses', 'Ingress', ['status']),
    res('ingressclasses', 'IngressClass', [], false),
  ],
};

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const ref = (name: string): Obj => ({ $ref: `#/components/schemas/${name}` });

interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** The package of a group in component names: '' → core, networking.k8s.io → networking. */
export function groupPackage(group: string): string {
  return group === '' ? 'core' : group.replace(/\.k8s\.io$/, '');
}

/** The component name of a kind: io.k8s.api.apps.v1.Deployment, io.k8s.api.core.v1.Pod. */
export function componentName(gvk: Gvk): string {
  return `io.k8s.api.${groupPackage(gvk.group)}.${gvk.version}.${gvk.kind}`;
}

/** CoreV1, AppsV1, NetworkingV1, ExtensionsV1beta1: the operationId infix. */
function idInfix(gvk: Gvk): string {
  const g = gvk.group === '' ? 'core' : gvk.group.split('.')[0]!;
  return g[0]!.toUpperCase() + g.slice(1) + gvk.version[0]!.toUpperCase() + gvk.version.slice(1);
}

function tag(gvk: Gvk): string {
  return `${gvk.group === '' ? 'core' : gvk.group.split('.')[0]}_${gvk.version}`;
}

const query = (name: string, type: string, description: string): Obj => ({
  description,
  in: 'query',
  name,
  schema: { type, uniqueItems: true },
});

const DRY_RUN = query(
  'dryRun',
  'string',
  'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed',
);
const FIELD_MANAGER = query(
  'fieldManager',
  'string',
  'fieldManager is a name associated with the actor or entity that is making these changes.',
);
const FIELD_VALIDATION = query(
  'fieldValidation',
  'string',
  'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present.',
);
const FORCE = query(
  'force',
  'boolean',
  'Force is going to "force" Apply requests. Force flag must be unset for non-apply patch requests.',
);
const WRITE = [DRY_RUN, FIELD_MANAGER, FIELD_VALIDATION];
const DELETE = [
  DRY_RUN,
  query(
    'gracePeriodSeconds',
    'integer',
    'The duration in seconds before the object should be deleted.',
  ),
  query('orphanDependents', 'boolean', 'Deprecated: please use the PropagationPolicy.'),
  query('propagationPolicy', 'string', 'Whether and how garbage collection will be performed.'),
];
const LIST = [
  query(
    'allowWatchBookmarks',
    'boolean',
    'allowWatchBookmarks requests watch events with type "BOOKMARK".',
  ),
  query(
    'continue',
    'string',
    'The continue option should be set when retrieving more results from the server.',
  ),
  query(
    'fieldSelector',
    'string',
    'A selector to restrict the list of returned objects by their fields.',
  ),
  query(
    'labelSelector',
    'string',
    'A selector to restrict the list of returned objects by their labels.',
  ),
  query('limit', 'integer', 'limit is a maximum number of responses to return for a list call.'),
  query(
    'resourceVersion',
    'string',
    'resourceVersion sets a constraint on what resource versions a request may be served from.',
  ),
  query(
    'resourceVersionMatch',
    'string',
    'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  ),
  query('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  query(
    'watch',
    'boolean',
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  ),
];
const PATH_PARAMS = (namespaced: boolean, named: string | undefined): Obj[] => [
  ...(named !== undefined
    ? [
        {
          description: `name of the ${named}`,
          in: 'path',
          name: 'name',
          required: true,
          schema: { type: 'string', uniqueItems: true },
        },
      ]
    : []),
  ...(namespaced
    ? [
        {
          description: 'object name and auth scope, such as for teams and projects',
          in: 'path',
          name: 'namespace',
          required: true,
          schema: { type: 'string', uniqueItems: true },
        },
      ]
    : []),
  query('pretty', 'string', "If 'true', then the output is pretty printed."),
];

const MEDIA = ['application/json', 'application/yaml'];
const PATCH_MEDIA = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

const content = (media: string[], schema: Obj): Obj =>
  Object.fromEntries(media.map((m) => [m, { schema }]));

const ok = (schema: Obj, extra: Record<string, string> = {}): Obj => {
  const responses: Obj = { 200: { content: content(MEDIA, schema), description: 'OK' } };
  for (const [code, description] of Object.entries(extra))
    responses[code] = { content: content(MEDIA, schema), description };
  responses[401] = { description: 'Unauthorized' };
  return responses;
};

function operation(
  action: string,
  id: string,
  gvk: Gvk,
  description: string,
  parameters: Obj[],
  responses: Obj,
  requestBody?: Obj,
): Obj {
  const op: Obj = { description, operationId: id };
  if (parameters.length > 0) op.parameters = parameters;
  if (requestBody) op.requestBody = requestBody;
  op.responses = responses;
  op.tags = [tag(gvk)];
  op['x-kubernetes-action'] = action;
  op['x-kubernetes-group-version-kind'] = gvk;
  return op;
}

function scaleGvk(gv: Gvk): Gvk {
  return gv.group === 'extensions'
    ? { group: 'extensions', version: 'v1beta1', kind: 'Scale' }
    : { group: 'autoscaling', version: 'v1', kind: 'Scale' };
}

/** The paths of one group version, sorted, as the API server's document has them. */
export function groupVersionPaths(path: GroupVersionPath): Record<string, Record<string, unknown>> {
  const parts = path.split('/');
  const group = parts[0] === 'api' ? '' : parts[1]!;
  const version = parts[parts.length - 1]!;
  const prefix = `/${path}`;
  const paths: Record<string, Record<string, unknown>> = {};

  const gvAny: Gvk = { group, version, kind: '' };
  paths[`${prefix}/`] = {
    get: {
      description: 'get available resources',
      operationId: `get${idInfix(gvAny)}APIResources`,
      responses: ok(ref(`${META}APIResourceList`)),
      tags: [tag(gvAny)],
    },
  };

  for (const r of RESOURCES[path]) {
    const gvk: Gvk = { group, version, kind: r.kind };
    const kind = componentName(gvk);
    const list = `${kind}List`;
    const infix = idInfix(gvk);
    const ns = r.namespaced ? 'Namespaced' : '';
    const collection = r.namespaced
      ? `${prefix}/namespaces/{namespace}/${r.resource}`
      : `${prefix}/${r.resource}`;
    const body = (schema: Obj, required = true): Obj => ({
      content: content(MEDIA, schema),
      required,
    });

    paths[collection] = {
      delete: operation(
        'deletecollection',
        `deletecollection${infix}${ns}${r.kind}`,
        gvk,
        `delete collection of ${r.kind}`,
        [...DELETE, ...LIST],
        ok(ref(`${META}Status`)),
        body(ref(`${META}DeleteOptions`), false),
      ),
      get: operation(
        'list',
        `list${infix}${ns}${r.kind}`,
        gvk,
        `list or watch objects of kind ${r.kind}`,
        LIST,
        ok(ref(list)),
      ),
      parameters: PATH_PARAMS(r.namespaced, undefined),
      post: operation(
        'post',
        `create${infix}${ns}${r.kind}`,
        gvk,
        `create ${article(r.kind)}`,
        WRITE,
        ok(ref(kind), { 201: 'Created', 202: 'Accepted' }),
        body(ref(kind)),
      ),
    };
    if (r.namespaced)
      paths[`${prefix}/${r.resource}`] = {
        get: operation(
          'list',
          `list${infix}${r.kind}ForAllNamespaces`,
          gvk,
          `list or watch objects of kind ${r.kind}`,
          LIST,
          ok(ref(list)),
        ),
        parameters: PATH_PARAMS(false, undefined),
      };

    const item = `${collection}/{name}`;
    const itemOps = (sub: string, subGvk: Gvk, schema: Obj, what: string) => ({
      get: operation(
        'get',
        `read${infix}${ns}${r.kind}${sub}`,
        subGvk,
        `read ${what}the specified ${r.kind}`,
        [],
        ok(schema),
      ),
      parameters: PATH_PARAMS(r.namespaced, r.kind),
      patch: operation(
        'patch',
        `patch${infix}${ns}${r.kind}${sub}`,
        subGvk,
        `partially update ${what}the specified ${r.kind}`,
        [...WRITE, FORCE],
        ok(schema, { 201: 'Created' }),
        { content: content(PATCH_MEDIA, ref(`${META}Patch`)), required: true },
      ),
      put: operation(
        'put',
        `replace${infix}${ns}${r.kind}${sub}`,
        subGvk,
        `replace ${what}the specified ${r.kind}`,
        WRITE,
        ok(schema, { 201: 'Created' }),
        body(schema),
      ),
    });
    paths[item] = {
      ...itemOps('', gvk, ref(kind), ''),
      delete: operation(
        'delete',
        `delete${infix}${ns}${r.kind}`,
        gvk,
        `delete ${article(r.kind)}`,
        DELETE,
        ok(ref(`${META}Status`), { 202: 'Accepted' }),
        body(ref(`${META}DeleteOptions`), false),
      ),
    };
    for (const sub of r.subresources) {
      const subPath = `${item}/${sub}`;
      const Sub = sub[0]!.toUpperCase() + sub.slice(1);
      if (sub === 'status') paths[subPath] = itemOps('Status', gvk, ref(kind), 'status of ');
      else if (sub === 'scale') {
        const scale = scaleGvk(gvk);
        const name = componentName(scale);
        paths[subPath] = itemOps('Scale', scale, ref(name), 'scale of ');
      } else if (sub === 'finalize') {
        paths[subPath] = {
          parameters: PATH_PARAMS(r.namespaced, r.kind),
          put: operation(
            'put',
            `replace${infix}${ns}${r.kind}Finalize`,
            gvk,
            `replace finalize of the specified ${r.kind}`,
            WRITE,
            ok(ref(kind), { 201: 'Created' }),
            body(ref(kind)),
          ),
        };
      } else if (sub === 'log') {
        paths[subPath] = {
          get: operation(
            'get',
            `read${infix}${ns}${r.kind}Log`,
            gvk,
            `read log of the specified ${r.kind}`,
            [],
            {
              200: { content: { 'text/plain': { schema: { type: 'string' } } }, description: 'OK' },
              401: { description: 'Unauthorized' },
            },
          ),
          parameters: PATH_PARAMS(r.namespaced, r.kind),
        };
      } else {
        const exec: Gvk = { group, version, kind: `${r.kind}ExecOptions` };
        const connect = (verb: string) =>
          operation(
            'connect',
            `connect${verb}${infix}${ns}${r.kind}${Sub}`,
            exec,
            `connect ${verb} requests to ${sub} of ${r.kind}`,
            [],
            {
              200: { content: { '*/*': { schema: { type: 'string' } } }, description: 'OK' },
              401: { description: 'Unauthorized' },
            },
          );
        paths[subPath] = {
          get: connect('Get'),
          parameters: PATH_PARAMS(r.namespaced, `${r.kind}ExecOptions`),
          post: connect('Post'),
        };
      }
    }
  }

  return Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((k) => [k, paths[k]!]),
  );
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

const FIELD_VALIDATION_ONLY = { in: 'query', name: 'fieldValidation', schema: { type: 'string' } };

/**
 * The paths of a served document: those of groupVersionPaths with only the operations that
 * take a body (POST, PUT, PATCH), each cut down to what kubectl reads: its operationId and
 * x-kubernetes-group-version-kind, the fieldValidation parameter, the media types of a
 * PATCH (without schemas), and a `200` response without a body (OpenAPI requires one).
 * kubectl 1.32 parses the whole document for every object it applies: the reads, the other
 * parameters and the descriptions would cost it time and tell it nothing.
 */
export function servedPaths(path: GroupVersionPath): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [p, item] of Object.entries(groupVersionPaths(path))) {
    const ops: Record<string, unknown> = {};
    for (const verb of ['patch', 'post', 'put']) {
      const op = item[verb] as Obj | undefined;
      const gvk = op?.['x-kubernetes-group-version-kind'] as Gvk | undefined;
      if (op === undefined || gvk === undefined || gvk.kind.endsWith('Options')) continue;
      const served: Obj = { operationId: op.operationId, parameters: [FIELD_VALIDATION_ONLY] };
      if (verb === 'patch')
        served.requestBody = {
          content: Object.fromEntries(PATCH_MEDIA.map((m) => [m, {}])),
          required: true,
        };
      served.responses = { 200: { description: 'OK' } };
      served['x-kubernetes-group-version-kind'] = gvk;
      ops[verb] = served;
    }
    if (Object.keys(ops).length > 0) out[p] = ops;
  }
  return out;
}
