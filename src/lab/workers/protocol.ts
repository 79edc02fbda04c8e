// What the daemon and a pod's worker process say over the IPC channel (JSON messages).
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

export type WorkerMessage =
  | { type: 'listening'; ports: number[] }
  | { type: 'dns-query'; id: number; transport: 'udp' | 'tcp'; data: string }
  | { type: 'error'; message: string };

export type DaemonMessage = { type: 'dns-answer'; id: number; data: string | null };
