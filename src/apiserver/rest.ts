// The REST verbs over the one store: get, list (selectors, limit/continue, Table),
// create, update (optimistic concurrency), patch (JSON, merge, strategic), delete
// (grace period, propagation) and deletecollection, plus the status and scale
// subresources — what kube-apiserver's generic registry does, on svclab's store.
import { clusterLimits } from '../api/options.ts';
import { clusterMinor } from '../control/cluster-config.ts';
import type { ClusterLimits } from '../api/options.ts';
import type { Deployment, Kind, KubeObject, ReplicaSet } from '../api/types.ts';
import { formatLabelSelector } from '../api/selector.ts';
import { CLUSTER_SCOPED } from '../control/errors.ts';
import { cloneForStore } from '../control/objects.ts';
import { formatTime } from '../api/wire.ts';
import { applyPatch, patchTypeOf, PatchError } from './patch/index.ts';
import { groupVersion, type ServedResource } from './resources.ts';
import type { ClusterRuntime } from './runtime.ts';
import { type Selection, parseSelection, selects } from './selectors.ts';
import { HttpStatusError, badRequest, successStatus, toHttpError } from './status.ts';
import { type IncludeObject, toTable } from './table.ts';
import { decodeBody, toServed } from './versions.ts';
import { fromWireTimes } from './wire-times.ts';

type Obj = Record<string, unknown>;

export interface Target {
  res: ServedResource;
  /** Namespace from the URL (undefined: all namespaces, or a cluster-scoped kind). */
  namespace?: string;
  name?: string;
  sub?: string;
}

export interface Reply {
  status: number;
  body: unknown;
  /** Pre-serialised body (large lists), sent as is. */
  text?: string;
  contentType?: string;
}

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** `deployments.extensions`, `services`: the resource as errors name it. */
export function qualifiedResource(res: ServedResource): string {
  return res.group === '' ? res.resource : `${res.resource}.${res.group}`;
}

export function notFound(res: ServedResource, name: string): HttpStatusError {
  return new HttpStatusError(404, 'NotFound', `${qualifiedResource(res)} "${name}" not found`, {
    name,
    group: res.group,
    kind: res.resource,
  });
}

/** Store errors name the stored group (`deployments.apps`); say the requested one. */
function inRequestTerms(err: unknown, res: ServedResource, name: string): HttpStatusError {
  const e = toHttpError(err, { name, group: res.group, kind: res.resource });
  const stored: Record<string, string> = {
    Deployment: 'deployments.apps',
    ReplicaSet: 'replicasets.apps',
    Ingress: 'ingresses.networking.k8s.io',
  };
  const from = stored[res.stored];
  if (from === undefined || !e.message.includes(from)) return e;
  return new HttpStatusError(
    e.code,
    e.reason,
    e.message.split(from).join(qualifiedResource(res)),
    e.details,
  );
}

/** Continue tokens: where the next page starts (lists are sorted by namespace/name). */
function encodeContinue(rv: string, key: string): string {
  return Buffer.from(JSON.stringify({ rv, start: key })).toString('base64url');
}

function decodeContinue(token: string): { rv: string; start: string } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (isObj(v) && typeof v['rv'] === 'string' && typeof v['start'] === 'string') {
      return { rv: v['rv'], start: v['start'] };
    }
  } catch {
    // fall through
  }
  throw badRequest(
    'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
  );
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function includeObject(query: URLSearchParams): IncludeObject {
  const v = query.get('includeObject');
  if (v === null || v === '') return 'Metadata';
  if (v === 'None' || v === 'Metadata' || v === 'Object') return v;
  throw badRequest(`includeObject: Unsupported value: "${v}"`);
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`invalid ${name}: ${JSON.stringify(v)}`);
  return n;
}

function dryRun(query: URLSearchParams, body?: unknown): boolean {
  if (query.getAll('dryRun').includes('All')) return true;
  return isObj(body) && Array.isArray(body['dryRun']) && body['dryRun'].includes('All');
}

