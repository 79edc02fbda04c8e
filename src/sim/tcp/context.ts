// What a TCP connection needs from the host it lives on (kept as an interface so
// tcp/ does not import host.ts).
import type { VirtualClock } from '../../control/clock.ts';
import type { Rng } from '../../control/rng.ts';
import type { TcpConfig } from './config.ts';
import type { TcpConnection } from './connection.ts';

export interface TcpHostContext {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly tcpConfig: TcpConfig;
  /** Put a packet on the wire (the host counts it). */
  sendPacket(pkt: Uint8Array): void;
  /** The connection reached CLOSED: forget its 4-tuple. */
  tcpForget(conn: TcpConnection): void;
  /** Bump a host counter. */
  count(name: string): void;
}
