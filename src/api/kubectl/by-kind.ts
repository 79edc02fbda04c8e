// kubectl's printer for each kind: the one table `svclab get`, the lab's views and the
// API server's server-side Tables all print with.
import type { Kind, KubeObject } from '../types.ts';
import { configMapPrinter, namespacePrinter, secretPrinter } from './config-printers.ts';
import {
  type Printer,
  deploymentPrinter,
  endpointSlicePrinter,
  endpointsPrinter,
  eventPrinter,
  ingressClassPrinter,
  ingressPrinter,
  nodePrinter,
  podPrinter,
  replicaSetPrinter,
  servicePrinter,
} from './printers.ts';

export const PRINTERS: Readonly<Record<Kind, Printer<never>>> = {
  Service: servicePrinter,
  Pod: podPrinter,
  Endpoints: endpointsPrinter,
  EndpointSlice: endpointSlicePrinter,
  Ingress: ingressPrinter,
  IngressClass: ingressClassPrinter,
  Deployment: deploymentPrinter,
  ReplicaSet: replicaSetPrinter,
  Node: nodePrinter,
  Namespace: namespacePrinter,
  Secret: secretPrinter,
  ConfigMap: configMapPrinter,
  Event: eventPrinter,
};

/** The printer of a kind's objects. */
export function printerOf(kind: Kind): Printer<KubeObject> {
  return PRINTERS[kind] as Printer<KubeObject>;
}
