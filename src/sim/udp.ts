// UDP sockets of a simulated host (RFC 768): bind, send, receive, ICMP errors.
import { buildUdp, u32ToIp } from '../packet/index.ts';
import type { Addr } from '../packet/index.ts';
import type { SocketError } from './tcp/errors.ts';

export interface UdpRemoteInfo {
  /** Sender address, dotted. */
  address: string;
  ip: number;
  port: number;
  /** Payload bytes. */
  size: number;
  /** The local address the datagram was sent to. */
  localAddress: string;
}

export interface UdpStats {
  datagramsSent: number;
  datagramsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  errors: number;
}

/** What a socket needs from its host. */
export interface UdpHostContext {
  sendPacket(pkt: Uint8Array): void;
  /** Source address for a destination (the host's primary address, or loopback). */
  sourceFor(dst: number): number;
  toU32(a: Addr): number;
  udpUnbind(sock: UdpSocket): void;
}

export class UdpSocket {
  /** Bound address; 0 = any. */
  readonly localIp: number;
  readonly localPort: number;
  onMessage: ((bytes: Uint8Array, rinfo: UdpRemoteInfo) => void) | undefined;
  /** An ICMP error about a datagram we sent (port unreachable → ECONNREFUSED). */
  onError: ((err: SocketError, remote: { address: string; port: number }) => void) | undefined;
  readonly stats: UdpStats = {
    datagramsSent: 0,
    datagramsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    errors: 0,
  };
  closed = false;
  private readonly ctx: UdpHostContext;

  constructor(ctx: UdpHostContext, localIp: number, localPort: number) {
    this.ctx = ctx;
    this.localIp = localIp;
    this.localPort = localPort;
  }

  get localAddress(): string {
    return u32ToIp(this.localIp);
  }

  /** Send one datagram. Linux sets DF and, on an unconnected socket, IP ID 0. */
  send(dstIp: Addr, dstPort: number, bytes: Uint8Array): void {
    if (this.closed) return;
    const dst = this.ctx.toU32(dstIp);
    const src = this.localIp !== 0 ? this.localIp : this.ctx.sourceFor(dst);
    this.stats.datagramsSent++;
    this.stats.bytesSent += bytes.length;
    this.ctx.sendPacket(
      buildUdp({ src, dst, sport: this.localPort, dport: dstPort, payload: bytes, df: true }),
    );
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ctx.udpUnbind(this);
  }

  /** @internal A datagram for this socket. */
  deliver(payload: Uint8Array, src: number, sport: number, dst: number): void {
    this.stats.datagramsReceived++;
    this.stats.bytesReceived += payload.length;
    this.onMessage?.(payload, {
      address: u32ToIp(src),
      ip: src,
      port: sport,
      size: payload.length,
      localAddress: u32ToIp(dst),
    });
  }

  /** @internal An ICMP error quoting a datagram this socket sent to dst:dport. */
  deliverError(err: SocketError, dst: number, dport: number): void {
    this.stats.errors++;
    this.onError?.(err, { address: u32ToIp(dst), port: dport });
  }
}
