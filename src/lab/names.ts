// Names of what the lab makes on the machine. Everything carries the lab's prefix
// (default `svl-`) so that `lab down` and a later `lab up` find it again and nothing
// else is touched. Namespace names may be long; device names must fit IFNAMSIZ (15
// characters), so a device is a short form of the prefix plus a hash of its namespace.

export const DEFAULT_PREFIX = 'svl-';
const IFNAMSIZ = 15;

export type LabNsKind = 'pod' | 'node' | 'client' | 'external';

/** FNV-1a, 32 bits: short stable names. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h >>> 0;
}

const hex8 = (n: number) => n.toString(16).padStart(8, '0');

/** A prefix is letters, digits and dashes, 1–32 of them (it becomes part of file names). */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(prefix))
    throw new Error(`bad lab prefix "${prefix}": use letters, digits and '-' (at most 32)`);
  return prefix;
}

/** The prefix as it starts device names: itself when at most 7 characters, else hashed. */
export function devicePrefix(prefix: string): string {
  if (prefix.length <= IFNAMSIZ - 8) return prefix;
  return `sv${hex8(fnv1a(prefix)).slice(0, 4)}-`;
}

/** The TUN device of a namespace: device prefix + 8 hex digits of the namespace name. */
export function deviceName(prefix: string, netns: string): string {
  return devicePrefix(prefix) + hex8(fnv1a(netns));
}

export function podNetns(prefix: string, namespace: string, pod: string): string {
  return `${prefix}pod-${namespace}-${pod}`;
}

export function nodeNetns(prefix: string, node: string): string {
  return `${prefix}node-${node}`;
}

export function clientNetns(prefix: string): string {
  return `${prefix}client`;
}

export function externalNetns(prefix: string): string {
  return `${prefix}external`;
}
