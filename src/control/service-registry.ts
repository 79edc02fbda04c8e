// The Service REST strategy: what kube-apiserver does synchronously when a Service is
// written. ClusterIPs and NodePorts are allocated at create (explicit values honoured,
// conflicts rejected with the API server's messages), kept across updates that omit
// them (patchAllocatedValues), and released on delete. Headless (`clusterIP: None`)
// and ExternalName services get no ClusterIP; ExternalName gets no NodePorts.
import type { Service, ServicePort } from '../api/types.ts';
import { AllocationError } from './allocators/bitmap.ts';
import type { ClusterIPAllocator } from './allocators/cluster-ip.ts';
import type { NodePortAllocator } from './allocators/node-port.ts';
import { ApiError, invalid } from './errors.ts';
import type { Strategy } from './store.ts';
import { plainCopy, withFields } from './objects.ts';

const needsClusterIP = (s: Service): boolean =>
  s.spec.type !== 'ExternalName' && s.spec.clusterIP !== 'None';
const needsNodePorts = (s: Service): boolean =>
  s.spec.type === 'NodePort' || s.spec.type === 'LoadBalancer';
const autoNodePorts = (s: Service): boolean =>
  s.spec.type === 'NodePort' ||
  (s.spec.type === 'LoadBalancer' && s.spec.allocateLoadBalancerNodePorts !== false);
const needsHealthCheckPort = (s: Service): boolean =>
  s.spec.type === 'LoadBalancer' && s.spec.externalTrafficPolicy === 'Local';

/** Allocations made during one write are undone if a later step fails; releases wait for success. */
class Txn {
  private readonly undo: (() => void)[] = [];
  private readonly commits: (() => void)[] = [];
  add(undo: () => void): void {
    this.undo.push(undo);
  }
  onCommit(fn: () => void): void {
    this.commits.push(fn);
  }
  rollback(): void {
    for (const fn of this.undo.reverse()) fn();
  }
  commit(): void {
    for (const fn of this.commits) fn();
  }
}

export class ServiceRegistry implements Strategy<Service> {
  constructor(
    private readonly ips: ClusterIPAllocator,
    private readonly ports: NodePortAllocator,
  ) {}

  prepareCreate(svc: Service): Service {
    const txn = new Txn();
    try {
      // A posted status is ignored on create (PrepareForCreate).
      const out = this.allocate(undefined, withFields(svc, { status: { loadBalancer: {} } }), txn);
      txn.commit();
      return out;
    } catch (e) {
      txn.rollback();
      throw e;
    }
  }

  prepareUpdate(old: Service, svc: Service): Service {
    const txn = new Txn();
    try {
      const out = this.allocate(old, svc, txn);
      txn.commit();
      return out;
    } catch (e) {
      txn.rollback();
      throw e;
    }
  }

  afterDelete(svc: Service): void {
    this.releaseAll(svc);
  }

  private allocate(old: Service | undefined, input: Service, txn: Txn): Service {
    const name = input.metadata.name;
    const spec = { ...input.spec };
    // ---- ClusterIP
    const oldIP = old !== undefined && needsClusterIP(old) ? old.spec.clusterIP : undefined;
    if (spec.type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
    } else if (spec.clusterIP === 'None') {
      if (oldIP !== undefined) throw immutableIP(name, 'None');
      spec.clusterIPs = ['None'];
    } else {
      const want = spec.clusterIP === '' ? undefined : spec.clusterIP;
      if (oldIP !== undefined && want !== undefined && want !== oldIP)
        throw immutableIP(name, want);
      if (oldIP !== undefined) {
        spec.clusterIP = oldIP;
      } else if (want !== undefined) {
        this.claimIP(name, want);
        txn.add(() => this.ips.release(want));
        spec.clusterIP = want;
      } else {
        const ip = this.nextIP();
        txn.add(() => this.ips.release(ip));
        spec.clusterIP = ip;
      }
      spec.clusterIPs = [spec.clusterIP];
    }
    // What the checks below read of the service being written (no full copy).
    const view = { metadata: input.metadata, spec } as Service;
    if (old !== undefined && oldIP !== undefined && !needsClusterIP(view)) {
      // Type changed to ExternalName: the address goes back to the pool on success.
      txn.onCommit(() => this.ips.release(oldIP));
    }
    if (spec.type !== 'ExternalName') {
      spec.ipFamilies = spec.ipFamilies?.length ? spec.ipFamilies : ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
    }
    // ---- NodePorts
    spec.ports = this.nodePorts(old, view, txn);
    // ---- healthCheckNodePort (LoadBalancer + externalTrafficPolicy: Local)
    const oldHc = old?.spec.healthCheckNodePort;
    if (needsHealthCheckPort(view)) {
      const want = spec.healthCheckNodePort ?? oldHc;
      if (want !== undefined && want !== oldHc) {
        this.claimPort(name, 'spec.healthCheckNodePort', want);
        txn.add(() => this.ports.release(want));
      }
      spec.healthCheckNodePort = want ?? this.nextPort(txn);
      if (oldHc !== undefined && oldHc !== spec.healthCheckNodePort) {
        txn.onCommit(() => this.ports.release(oldHc));
      }
    } else {
      if (spec.healthCheckNodePort !== undefined) delete spec.healthCheckNodePort;
      if (oldHc !== undefined) txn.onCommit(() => this.ports.release(oldHc));
    }
    const status = input.status ?? old?.status ?? { loadBalancer: {} };
    return withFields(input, { spec: plainCopy(spec), status });
  }

