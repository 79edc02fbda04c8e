// What a workload's request handler sees and returns: plain data, no sockets, so the
// simulated HTTP server (src/sim) and the lab's real processes (src/lab/workers) serve
// the same bytes.

/** Header fields in wire order, names as sent. */
export type HeaderList = Array<[name: string, value: string]>;

export interface WorkloadRequest {
  method: string;
  /** Origin-form target as sent, e.g. "/hostname.html?x=1". */
  target: string;
  /** "HTTP/1.1" or "HTTP/1.0". */
  version: string;
  headers: HeaderList;
  body: Uint8Array;
  remoteAddress: string;
  remotePort: number;
}

export interface WorkloadResponse {
  status: number;
  headers: HeaderList;
  body?: Uint8Array;
}

export type WorkloadHandler = (req: WorkloadRequest) => WorkloadResponse;

/** First value of a header (names compare case-insensitively). */
export function headerValue(headers: HeaderList, name: string): string | undefined {
  const n = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === n) return v;
  return undefined;
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