export class RestHandlers {
  readonly limits: ClusterLimits;

  constructor(
    readonly runtime: ClusterRuntime,
    /** Unknown-field check for fieldValidation=Strict (OpenAPI-backed); optional. */
    private readonly unknownFields?: (apiVersion: string, kind: string, obj: unknown) => string[],
  ) {
    const cfg = runtime.cluster.config;
    this.limits = clusterLimits({ serviceCidr: cfg.serviceCIDR, nodePortRange: cfg.nodePortRange });
  }

  private get store() {
    return this.runtime.cluster.store;
  }

  served(o: KubeObject, res: ServedResource): Obj {
    return toServed(o, res, this.runtime.epochMs);
  }

  private existing(t: Target): KubeObject {
    const o = this.store.get(t.res.stored, t.namespace, t.name!);
    if (o === undefined) throw notFound(t.res, t.name!);
    return o;
  }

  /** GET one object (or its status/scale), as JSON or a Table. */
  get(t: Target, query: URLSearchParams, table: boolean): Reply {
    const o = this.existing(t);
    if (t.sub === 'scale') return { status: 200, body: this.scaleOf(o, t.res) };
    if (table) return { status: 200, body: this.table(t.res, [o], query, {}) };
    return { status: 200, body: this.served(o, t.res) };
  }

  /** The objects a list or watch selects, sorted by namespace/name. */
  select(t: Target, sel: Selection): KubeObject[] {
    const all = this.store.list(t.res.stored, t.namespace) as KubeObject[];
    if (sel.labels === undefined && sel.fields.length === 0) return all;
    return all.filter((o) => selects(sel, o));
  }

