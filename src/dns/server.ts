// The kube-dns server's wire side: decode a query (dns-packet), resolve it against the
// cluster index, encode the response the way CoreDNS does (QR AA, RD echoed, no RA,
// EDNS echoed, TC when a UDP answer exceeds the client's buffer).
import dnsPacket from 'dns-packet';
import type { Packet } from 'dns-packet';
import type { DnsIndex } from './index.ts';
import { type ResolveOptions, resolve } from './resolve.ts';

const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const RCODES = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 };

export interface DnsServerStats {
  queries: number;
  /** Datagrams too broken to answer (no readable header): dropped. */
  malformed: number;
  byRcode: Record<string, number>;
}

export function newDnsServerStats(): DnsServerStats {
  return { queries: 0, malformed: 0, byRcode: {} };
}

export interface DnsServerOptions extends ResolveOptions {
  transport: 'udp' | 'tcp';
}

function reply(query: Packet, rcode: keyof typeof RCODES, aa: boolean): Packet {
  const rd = (query.flags ?? 0) & FLAG_RD;
  return {
    type: 'response',
    id: query.id ?? 0,
    flags: rd | (aa ? FLAG_AA : 0) | RCODES[rcode],
    questions: query.questions ?? [],
    answers: [],
    authorities: [],
    additionals: [],
  };
}

/**
 * Answers one DNS message. Returns the response bytes, or undefined when the message
 * cannot be answered at all (counted in stats.malformed).
 */
export function answerQuery(
  index: DnsIndex,
  message: Uint8Array,
  o: DnsServerOptions,
  stats: DnsServerStats = newDnsServerStats(),
): Uint8Array | undefined {
  let query: Packet;
  try {
    query = dnsPacket.decode(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
  } catch {
    // Header readable: FORMERR with the same id, as a DNS server does; otherwise drop.
    if (message.byteLength < 12) {
      stats.malformed++;
      return undefined;
    }
    const id = (message[0]! << 8) | message[1]!;
    stats.queries++;
    stats.byRcode.FORMERR = (stats.byRcode.FORMERR ?? 0) + 1;
    return dnsPacket.encode(reply({ id, flags: 0, questions: [] }, 'FORMERR', false));
  }
  if (query.type === 'response') {
    stats.malformed++;
    return undefined;
  }
  stats.queries++;
  const q = query.questions?.[0];
  const opt = query.additionals?.find((r) => r.type === 'OPT');
  let out: Packet;
  if (q === undefined || (query.questions?.length ?? 0) !== 1) {
    out = reply(query, 'FORMERR', false);
  } else {
    const r = resolve(index, q.name, q.type, o);
    out = reply(query, r.rcode, r.authoritative);
    out.answers = r.answers;
    out.authorities = r.authorities;
    out.additionals = r.additionals;
  }
  // EDNS0 (RFC 6891): echo an OPT record with the client's advertised buffer size.
  const udpSize = opt !== undefined && 'udpPayloadSize' in opt ? (opt.udpPayloadSize ?? 512) : 512;
  if (opt !== undefined) {
    out.additionals = [
      ...(out.additionals ?? []),
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: Math.max(512, udpSize),
        extendedRcode: 0,
        ednsVersion: 0,
        flags: 0,
        flag_do: false,
        options: [],
      },
    ];
  }
  const rcodeName = Object.entries(RCODES).find(([, v]) => v === ((out.flags ?? 0) & 0xf))?.[0];
  stats.byRcode[rcodeName ?? '?'] = (stats.byRcode[rcodeName ?? '?'] ?? 0) + 1;
  let bytes = dnsPacket.encode(out);
  if (o.transport === 'udp' && bytes.byteLength > Math.max(512, udpSize)) {
    // Too big for UDP: answer with TC set and no records so the client retries over TCP.
    out.flags = (out.flags ?? 0) | FLAG_TC;
    out.answers = [];
    out.authorities = [];
    out.additionals = (out.additionals ?? []).filter((r) => r.type === 'OPT');
    bytes = dnsPacket.encode(out);
  }
  return bytes;
}
