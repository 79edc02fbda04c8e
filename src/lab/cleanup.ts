// Remove what a lab with this prefix made, whether its daemon stopped cleanly or crashed:
// processes in its namespaces, the namespaces, devices left in the root namespace, the
// /etc/netns entries and the state files. Only names the lab itself makes match: with
// prefix `svl-`, `svl-pod-…`, `svl-node-…`, `svl-client`, `svl-external` and devices
// `svl-` + 8 hex digits, so another lab (say `svl-t42-`) is left alone. What the lab
// recorded making (owned.json, written before each namespace is made) is removed too,
// when it still has the lab's shape.
import { readdirSync } from 'node:fs';
import { devicePrefix } from './names.ts';
import {
  NETNS_ETC,
  deleteLink,
  deleteNetns,
  listLinks,
  listNetns,
  netnsPids,
  removeResolvConf,
} from './netns.ts';
import { clearState, labPaths, readOwned } from './state.ts';

/** Is `name` one of the namespaces a lab with `prefix` makes? */
export function isLabNetns(prefix: string, name: string): boolean {
  if (!name.startsWith(prefix)) return false;
  const rest = name.slice(prefix.length);
  return (
    rest === 'client' || rest === 'external' || rest.startsWith('pod-') || rest.startsWith('node-')
  );
}

/** Is `dev` one of the TUN devices a lab with `prefix` makes? */
export function isLabDevice(prefix: string, dev: string): boolean {
  const p = devicePrefix(prefix);
  return dev.startsWith(p) && /^[0-9a-f]{8}$/.test(dev.slice(p.length));
}

export interface CleanupReport {
  namespaces: string[];
  devices: string[];
  processes: number[];
  /** /etc/netns/<ns> directories. */
  etc: string[];
}

/** What `lab down` of `prefix` would remove now (nothing is touched). */
export async function findLeftovers(prefix: string): Promise<CleanupReport> {
  const owned = readOwned(labPaths(prefix));
  const namespaces = [
    ...new Set([
      ...(await listNetns(prefix)).filter((n) => isLabNetns(prefix, n)),
      ...owned.namespaces.filter((n) => isLabNetns(prefix, n)),
    ]),
  ];
  const present = new Set(await listNetns(prefix));
  const processes: number[] = [];
  for (const ns of namespaces) if (present.has(ns)) processes.push(...(await netnsPids(ns)));
  const devices = [
    ...new Set([...(await listLinks(devicePrefix(prefix))).filter((d) => isLabDevice(prefix, d))]),
  ];
  let etc: string[] = [];
  try {
    etc = readdirSync(NETNS_ETC).filter((ns) => isLabNetns(prefix, ns));
  } catch {
    // no /etc/netns
  }
  return {
    namespaces: namespaces.filter((n) => present.has(n)),
    devices,
    processes,
    etc,
  };
}

export async function cleanupLab(prefix: string): Promise<CleanupReport> {
  const found = await findLeftovers(prefix);
  const report: CleanupReport = { namespaces: [], devices: [], processes: [], etc: [] };
  for (const pid of found.processes) {
    try {
      process.kill(pid, 'SIGKILL');
      report.processes.push(pid);
    } catch {
      // already gone
    }
  }
  await Promise.all(
    found.namespaces.map(async (ns) => {
      await deleteNetns(ns);
      removeResolvConf(ns);
      report.namespaces.push(ns);
    }),
  );
  for (const dev of found.devices) {
    await deleteLink(dev);
    report.devices.push(dev);
  }
  for (const ns of found.etc) {
    removeResolvConf(ns);
    report.etc.push(ns);
  }
  clearState(labPaths(prefix));
  return report;
}