  private nodePorts(old: Service | undefined, svc: Service, txn: Txn): ServicePort[] {
    const oldPorts =
      old !== undefined && needsNodePorts(old)
        ? old.spec.ports.map((p) => p.nodePort).filter((n): n is number => n !== undefined)
        : [];
    if (!needsNodePorts(svc)) {
      for (const p of oldPorts) txn.onCommit(() => this.ports.release(p));
      return svc.spec.ports.map((p) => {
        if (p.nodePort === undefined) return p;
        const { nodePort: _drop, ...rest } = p;
        return rest;
      });
    }
    // patchAllocatedValues: an omitted nodePort keeps the old one of the same-named port.
    const byName = new Map<string, number>();
    for (const p of old?.spec.ports ?? []) {
      if (p.nodePort !== undefined) byName.set(p.name ?? '', p.nodePort);
    }
    const explicit = new Set(svc.spec.ports.map((p) => p.nodePort).filter((n) => n !== undefined));
    const oldSet = new Set(oldPorts);
    const kept = new Set<number>();
    // Ports sharing a number (53/UDP + 53/TCP) share one NodePort, as kube-apiserver does.
    const byPortNumber = new Map<number, number>();
    const out = svc.spec.ports.map((p, i) => {
      let np = p.nodePort;
      if (np === undefined) {
        const prev = byName.get(p.name ?? '');
        if (prev !== undefined && !explicit.has(prev) && !kept.has(prev)) np = prev;
      }
      if (np === undefined) np = byPortNumber.get(p.port);
      if (np === undefined) {
        // allocateLoadBalancerNodePorts: false leaves LoadBalancer ports without one.
        if (!autoNodePorts(svc)) return p;
        np = this.nextPort(txn);
      } else if (!oldSet.has(np) && !kept.has(np)) {
        this.claimPort(svc.metadata.name, `spec.ports[${i}].nodePort`, np);
        const claimed = np;
        txn.add(() => this.ports.release(claimed));
      }
      kept.add(np);
      byPortNumber.set(p.port, np);
      return { ...p, nodePort: np };
    });
    for (const p of oldSet) if (!kept.has(p)) txn.onCommit(() => this.ports.release(p));
    return out;
  }

  private releaseAll(svc: Service): void {
    if (needsClusterIP(svc) && svc.spec.clusterIP) this.ips.release(svc.spec.clusterIP);
    if (needsNodePorts(svc)) {
      for (const p of svc.spec.ports) if (p.nodePort !== undefined) this.ports.release(p.nodePort);
    }
    if (svc.spec.healthCheckNodePort !== undefined)
      this.ports.release(svc.spec.healthCheckNodePort);
  }

  private claimIP(name: string, ip: string): void {
    try {
      this.ips.allocate(ip);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalid(
        'Service',
        name,
        'spec.clusterIPs',
        `[]string{"${ip}"}`,
        `failed to allocate IP ${ip}: ${e.message}`,
      );
    }
  }

  private nextIP(): string {
    try {
      return this.ips.allocateNext();
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw new ApiError(
        'InternalError',
        `Internal error occurred: failed to allocate a serviceIP: ${e.message}`,
      );
    }
  }

  private claimPort(name: string, field: string, port: number): void {
    try {
      this.ports.allocate(port);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw invalid('Service', name, field, String(port), e.message);
    }
  }

  private nextPort(txn: Txn): number {
    try {
      const port = this.ports.allocateNext();
      txn.add(() => this.ports.release(port));
      return port;
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      throw new ApiError(
        'InternalError',
        `Internal error occurred: failed to allocate a nodePort: ${e.message}`,
      );
    }
  }
}

function immutableIP(name: string, ip: string): ApiError {
  return invalid(
    'Service',
    name,
    'spec.clusterIPs[0]',
    `[]string{"${ip}"}`,
    'may not change once set',
  );
}
