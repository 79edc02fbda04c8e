// Hand-built IPv4 packets and a pcap file builder that does not use the code
// under test. Packets were assembled field by field (checksums computed with a
// Python one-off, verified by tshark with checksum validation on).

export const hex = (s: string): Uint8Array =>
  Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

export interface Fixture {
  name: string;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  srcPort: number;
  bytes: Uint8Array;
}

export const FIXTURES: readonly Fixture[] = [
  {
    // 10.244.1.5:40000 -> 10.96.0.1:443 TCP SYN, seq 0x01020304, DF, TTL 64.
    name: 'tcp-syn',
    src: '10.244.1.5',
    dst: '10.96.0.1',
    proto: 'tcp',
    srcPort: 40000,
    bytes: hex(`45000028 12344000 40061243 0af40105 0a600001
                9c4001bb 01020304 00000000 5002faf0 fc960000`),
  },
  {
    // 10.244.2.7:53000 -> 10.96.0.10:53 UDP, DNS A query kubelet.default.svc.cluster.local.
    name: 'udp-dns',
    src: '10.244.2.7',
    dst: '10.96.0.10',
    proto: 'udp',
    srcPort: 53000,
    bytes: hex(`4500004f 23454000 4011fff4 0af40207 0a60000a
                cf080035 003b4ad3
                abcd0100 00010000 00000000 076b7562 656c6574 07646566 61756c74
                03737663 07636c75 73746572 056c6f63 616c0000 010001`),
  },
  {
    // 10.96.0.1:443 -> 10.244.1.5:40000 TCP PSH|ACK carrying "hello svclab\n".
    name: 'tcp-data',
    src: '10.96.0.1',
    dst: '10.244.1.5',
    proto: 'tcp',
    srcPort: 443,
    bytes: hex(`45000035 34564000 4006f013 0a600001 0af40105
                01bb9c40 0a0b0c0d 00000000 5018faf0 642a0000
                68656c6c 6f207376 636c6162 0a`),
  },
];

export interface HandRecord {
  sec: number;
  frac: number;
  data: Uint8Array;
  origLen?: number;
}

/** Build a pcap file byte by byte with an explicit byte order. */
export function buildPcap(opts: {
  littleEndian: boolean;
  magic: number;
  linkType: number;
  snaplen?: number;
  records: readonly HandRecord[];
}): Uint8Array {
  const size = 24 + opts.records.reduce((n, r) => n + 16 + r.data.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const le = opts.littleEndian;
  v.setUint32(0, opts.magic, le);
  v.setUint16(4, 2, le);
  v.setUint16(6, 4, le);
  v.setUint32(16, opts.snaplen ?? 65535, le);
  v.setUint32(20, opts.linkType, le);
  let off = 24;
  for (const r of opts.records) {
    v.setUint32(off, r.sec, le);
    v.setUint32(off + 4, r.frac, le);
    v.setUint32(off + 8, r.data.length, le);
    v.setUint32(off + 12, r.origLen ?? r.data.length, le);
    out.set(r.data, off + 16);
    off += 16 + r.data.length;
  }
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
