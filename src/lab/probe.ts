// `svclab probe`: one crafted packet sent from a raw socket (the raw-socket package) in
// the current network namespace, and what came back — a SYN-ACK or RST for TCP, a
// reply for UDP or ICMP echo, an ICMP error quoting our packet, or nothing in time.
// Like hping3 -c 1: the kernel of the sending namespace knows nothing of our SYN, so it
// answers a SYN-ACK with a RST, which also closes the flow in the dataplane's conntrack.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { ipToU32, u32ToIp } from '../packet/addr.ts';
import { buildIcmpEcho, buildTcp, buildUdp } from '../packet/build.ts';
import { IcmpType } from '../packet/icmp.ts';
import { parsePacket } from '../packet/parse.ts';
import { TcpFlags } from '../packet/tcp.ts';
import { SeededRng } from '../proxy/random.ts';

export type ProbeProto = 'tcp' | 'udp' | 'icmp';

export interface ProbeRequest {
  proto: ProbeProto;
  dst: string;
  /** Destination port (tcp, udp). */
  port?: number;
  /** Source address; default: what the kernel's route to dst would use. */
  src?: string;
  sport?: number;
  timeoutMs: number;
  /** UDP payload. */
  payload?: string;
}

export type ProbeOutcome =
  | 'syn-ack'
  | 'rst'
  | 'udp-reply'
  | 'echo-reply'
  | 'icmp-unreachable'
  | 'icmp-time-exceeded'
  | 'icmp-error'
  | 'timeout';

export interface ProbeResult {
  proto: ProbeProto;
  src: string;
  sport: number;
  dst: string;
  dport: number;
  outcome: ProbeOutcome;
  /** Source address (and port) of what came back. */
  from?: string;
  fromPort?: number;
  /** ICMP type/code of an error or reply. */
  icmpType?: number;
  icmpCode?: number;
  rttMs?: number;
}

interface RawSocket {
  on(ev: 'message', cb: (buf: Buffer, source: string) => void): void;
  on(ev: 'error', cb: (err: Error) => void): void;
  setOption(level: number, option: number, value: number): void;
  send(
    buf: Buffer,
    offset: number,
    length: number,
    address: string,
    cb: (err: Error | null, bytes: number) => void,
  ): void;
  close(): void;
}

interface RawSocketModule {
  createSocket(opts: { protocol: number }): RawSocket;
  SocketLevel: { IPPROTO_IP: number };
  SocketOption: { IP_HDRINCL: number };
}

/** The raw-socket addon, or why it is not there (it is an optional dependency). */
export function loadRawSocket(): RawSocketModule | string {
  try {
    return createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  } catch (e) {
    return `the raw-socket package is not built (${(e as Error).message.split('\n')[0]}); run npm rebuild raw-socket`;
  }
}

/** The address the kernel would send from toward `dst` (a connected UDP socket sends nothing). */
export function sourceFor(dst: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.on('error', reject);
    s.connect(9, dst, () => {
      const a = s.address().address;
      s.close();
      resolve(a);
    });
  });
}

const PROTO = { tcp: 6, udp: 17, icmp: 1 } as const;

// svclab's one generator, seeded from the wall clock: a probe is a real packet, so two runs
// must not reuse a source port and ISN while the last one's conntrack entry lingers.
const rng = new SeededRng(Date.now());

function build(req: ProbeRequest, src: string, sport: number): Uint8Array {
  const ip = { src, dst: req.dst, ttl: 64, id: sport & 0xffff };
  switch (req.proto) {
    case 'tcp':
      return buildTcp({
        ...ip,
        sport,
        dport: req.port ?? 80,
        seq: rng.nextU32(),
        flags: TcpFlags.SYN,
      });
    case 'udp':
      return buildUdp({
        ...ip,
        sport,
        dport: req.port ?? 53,
        payload: new TextEncoder().encode(req.payload ?? 'svclab probe\n'),
      });
    case 'icmp':
      return buildIcmpEcho({ ...ip, echoId: sport, seq: 1 });
  }
}

