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

/** Why a prefix is refused, or undefined when it is a good one. */
export function prefixProblem(prefix: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,31}$/.test(prefix))
    return "use letters, digits and '-', starting with a letter or digit, at most 32";
  // A lab owns `<prefix>pod-…`, `<prefix>node-…`, `<prefix>client`, `<prefix>external`. A
  // prefix holding `pod-` or `node-` could extend another lab's prefix into that lab's
  // names (prefix `A` owns `Apod-…`, so a lab `Apod-x-` would be cleaned up by `A`'s down);
  // without them no lab's prefix starts another lab's names.
  if (/pod-|node-/.test(prefix)) return "it may not contain 'pod-' or 'node-'";
  // Long prefixes' devices start with `sv` + 4 hex digits + `-`: that shape is reserved.
  if (/^sv[0-9a-f]{4}-/.test(prefix)) return "'sv' + 4 hex digits + '-' is reserved";
  return undefined;
}

/** A prefix is letters, digits and dashes, 1–32 of them (it becomes part of file names). */
export function checkPrefix(prefix: string): string {
  const problem = prefixProblem(prefix);
  if (problem !== undefined)
    throw new LabNameError(`bad lab prefix ${JSON.stringify(prefix)}: ${problem}`);
  return prefix;
}

/** A refused name: a user error, printed as one line. */
export class LabNameError extends Error {}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * An object's name and namespace as the lab puts them into paths, namespace names and
 * command lines: RFC 1123 (a subdomain for the name, a label for the namespace), checked
 * before they touch anything.
 */
export function checkObjectName(namespace: string, name: string): void {
  if (!DNS1123_LABEL.test(namespace))
    throw new LabNameError(
      `bad namespace ${JSON.stringify(namespace)}: a lowercase RFC 1123 label ([a-z0-9-], at most 63)`,
    );
  if (!DNS1123_SUBDOMAIN.test(name))
    throw new LabNameError(
      `bad name ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain ([a-z0-9.-], at most 253)`,
    );
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
