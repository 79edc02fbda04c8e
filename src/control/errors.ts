// API errors shaped like the API server's metav1.Status failures, so a later HTTP
// front (kubectl) can return them verbatim: reason, code and the familiar messages.
import type { Kind } from '../api/types.ts';

export type StatusReason =
  'AlreadyExists' | 'NotFound' | 'Conflict' | 'Invalid' | 'Gone' | 'InternalError' | 'BadRequest';

const CODES: Record<StatusReason, number> = {
  AlreadyExists: 409,
  Conflict: 409,
  NotFound: 404,
  Invalid: 422,
  Gone: 410,
  InternalError: 500,
  BadRequest: 400,
};

export class ApiError extends Error {
  readonly code: number;
  constructor(
    readonly reason: StatusReason,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = CODES[reason];
  }
}

/** The resource name kubectl prints in errors: `deployments.apps`, `services` ... */
export const RESOURCE: Record<Kind, string> = {
  Namespace: 'namespaces',
  Node: 'nodes',
  Pod: 'pods',
  Deployment: 'deployments.apps',
  ReplicaSet: 'replicasets.apps',
  Service: 'services',
  Endpoints: 'endpoints',
  EndpointSlice: 'endpointslices.discovery.k8s.io',
  Ingress: 'ingresses.networking.k8s.io',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  IngressClass: 'ingressclasses.networking.k8s.io',
  Event: 'events',
};

/** Kinds that live outside namespaces. */
export const CLUSTER_SCOPED: ReadonlySet<Kind> = new Set<Kind>([
  'Namespace',
  'Node',
  'IngressClass',
]);

export function alreadyExists(kind: Kind, name: string): ApiError {
  return new ApiError('AlreadyExists', `${RESOURCE[kind]} "${name}" already exists`);
}

export function notFound(kind: Kind, name: string): ApiError {
  return new ApiError('NotFound', `${RESOURCE[kind]} "${name}" not found`);
}

export function conflict(kind: Kind, name: string): ApiError {
  return new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${RESOURCE[kind]} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

/** A field validation failure: `Service "x" is invalid: spec.clusterIPs: Invalid value: ...`. */
/** `value` is printed as given (Go's %#v of the field, e.g. `[]string{"10.96.0.10"}` or `30080`). */
export function invalid(kind: Kind, name: string, field: string, value: string, detail: string) {
  return new ApiError(
    'Invalid',
    `${kind} "${name}" is invalid: ${field}: Invalid value: ${value}: ${detail}`,
  );
}
