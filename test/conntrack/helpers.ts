// Shared fixtures for the conntrack tests: addresses, a DNAT'd flow, and a TCP peer pair that
// keeps sequence numbers honest so the window checks see real traffic.

import { ipToU32 } from '../../src/packet/addr.ts';
import { TcpFlags } from '../../src/packet/tcp.ts';
import { Conntrack } from '../../src/conntrack/conntrack.ts';
import type { ConntrackConfig } from '../../src/conntrack/conntrack.ts';
import { IPPROTO_TCP } from '../../src/conntrack/constants.ts';

export const ip = ipToU32;
export const CLIENT = ip('10.244.1.5');
export const VIP = ip('10.96.0.100');
export const BACKEND = ip('10.244.2.7');
export const NODE = ip('10.0.100.11');
export const S = 1000; // ms per second

export const { SYN, ACK, FIN, RST, PSH } = TcpFlags;

/** A TCP flow client:cport -> VIP:80 DNAT'd to BACKEND:8080, driven packet by packet. */
export class TcpFlow {
  ref = -1;
  cseq = 1000; // client's next sequence number
  sseq = 50000; // server's next sequence number
  constructor(
    readonly ct: Conntrack,
    readonly cport = 43210,
    readonly dst = VIP,
    readonly backend = BACKEND,
  ) {}

  /** Insert the entry and run the client's SYN through it. */
  open(now: number, wscale = -1) {
    const { ct } = this;
    if (!ct.newAllowed(IPPROTO_TCP, SYN, 0)) throw new Error('SYN refused');
    const e = ct.insert(
      IPPROTO_TCP,
      CLIENT,
      this.dst,
      this.cport,
      80,
      this.backend,
      CLIENT,
      8080,
      this.cport,
      now,
    );
    if (e < 0) return e;
    this.ref = e * 2;
    const v = ct.tcpPacket(this.ref, now, 60, SYN, this.cseq, 0, 64240, 0, wscale);
    this.cseq++;
    return v;
  }

  /** A segment from the client (dir ORIGINAL). */
  c(now: number, flags: number, len = 0, win = 502) {
    const v = this.ct.tcpPacket(
      this.ref & ~1,
      now,
      40 + len,
      flags,
      this.cseq,
      this.sseq,
      win,
      len,
    );
    this.cseq += len + (flags & (SYN | FIN) ? 1 : 0);
    return v;
  }

  /** A segment from the server (dir REPLY). */
  s(now: number, flags: number, len = 0, win = 509) {
    const v = this.ct.tcpPacket(this.ref | 1, now, 40 + len, flags, this.sseq, this.cseq, win, len);
    this.sseq += len + (flags & (SYN | FIN) ? 1 : 0);
    return v;
  }

  get e() {
    return this.ref >> 1;
  }
  state() {
    return this.ct.table.l4state[this.e];
  }
  /** Seconds left on the entry at `now`. */
  left(now: number) {
    return (this.ct.table.expires[this.e]! - now) / S;
  }
  status() {
    return this.ct.table.status[this.e]!;
  }
}

export function newCt(cfg: ConntrackConfig = {}) {
  return new Conntrack({ max: 1024, ...cfg });
}