/** Does `pkt` answer our probe? Returns the result fields, or undefined. */
export function match(
  req: ProbeRequest,
  src: string,
  sport: number,
  pkt: Uint8Array,
): Partial<ProbeResult> | undefined {
  const p = parsePacket(pkt);
  if (p.reason !== 0) return undefined;
  const us = ipToU32(src);
  const dst = ipToU32(req.dst);
  const dport = req.port ?? 0;
  if (p.dst !== us) return undefined;
  if (p.proto === PROTO.icmp && p.innerOffset >= 0) {
    // An ICMP error quoting our packet: the inner header is ours (src = us, our port or id).
    const inner = parsePacket(pkt.subarray(p.innerOffset));
    const innerId = req.proto === 'icmp' ? inner.icmpId : inner.sport;
    if (inner.src !== us || innerId !== sport) return undefined;
    const outcome: ProbeOutcome =
      p.icmpType === IcmpType.DEST_UNREACHABLE
        ? 'icmp-unreachable'
        : p.icmpType === IcmpType.TIME_EXCEEDED
          ? 'icmp-time-exceeded'
          : 'icmp-error';
    return { outcome, from: u32ToIp(p.src), icmpType: p.icmpType, icmpCode: p.icmpCode };
  }
  if (p.src !== dst || p.proto !== PROTO[req.proto]) return undefined;
  if (req.proto === 'icmp') {
    if (p.icmpType !== IcmpType.ECHO_REPLY || p.icmpId !== sport) return undefined;
    return { outcome: 'echo-reply', from: u32ToIp(p.src), icmpType: 0, icmpCode: p.icmpCode };
  }
  if (p.sport !== dport || p.dport !== sport) return undefined;
  if (req.proto === 'udp') return { outcome: 'udp-reply', from: u32ToIp(p.src), fromPort: p.sport };
  if (p.tcpFlags & TcpFlags.RST) return { outcome: 'rst', from: u32ToIp(p.src), fromPort: p.sport };
  if ((p.tcpFlags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK))
    return { outcome: 'syn-ack', from: u32ToIp(p.src), fromPort: p.sport };
  return undefined;
}

/** Send the probe from this namespace and wait for the answer or the timeout. */
export async function sendProbe(req: ProbeRequest): Promise<ProbeResult> {
  const raw = loadRawSocket();
  if (typeof raw === 'string') throw new Error(raw);
  const src = req.src ?? (await sourceFor(req.dst));
  const sport = req.sport ?? 32768 + rng.int(28000);
  const base: ProbeResult = {
    proto: req.proto,
    src,
    sport,
    dst: req.dst,
    dport: req.port ?? 0,
    outcome: 'timeout',
  };
  const sockets = [raw.createSocket({ protocol: PROTO[req.proto] })];
  if (req.proto !== 'icmp') sockets.push(raw.createSocket({ protocol: PROTO.icmp }));
  const sender = sockets[0]!;
  sender.setOption(raw.SocketLevel.IPPROTO_IP, raw.SocketOption.IP_HDRINCL, 1);
  const packet = Buffer.from(build(req, src, sport));
  try {
    return await new Promise<ProbeResult>((resolve, reject) => {
      const t0 = process.hrtime.bigint();
      const timer = setTimeout(() => resolve(base), req.timeoutMs);
      for (const s of sockets) {
        s.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
        s.on('message', (buf) => {
          const m = match(req, src, sport, new Uint8Array(buf));
          if (m === undefined) return;
          clearTimeout(timer);
          const rttMs = Number(process.hrtime.bigint() - t0) / 1e6;
          resolve({ ...base, ...m, rttMs });
        });
      }
      sender.send(packet, 0, packet.length, req.dst, (err) => {
        if (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
    });
  } finally {
    for (const s of sockets) s.close();
  }
}

/** One line a person reads, like hping3's. */
export function formatProbe(r: ProbeResult): string {
  const to = r.proto === 'icmp' ? r.dst : `${r.dst}:${r.dport}`;
  const head = `${r.proto} ${r.src}:${r.sport} -> ${to}: `;
  const rtt = r.rttMs === undefined ? '' : ` rtt=${r.rttMs.toFixed(3)} ms`;
  const from = r.from === undefined ? '' : r.fromPort ? `${r.from}:${r.fromPort}` : r.from;
  switch (r.outcome) {
    case 'syn-ack':
      return `${head}SYN-ACK from ${from}${rtt}`;
    case 'rst':
      return `${head}RST from ${from} (connection refused)${rtt}`;
    case 'udp-reply':
      return `${head}UDP reply from ${from}${rtt}`;
    case 'echo-reply':
      return `${head}echo reply from ${from}${rtt}`;
    case 'icmp-unreachable':
      return `${head}ICMP destination unreachable (code ${r.icmpCode}${r.icmpCode === 3 ? ', port unreachable' : ''}) from ${from}${rtt}`;
    case 'icmp-time-exceeded':
      return `${head}ICMP time exceeded from ${from}${rtt}`;
    case 'icmp-error':
      return `${head}ICMP type ${r.icmpType} code ${r.icmpCode} from ${from}${rtt}`;
    case 'timeout':
      return `${head}no answer`;
  }
}