  list(t: Target, query: URLSearchParams, table: boolean): Reply {
    const sel = parseSelection(query, t.res.stored);
    let objs = this.select(t, sel);
    const rv = this.store.resourceVersion;
    const meta: Obj = { resourceVersion: rv };
    const cont = query.get('continue');
    if (cont !== null && cont !== '') {
      const { start } = decodeContinue(cont);
      // The list is sorted by namespace, then name (not by the joined key: '-' sorts
      // before '/'): binary search for the first object past start in that order.
      const cut = start.indexOf('/');
      const sNs = start.slice(0, cut);
      const sName = start.slice(cut + 1);
      const after = (o: KubeObject): boolean => {
        const ns = o.metadata.namespace ?? '';
        return ns > sNs || (ns === sNs && o.metadata.name > sName);
      };
      let lo = 0;
      let hi = objs.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (after(objs[mid]!)) hi = mid;
        else lo = mid + 1;
      }
      objs = objs.slice(lo);
    }
    const limit = intParam(query, 'limit');
    if (limit !== undefined && limit > 0 && objs.length > limit) {
      meta['continue'] = encodeContinue(rv, keyOf(objs[limit - 1]!));
      meta['remainingItemCount'] = objs.length - limit;
      objs = objs.slice(0, limit);
    }
    if (table) return { status: 200, body: this.table(t.res, objs, query, meta) };
    const gv = groupVersion(t.res.group, t.res.version);
    // Serialise item by item: one string for 10k objects without an intermediate tree.
    const items = objs.map((o) => JSON.stringify(this.served(o, t.res)));
    const text =
      `{"kind":"${t.res.kind}List","apiVersion":"${gv}","metadata":${JSON.stringify(meta)},` +
      `"items":[${items.join(',')}]}`;
    return { status: 200, body: undefined, text };
  }

  table(res: ServedResource, objs: readonly KubeObject[], query: URLSearchParams, meta: Obj): Obj {
    return toTable(
      res.stored,
      objs,
      {
        now: this.runtime.cluster.now(),
        epochMs: this.runtime.epochMs,
        include: includeObject(query),
        minor: clusterMinor(this.runtime.cluster.config),
        served: (o) => this.served(o, res),
      },
      meta,
    );
  }

  private checkStrict(query: URLSearchParams, body: unknown, res: ServedResource): void {
    const mode = query.get('fieldValidation');
    if (mode !== 'Strict' || this.unknownFields === undefined) return;
    const unknown = this.unknownFields(groupVersion(res.group, res.version), res.kind, body);
    if (unknown.length === 0) return;
    const msgs = unknown.map((f) => `unknown field "${f}"`);
    throw badRequest(
      `${res.kind} in version "${res.version}" cannot be handled as a ${res.kind}: strict decoding error: ${msgs.join(', ')}`,
    );
  }

  create(t: Target, body: unknown, query: URLSearchParams): Reply {
    if (t.sub !== undefined) throw badRequest(`${t.sub} cannot be created`);
    this.checkStrict(query, body, t.res);
    // An object without a namespace goes to the URL's (the decoder would say `default`).
    const meta = isObj(body) && isObj(body['metadata']) ? body['metadata'] : undefined;
    const given = meta?.['namespace'];
    const input =
      t.namespace !== undefined && meta !== undefined && (given === undefined || given === '')
        ? { ...(body as Obj), metadata: { ...meta, namespace: t.namespace } }
        : body;
    const obj = decodeBody(input, t.res, this.limits);
    const name = obj.metadata.name;
    if (!CLUSTER_SCOPED.has(obj.kind)) {
      const ns = obj.metadata.namespace;
      if (t.namespace === undefined) throw badRequest('the namespace of the object is required');
      if (ns !== undefined && ns !== '' && ns !== t.namespace) {
        throw badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      }
      obj.metadata.namespace = t.namespace;
    }
    if (dryRun(query)) {
      if (this.store.get(obj.kind, obj.metadata.namespace, name) !== undefined) {
        throw new HttpStatusError(
          409,
          'AlreadyExists',
          `${qualifiedResource(t.res)} "${name}" already exists`,
          {
            name,
            group: t.res.group,
            kind: t.res.resource,
          },
        );
      }
      return { status: 201, body: this.served(obj, t.res) };
    }
    const created = this.write(t, name, () => this.store.create(cloneForStore(obj)));
    return { status: 201, body: this.served(created, t.res) };
  }

  /** One store write and the controllers settling after it; store errors in request terms. */
  private write<T>(t: Target, name: string, fn: () => T): T {
    return this.runtime.write(() => {
      try {
        const o = fn();
        this.runtime.cluster.settle();
        return o;
      } catch (err) {
        throw inRequestTerms(err, t.res, name);
      }
    });
  }

  /** PUT: replace the object (status kept unless it is the status subresource). */
  update(t: Target, body: unknown, query: URLSearchParams): Reply {
    if (t.sub === 'scale') return this.updateScale(t, body);
    const existing = this.existing(t);
    if (t.sub === 'status') return this.writeStatus(t, existing, body, query);
    this.checkStrict(query, body, t.res);
    const obj = decodeBody(body, t.res, this.limits);
    return this.replace(t, existing, obj, query);
  }

  private replace(t: Target, existing: KubeObject, obj: KubeObject, query: URLSearchParams): Reply {
    const name = t.name!;
    if (obj.metadata.name !== name) {
      throw badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    if (existing.metadata.namespace !== undefined)
      obj.metadata.namespace = existing.metadata.namespace;
    const merged = keepServerFields(existing, obj);
    if (dryRun(query)) return { status: 200, body: this.served(merged, t.res) };
    const updated = this.write(t, name, () => this.store.update(cloneForStore(merged)));
    return { status: 200, body: this.served(updated, t.res) };
  }

  private writeStatus(
    t: Target,
    existing: KubeObject,
    body: unknown,
    query: URLSearchParams,
  ): Reply {
    if (!isObj(body)) throw badRequest('the body of the request was not a JSON object');
    const meta = isObj(body['metadata']) ? body['metadata'] : {};
    const rv = meta['resourceVersion'];
    if (typeof rv === 'string' && rv !== '' && rv !== existing.metadata.resourceVersion) {
      throw inRequestTerms(
        new HttpStatusError(
          409,
          'Conflict',
          `Operation cannot be fulfilled on ${qualifiedResource(t.res)} "${t.name}": the object has been modified; please apply your changes to the latest version and try again`,
        ),
        t.res,
        t.name!,
      );
    }
    const status = fromWireTimes(body['status'], this.runtime.epochMs);
    const next = { ...existing, status } as KubeObject;
    if (dryRun(query)) return { status: 200, body: this.served(next, t.res) };
    const updated = this.runtime.write(() => {
      const o = this.store.update(cloneForStore(next));
      this.runtime.cluster.settle();
      return o;
    });
    return { status: 200, body: this.served(updated, t.res) };
  }

  patch(t: Target, contentType: string, body: unknown, query: URLSearchParams): Reply {
    const type = patchTypeOf(contentType);
    if (type === undefined) {
      throw new HttpStatusError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
      );
    }
    const existing = this.existing(t);
    const current =
      t.sub === 'scale' ? this.scaleOf(existing, t.res) : this.served(existing, t.res);
    let patched: Obj;
    try {
      patched = applyPatch(type, t.sub === 'scale' ? 'Scale' : t.res.kind, current, body) as Obj;
    } catch (err) {
      if (err instanceof PatchError) throw toPatchStatus(err);
      throw err;
    }
    if (t.sub === 'scale') return this.updateScale(t, patched);
    if (t.sub === 'status') return this.writeStatus(t, existing, patched, query);
    // A patch carries no precondition unless it sets metadata.resourceVersion itself.
    const meta = isObj(patched['metadata']) ? patched['metadata'] : (patched['metadata'] = {});
    const patchMeta = isObj(body) && isObj(body['metadata']) ? body['metadata'] : undefined;
    if (patchMeta?.['resourceVersion'] === undefined)
      meta['resourceVersion'] = existing.metadata.resourceVersion;
    delete patched['status'];
    this.checkStrict(query, patched, t.res);
    const obj = decodeBody(patched, t.res, this.limits);
    return this.replace(t, existing, obj, query);
  }

  /**
   * Server-side apply (`application/apply-patch+yaml`), simplified: svclab keeps no
   * managedFields, so there are no field owners and no conflicts. A missing object is
   * created from the configuration; an existing one gets it merged in with the strategic
   * merge patch's list keys (containers by name, ports by port ...), which is how apply
   * merges those lists. Fields a configuration stops naming are not removed.
   */
  applyServerSide(t: Target, body: unknown, query: URLSearchParams): Reply {
    if (t.sub !== undefined) throw badRequest(`server-side apply to ${t.sub} is not supported`);
    if (!isObj(body)) throw badRequest('the apply configuration is not an object');
    const meta = isObj(body['metadata']) ? body['metadata'] : {};
    if (meta['name'] !== undefined && meta['name'] !== t.name) {
      throw badRequest(
        `the name of the object (${String(meta['name'])}) does not match the name on the URL (${t.name})`,
      );
    }
    const strict = new URLSearchParams(query);
    if (!strict.has('fieldValidation')) strict.set('fieldValidation', 'Strict');
    const existing = this.store.get(t.res.stored, t.namespace, t.name!);
    if (existing === undefined) {
      const create = { ...body, metadata: { ...meta, name: t.name } };
      const { name: _n, ...collection } = t;
      return this.create(collection, create, strict);
    }
    this.checkStrict(strict, body, t.res);
    let merged: Obj;
    try {
      merged = applyPatch('strategic', t.res.kind, this.served(existing, t.res), body) as Obj;
    } catch (err) {
      if (err instanceof PatchError) throw toPatchStatus(err);
      throw err;
    }
    const m = isObj(merged['metadata']) ? merged['metadata'] : (merged['metadata'] = {});
    m['resourceVersion'] = existing.metadata.resourceVersion;
    delete merged['status'];
    const obj = decodeBody(merged, t.res, this.limits);
    return this.replace(t, existing, obj, query);
  }

  delete(t: Target, body: unknown, query: URLSearchParams): Reply {
    const existing = this.existing(t);
    const opts = deleteOptions(body, query);
    const pre = opts.preconditions;
    if (pre?.uid !== undefined && pre.uid !== existing.metadata.uid) {
      throw new HttpStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t.res)} "${t.name}": Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid}`,
      );
    }
    if (
      pre?.resourceVersion !== undefined &&
      pre.resourceVersion !== existing.metadata.resourceVersion
    ) {
      throw new HttpStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t.res)} "${t.name}": Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`,
      );
    }
    const details = {
      name: t.name!,
      group: t.res.group,
      kind: t.res.resource,
      uid: existing.metadata.uid ?? '',
    };
    if (dryRun(query, body)) return { status: 200, body: successStatus(details) };
    const after = this.runtime.write(() => {
      if (opts.propagationPolicy === 'Orphan') this.orphanDependents(existing);
      this.store.delete(
        t.res.stored,
        t.namespace,
        t.name!,
        opts.gracePeriodSeconds === undefined
          ? {}
          : { gracePeriodSeconds: opts.gracePeriodSeconds },
      );
      this.runtime.cluster.settle();
      return this.store.get(t.res.stored, t.namespace, t.name!);
    });
    // A graceful delete answers with the object, now carrying its deletionTimestamp.
    if (after !== undefined && after.metadata.uid === existing.metadata.uid) {
      return { status: 200, body: this.served(after, t.res) };
    }
    return { status: 200, body: successStatus(details) };
  }

  deleteCollection(t: Target, body: unknown, query: URLSearchParams): Reply {
    const sel = parseSelection(query, t.res.stored);
    const objs = this.select(t, sel);
    const opts = deleteOptions(body, query);
    if (!dryRun(query, body)) {
      this.runtime.write(() => {
        for (const o of objs) {
          if (opts.propagationPolicy === 'Orphan') this.orphanDependents(o);
          try {
            this.store.delete(
              t.res.stored,
              o.metadata.namespace,
              o.metadata.name,
              opts.gracePeriodSeconds === undefined
                ? {}
                : { gracePeriodSeconds: opts.gracePeriodSeconds },
            );
          } catch {
            // Deleted meanwhile (a cascade): nothing left to do for it.
          }
        }
        this.runtime.cluster.settle();
      });
    }
    const gv = groupVersion(t.res.group, t.res.version);
    return {
      status: 200,
      body: {
        kind: `${t.res.kind}List`,
        apiVersion: gv,
        metadata: { resourceVersion: this.store.resourceVersion },
        items: objs.map((o) => this.served(o, t.res)),
      },
    };
  }

  /** --cascade=orphan: dependents lose their owner reference instead of being collected. */
  private orphanDependents(owner: KubeObject): void {
    const uid = owner.metadata.uid;
    const kinds: Kind[] = ['ReplicaSet', 'Pod', 'EndpointSlice'];
    for (const kind of kinds) {
      for (const o of this.store.list(kind, owner.metadata.namespace) as KubeObject[]) {
        const refs = o.metadata.ownerReferences;
        if (refs === undefined || !refs.some((r) => r.uid === uid)) continue;
        const left = refs.filter((r) => r.uid !== uid);
        const { ownerReferences: _drop, ...meta } = o.metadata;
        const next = {
          ...o,
          metadata: left.length > 0 ? { ...meta, ownerReferences: left } : meta,
        };
        this.store.update(cloneForStore(next as KubeObject));
      }
    }
  }

  // ---- scale subresource (autoscaling/v1 Scale) ----------------------------------------

  scaleOf(o: KubeObject, _res: ServedResource): Obj {
    if (o.kind !== 'Deployment' && o.kind !== 'ReplicaSet')
      throw badRequest('no scale subresource');
    const w = o as Deployment | ReplicaSet;
    const sel = formatLabelSelector(w.spec.selector);
    const m = o.metadata;
    const meta: Obj = {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
    };
    if (m.creationTimestamp !== undefined) {
      meta['creationTimestamp'] = formatTime(m.creationTimestamp, this.runtime.epochMs);
    }
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: meta,
      spec: { replicas: w.spec.replicas },
      status: { replicas: w.status?.replicas ?? 0, selector: sel === '<none>' ? '' : sel },
    };
  }

  private updateScale(t: Target, body: unknown): Reply {
    const existing = this.existing(t) as Deployment | ReplicaSet;
    if (!isObj(body) || !isObj(body['spec']))
      throw badRequest('the body of the request was not a Scale');
    const replicas = body['spec']['replicas'] ?? 0;
    if (
      typeof replicas !== 'number' ||
      !Number.isInteger(replicas) ||
      replicas < 0 ||
      replicas > 2147483647
    ) {
      throw new HttpStatusError(
        422,
        'Invalid',
        `Scale.autoscaling "${t.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`,
      );
    }
    const meta = isObj(body['metadata']) ? body['metadata'] : {};
    const rv = meta['resourceVersion'];
    if (typeof rv === 'string' && rv !== '' && rv !== existing.metadata.resourceVersion) {
      throw new HttpStatusError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualifiedResource(t.res)} "${t.name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const updated = this.runtime.write(() => {
      const o = this.store.update({
        ...existing,
        spec: { ...existing.spec, replicas },
      } as KubeObject);
      this.runtime.cluster.settle();
      return o;
    });
    return { status: 200, body: this.scaleOf(updated, t.res) };
  }
}

