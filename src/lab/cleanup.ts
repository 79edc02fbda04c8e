// Remove what a lab with this prefix made, whether its daemon stopped cleanly or crashed:
// processes in its namespaces, the namespaces, devices left in the root namespace, the
// /etc/netns entries and the state files. Only names the lab itself makes match: with
// prefix `svl-`, `svl-pod-…`, `svl-node-…`, `svl-client`, `svl-external` and devices
// `svl-` + 8 hex digits, so another lab (say `svl-t42-`) is left alone.
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
import { clearState, labPaths } from './state.ts';

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
}

export async function cleanupLab(prefix: string): Promise<CleanupReport> {
  const report: CleanupReport = { namespaces: [], devices: [], processes: [] };
  const namespaces = (await listNetns(prefix)).filter((n) => isLabNetns(prefix, n));
  for (const ns of namespaces) {
    for (const pid of await netnsPids(ns)) {
      try {
        process.kill(pid, 'SIGKILL');
        report.processes.push(pid);
      } catch {
        // already gone
      }
    }
  }
  await Promise.all(
    namespaces.map(async (ns) => {
      await deleteNetns(ns);
      removeResolvConf(ns);
      report.namespaces.push(ns);
    }),
  );
  for (const dev of (await listLinks(devicePrefix(prefix))).filter((d) => isLabDevice(prefix, d))) {
    await deleteLink(dev);
    report.devices.push(dev);
  }
  let etc: string[] = [];
  try {
    etc = readdirSync(NETNS_ETC);
  } catch {
    // no /etc/netns
  }
  for (const ns of etc) if (isLabNetns(prefix, ns)) removeResolvConf(ns);
  clearState(labPaths(prefix));
  return report;
}
