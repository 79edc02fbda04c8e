// A listening socket: answers SYNs with SYN/ACK and hands each connection to the
// application once the handshake completes (accept()). Half-open connections are
// limited by the backlog; beyond it SYNs are dropped, as Linux does without syncookies.
import type { TcpConnection } from './connection.ts';

export class TcpListener {
  /** Local address it is bound to; 0 = any (INADDR_ANY). */
  readonly ip: number;
  readonly port: number;
  onConnection: (conn: TcpConnection) => void;
  /** Handshakes in progress. */
  halfOpen = 0;
  accepted = 0;
  /** SYNs dropped because the backlog was full. */
  droppedSyns = 0;
  closed = false;
  /** @internal Set by the host: stop listening. */
  unbind: (() => void) | undefined;

  constructor(ip: number, port: number, onConnection: (conn: TcpConnection) => void) {
    this.ip = ip;
    this.port = port;
    this.onConnection = onConnection;
  }

  /** Stop accepting; established connections are not affected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unbind?.();
  }

  /**
   * @internal Adopt a connection that has just answered a SYN: it is half-open here until
   * accept() (its handshake completed) or until it closes (TcpConnection tells us both).
   */
  adopt(conn: TcpConnection): void {
    this.halfOpen++;
    conn.listener = this;
  }

  /** @internal The handshake of an adopted connection completed. */
  accept(conn: TcpConnection): void {
    this.halfOpen--;
    this.accepted++;
    this.onConnection(conn);
  }
}
