// Network namespaces and links through iproute2 (`ip`), run with execFile: create,
// configure, list and delete by prefix, and the /etc/netns/<ns>/resolv.conf that
// `ip netns exec` bind-mounts over /etc/resolv.conf.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';

export class IpError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(`ip ${args.join(' ')}: ${stderr.trim()}`);
  }
}

/** Run `ip ARGS` (stdin for -batch); resolves with stdout. */
export function ip(args: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', args, { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new IpError(args, stderr || err.message));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** Namespace names from `ip netns list` ("name (id: 3)" lines). */
export async function listNetns(prefix: string): Promise<string[]> {
  const out = await ip(['netns', 'list']).catch(() => '');
  return out
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n !== '' && n.startsWith(prefix));
}

/** Devices in the root namespace whose name starts with `devPrefix` (`ip -o link`). */
export async function listLinks(devPrefix: string): Promise<string[]> {
  const out = await ip(['-o', 'link', 'show']).catch(() => '');
  const names: string[] = [];
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (m && m[1]!.startsWith(devPrefix)) names.push(m[1]!);
  }
  return names;
}

export async function addNetns(name: string): Promise<void> {
  await ip(['netns', 'add', name]);
}

/**
 * Delete a namespace with everything running in it (a missing one is fine: idempotent).
 * `ip netns delete` only unmounts the name: processes inside (a worker, a `lab exec`'s
 * curl loop) would live on in a namespace nobody can reach, so they are killed first.
 */
export async function deleteNetns(name: string): Promise<void> {
  for (const pid of await netnsPids(name)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  await ip(['netns', 'delete', name]).catch((e: unknown) => {
    if (!(e instanceof IpError) || !/No such file|not found|Cannot remove/i.test(e.stderr)) throw e;
  });
}

export async function deleteLink(dev: string): Promise<void> {
  await ip(['link', 'delete', dev]).catch(() => undefined);
}

/** Process ids running inside a namespace (`ip netns pids`). */
export async function netnsPids(name: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', name]).catch(() => '');
  return out
    .split('\n')
    .map((s) => Number.parseInt(s, 10))
    .filter((n) => Number.isInteger(n) && n > 0);
}

export interface NetnsIface {
  /** The TUN device, already open in the root namespace. */
  dev: string;
  /** Addresses with their prefix, e.g. 10.244.1.5/32. */
  addresses: string[];
  /** Extra commands for `ip -n NS -batch -` after the defaults (e.g. a dummy device). */
  extra?: string[];
}

/**
 * Move the device into the namespace, give it its addresses, bring it and lo up, and
 * route everything out of it (the dataplane is the only way out).
 */
export async function wireNetns(ns: string, o: NetnsIface): Promise<void> {
  await ip(['link', 'set', 'dev', o.dev, 'netns', ns]);
  const lines = [
    'link set lo up',
    ...o.addresses.map((a) => `addr add ${a} dev ${o.dev}`),
    // No IPv6 link-local address: the kernel then sends no router or MLD solicitations
    // the (IPv4) dataplane would only drop.
    `link set ${o.dev} addrgenmode none`,
    `link set ${o.dev} up`,
    `route add default dev ${o.dev}`,
    ...(o.extra ?? []),
  ];
  await ip(['-n', ns, '-batch', '-'], `${lines.join('\n')}\n`);
}

export interface ResolvConf {
  nameserver: string;
  search: string[];
  ndots: number;
}

export const NETNS_ETC = '/etc/netns';

export function writeResolvConf(ns: string, r: ResolvConf): void {
  const dir = `${NETNS_ETC}/${ns}`;
  // Readable by every process in the namespace (the daemon's umask is 077): 0755 and 0644.
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  chmodSync(dir, 0o755);
  writeFileSync(
    `${dir}/resolv.conf`,
    `nameserver ${r.nameserver}\nsearch ${r.search.join(' ')}\noptions ndots:${r.ndots}\n`,
    { mode: 0o644 },
  );
  chmodSync(`${dir}/resolv.conf`, 0o644);
}

export function removeResolvConf(ns: string): void {
  rmSync(`${NETNS_ETC}/${ns}`, { recursive: true, force: true });
}
