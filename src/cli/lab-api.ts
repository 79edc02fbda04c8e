// The lab's Kubernetes API: started inside the lab daemon once the lab is up, with its
// kubeconfig (0600) in the lab's state directory; stopped when the lab goes down.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { kubeconfigText, newToken, writePrivateFile } from '../apiserver/kubeconfig.ts';
import type { LabDaemon } from '../lab/daemon.ts';

/** The kubeconfig of the lab with this state directory. */
export const labKubeconfig = (stateDir: string): string => join(stateDir, 'kubeconfig');

export function labApi(port: number): (d: LabDaemon) => Promise<() => Promise<void>> {
  return async (d) => {
    const { ApiServer } = await import('../apiserver/server.ts');
    const { LabClusterRuntime } = await import('../apiserver/lab-runtime.ts');
    const runtime = new LabClusterRuntime(d);
    const { makeServingTls } = await import('../apiserver/tls.ts');
    const token = newToken();
    const tls = makeServingTls();
    const { labJourneys } = await import('./web.ts');
    const web = { driver: labJourneys(d) };
    let server = new ApiServer({ runtime, token, tls, port, web });
    let listening: number;
    try {
      listening = await server.listen();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || port === 0) throw err;
      // Another cluster has the port (a `svclab serve`, a second lab): take any free one.
      server = new ApiServer({ runtime, token, tls, port: 0, web });
      listening = await server.listen();
    }
    d.apiServer = `https://127.0.0.1:${listening}`;
    const file = labKubeconfig(d.paths.dir);
    writePrivateFile(
      file,
      kubeconfigText({
        server: d.apiServer,
        token,
        caPem: tls.caPem,
        name: `svclab-${d.o.prefix.replace(/-$/, '')}`,
      }),
    );
    return async () => {
      rmSync(file, { force: true });
      await server.close();
    };
  };
}
