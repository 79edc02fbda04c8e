// What a workload's request handler sees and returns: plain data, no sockets, so the
// simulated HTTP server (src/sim) and the lab's real processes (src/lab/workers) serve
// the same bytes.

import type { HeaderList } from './header-fields.ts';

export { type HeaderList, headerValue } from './header-fields.ts';

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

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