/** Status and the scheduler's binding are not the client's to replace on the main resource. */
function keepServerFields(existing: KubeObject, obj: KubeObject): KubeObject {
  const merged = { ...obj } as KubeObject & { status?: unknown };
  const oldStatus = (existing as { status?: unknown }).status;
  if (oldStatus !== undefined) merged.status = oldStatus;
  else delete merged.status;
  if (existing.kind === 'Pod' && merged.kind === 'Pod') {
    const nodeName = existing.spec.nodeName;
    if (!merged.spec.nodeName && nodeName) merged.spec = { ...merged.spec, nodeName };
  }
  return merged;
}

interface DeleteOpts {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  preconditions?: { uid?: string; resourceVersion?: string };
}

function deleteOptions(body: unknown, query: URLSearchParams): DeleteOpts {
  const out: DeleteOpts = {};
  const b = isObj(body) ? body : {};
  const grace = b['gracePeriodSeconds'] ?? intParam(query, 'gracePeriodSeconds');
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0) {
      throw badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(grace)}`);
    }
    out.gracePeriodSeconds = grace;
  }
  const policy = b['propagationPolicy'] ?? query.get('propagationPolicy') ?? undefined;
  if (policy !== undefined && policy !== null) {
    if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw new HttpStatusError(
        422,
        'Invalid',
        `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${String(policy)}": supported values: "Foreground", "Background", "Orphan", "nil"`,
      );
    }
    out.propagationPolicy = policy;
  }
  if (b['orphanDependents'] === true) out.propagationPolicy = 'Orphan';
  if (isObj(b['preconditions'])) {
    const p = b['preconditions'];
    out.preconditions = {};
    if (typeof p['uid'] === 'string') out.preconditions.uid = p['uid'];
    if (typeof p['resourceVersion'] === 'string')
      out.preconditions.resourceVersion = p['resourceVersion'];
  }
  return out;
}

function toPatchStatus(err: PatchError): HttpStatusError {
  const details = err.details === undefined ? undefined : { causes: err.details.causes ?? [] };
  return new HttpStatusError(
    err.code,
    err.reason === '' ? 'InternalError' : err.reason,
    err.message,
    details,
  );
}
