// One DNS question over UDP from a simulated host: send, wait, retry on timeout or
// ICMP error, match the reply by id. Shared by the pod resolver and the dig client.
import dnsPacket from 'dns-packet';
import type { DecodedPacket } from 'dns-packet';
import type { TimerHandle } from '../../control/clock.ts';
import type { Addr } from '../../packet/index.ts';
import type { SimHost } from '../host.ts';
import type { UdpSocket } from '../udp.ts';

export interface DnsExchangeOptions {
  server: Addr;
  port?: number;
  /** Per try, ns. */
  timeoutNs: number;
  tries: number;
  /** Send from this UDP port (dig -b ADDR#PORT); default: a random port per try. */
  sourcePort?: number;
}

export interface DnsReply {
  bytes: Uint8Array;
  packet: DecodedPacket;
  /** From sending the try that was answered to the answer, ns. */
  rttNs: number;
}

/** Why a try failed, in dig's words ("timed out", "connection refused"...). */
export type TryFailure = string;

export function dnsExchange(
  host: SimHost,
  query: Uint8Array,
  opts: DnsExchangeOptions,
  done: (reply: DnsReply | undefined, failures: TryFailure[]) => void,
  onTryFailed?: (why: TryFailure) => void,
): void {
  const id = (query[0]! << 8) | query[1]!;
  const failures: TryFailure[] = [];
  let sock: UdpSocket | undefined;
  let timer: TimerHandle | undefined;
  let finished = false;
  const finish = (reply: DnsReply | undefined) => {
    host.clock.cancel(timer);
    sock?.close();
    if (finished) return;
    finished = true;
    done(reply, failures);
  };
  const fail = (why: TryFailure, attempt: number) => {
    host.clock.cancel(timer);
    sock?.close();
    failures.push(why);
    onTryFailed?.(why);
    if (attempt + 1 < opts.tries) send(attempt + 1);
    else finish(undefined);
  };
  const send = (attempt: number) => {
    let s: UdpSocket;
    try {
      s = host.udpBind(opts.sourcePort);
    } catch (err) {
      failures.push((err as Error).message);
      return finish(undefined);
    }
    sock = s;
    const sentAt = host.clock.now();
    s.onMessage = (bytes, rinfo) => {
      if (bytes.length < 2 || ((bytes[0]! << 8) | bytes[1]!) !== id) return;
      if (rinfo.port !== (opts.port ?? 53)) return;
      let packet: DecodedPacket;
      try {
        packet = dnsPacket.decode(Buffer.from(bytes));
      } catch {
        return fail('malformed reply', attempt);
      }
      finish({ bytes, packet, rttNs: host.clock.now() - sentAt });
    };
    s.onError = (err) => fail(err.message.toLowerCase(), attempt);
    timer = host.clock.after(opts.timeoutNs, () => fail('timed out', attempt));
    s.send(opts.server, opts.port ?? 53, query);
  };
  send(0);
}
