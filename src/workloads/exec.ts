// A command run in a container (kubectl exec): what is asked and the streams it talks
// through. Below both runtimes, so the simulation and the lab implement it alike and the
// API server hands requests to either.

export interface ExecRequest {
  namespace: string;
  pod: string;
  /** The container asked for (`-c`); undefined means the pod's first. */
  container?: string;
  /** argv, as kubectl sends it (`command=` repeated). */
  command: string[];
  stdin: boolean;
  tty: boolean;
}

/** The streams of one exec: what the pod writes, and what the user types. */
export interface ExecStreams {
  stdout(chunk: Uint8Array | string): void;
  stderr(chunk: Uint8Array | string): void;
  /** Bytes the user sends (only when `stdin`); ends when the user closes stdin. */
  stdin?: AsyncIterable<Uint8Array>;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
}
