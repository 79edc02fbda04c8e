// One entry point for validating a defaulted object of any kind.

import type { FieldError } from './errors.ts';
import { clusterLimits } from './options.ts';
import type { ClusterLimits, ValidateOptions } from './options.ts';
import {
  validateConfigMap,
  validateNamespace,
  validateNode,
  validateSecret,
} from './validate-config.ts';
import { validateEndpointSlice, validateEndpoints } from './validate-endpoints.ts';
import { validateEvent } from './validate-event.ts';
import { validateIngress, validateIngressClass } from './validate-ingress.ts';
import { validatePod } from './validate-pod.ts';
import { validateService } from './validate-service.ts';
import { validateDeployment, validateReplicaSet } from './validate-workload.ts';
import type { KubeObject } from './types.ts';

/** Validate with limits already resolved (the loader resolves them once per load). */
export function validateWithLimits(
  obj: KubeObject,
  limits: ClusterLimits,
  writtenApiVersion: string = obj.apiVersion,
): FieldError[] {
  switch (obj.kind) {
    case 'Namespace':
      return validateNamespace(obj);
    case 'Node':
      return validateNode(obj);
    case 'Pod':
      return validatePod(obj);
    case 'Deployment':
      return validateDeployment(obj);
    case 'ReplicaSet':
      return validateReplicaSet(obj);
    case 'Service':
      return validateService(obj, limits);
    case 'Endpoints':
      return validateEndpoints(obj);
    case 'EndpointSlice':
      return validateEndpointSlice(obj);
    case 'Ingress':
      return validateIngress(obj, writtenApiVersion);
    case 'Secret':
      return validateSecret(obj);
    case 'ConfigMap':
      return validateConfigMap(obj);
    case 'IngressClass':
      return validateIngressClass(obj);
    case 'Event':
      return validateEvent(obj);
  }
}

/**
 * The API server's create-time validation of a defaulted object (what
 * `defaultObject` returns). Errors carry field paths but no file position.
 */
export function validateObject(obj: KubeObject, opts: ValidateOptions = {}): FieldError[] {
  return validateWithLimits(obj, clusterLimits(opts));
}
