// What the daemon and a pod's worker process say over the IPC channel (JSON messages).
import type { IngressRequest } from '../../ingress/route.ts';
import type { WorkloadKind } from '../../workloads/kind.ts';

/** argv[2] of a worker: what to run, where. */
export interface WorkerSpec {
  kind: WorkloadKind;
  namespace: string;
  pod: string;
  image: string;
  /** The pod IP, to bind to. */
  ip: string;
  /** TCP ports for an HTTP echo (other images). */
  ports: number[];
  /** When the container started (myapp's hostname.html mtime), ms. */
  startedAtMs: number;
}

/** An ingress-nginx worker's request, for the daemon to route (it holds the Ingresses). */
export type IngressRouteQuery = IngressRequest;

/** The daemon's routing answer: nginx answers itself, or proxies to an endpoint. */
export type IngressRouteAnswer =
  | { kind: 'respond'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'proxy'; ip: string; port: number; uri: string };

export type WorkerMessage =
  | { type: 'listening'; ports: number[] }
  | { type: 'dns-query'; id: number; transport: 'udp' | 'tcp'; data: string }
  | { type: 'ingress-route'; id: number; query: IngressRouteQuery }
  | { type: 'ingress-cert'; id: number; host: string }
  | { type: 'error'; message: string };

export type DaemonMessage =
  | { type: 'dns-answer'; id: number; data: string | null }
  | { type: 'ingress-route'; id: number; answer: IngressRouteAnswer }
  | { type: 'ingress-cert'; id: number; cert: string | null; key: string | null };
