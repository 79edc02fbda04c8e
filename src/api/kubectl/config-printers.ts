// kubectl's printers for the configuration kinds (printers.go printNamespace,
// printSecret, printConfigMap), beside printers.ts's workload and network ones.
import type { ConfigMap, Namespace, Secret } from '../types.ts';
import { humanDuration } from './age.ts';
import type { PrintContext, Printer } from './printers.ts';

const age = (ns: number | undefined, ctx: PrintContext): string =>
  ns === undefined ? '<unknown>' : humanDuration(ctx.now - ns);

export const namespacePrinter: Printer<Namespace> = {
  headers: () => ['NAME', 'STATUS', 'AGE'],
  row: (n, ctx) => [
    n.metadata.name,
    n.metadata.deletionTimestamp === undefined ? (n.status?.phase ?? 'Active') : 'Terminating',
    age(n.metadata.creationTimestamp, ctx),
  ],
};

export const secretPrinter: Printer<Secret> = {
  headers: () => ['NAME', 'TYPE', 'DATA', 'AGE'],
  row: (s, ctx) => [
    s.metadata.name,
    s.type,
    String(Object.keys(s.data ?? {}).length),
    age(s.metadata.creationTimestamp, ctx),
  ],
};

export const configMapPrinter: Printer<ConfigMap> = {
  headers: () => ['NAME', 'DATA', 'AGE'],
  row: (c, ctx) => [
    c.metadata.name,
    String(Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length),
    age(c.metadata.creationTimestamp, ctx),
  ],
};
