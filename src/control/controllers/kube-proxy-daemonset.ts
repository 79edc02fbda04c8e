// The kube-proxy DaemonSet's controller, the one part of it svclab models: every node runs
// one kube-proxy pod, so a deleted one is replaced (`kubectl delete pod -l k8s-app=kube-proxy`
// is how a changed kube-proxy ConfigMap takes effect). The replacement is created once the
// old pod is gone, as the DaemonSet controller does for a pod that is terminating.
import { kubeProxyPod } from '../bootstrap.ts';
import type { ClusterConfig } from '../cluster-config.ts';
import type { Store } from '../store.ts';
import { WorkQueue, drainQueue } from '../workqueue.ts';
import type { Controller } from '../workqueue.ts';

export class KubeProxyDaemonSetController implements Controller {
  readonly name = 'daemonset-kube-proxy';
  private readonly queue = new WorkQueue();

  constructor(
    private readonly store: Store,
    private readonly cfg: ClusterConfig,
  ) {
    store.watch('Pod', (ev) => {
      if (ev.type !== 'DELETED') return;
      const owner = ev.object.metadata.ownerReferences?.find(
        (o) => o.kind === 'DaemonSet' && o.name === 'kube-proxy',
      );
      const node = ev.object.spec.nodeName;
      if (owner !== undefined && node) this.queue.add(`${node}\u0000${owner.uid}`);
    });
  }

  drain(): boolean {
    return drainQueue(this.queue, (key) => this.sync(key));
  }

  private sync(key: string): void {
    const [node, uid] = key.split('\u0000') as [string, string];
    if (this.store.get('Node', undefined, node) === undefined) return;
    const running = this.store
      .list('Pod', 'kube-system')
      .some(
        (p) =>
          p.spec.nodeName === node &&
          p.metadata.ownerReferences?.some((o) => o.kind === 'DaemonSet' && o.uid === uid),
      );
    if (!running) this.store.create(kubeProxyPod(node, uid, this.cfg));
  }
}
