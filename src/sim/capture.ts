// A capture of every link in the simulation as one pcap that keeps the links apart:
// LINKTYPE_LINUX_SLL2 records carry an interface index and a direction, as
// `tcpdump -i any` writes them, so Wireshark can filter by `sll.ifindex` and
// `sll.pkttype`. The index → link-name table is kept for the report.
import { PcapWriter } from '../packet/pcap.ts';
import type { CaptureEvent } from './network.ts';

export const LINKTYPE_LINUX_SLL2 = 276;
const SLL2_HEADER_LEN = 20;
const ETH_P_IP = 0x0800;
/** ARPHRD_NONE, what a TUN or a raw-IP link reports. */
const ARPHRD_NONE = 0xfffe;
const PACKET_HOST = 0;
const PACKET_OUTGOING = 4;

export interface LinkSink {
  write(tsNs: bigint, packet: Uint8Array): void;
}

export class LinkCapture {
  /** Link name (capture point without its :in/:out) → interface index (from 1). */
  readonly interfaces = new Map<string, number>();

  constructor(
    private readonly sink: LinkSink,
    private readonly epochNs: bigint,
  ) {}

  /** Record one capture event. */
  add(e: CaptureEvent): void {
    const m = /^(.*):(in|out)$/.exec(e.point);
    const link = m?.[1] ?? e.point;
    let index = this.interfaces.get(link);
    if (index === undefined) {
      index = this.interfaces.size + 1;
      this.interfaces.set(link, index);
    }
    const rec = new Uint8Array(SLL2_HEADER_LEN + e.packet.length);
    const v = new DataView(rec.buffer);
    v.setUint16(0, ETH_P_IP);
    v.setUint32(4, index);
    v.setUint16(8, ARPHRD_NONE);
    rec[10] = m?.[2] === 'out' ? PACKET_OUTGOING : PACKET_HOST;
    rec[11] = 0; // no link-layer address
    rec.set(e.packet, SLL2_HEADER_LEN);
    this.sink.write(this.epochNs + BigInt(e.tsNs), rec);
  }

  /** `1 k8s-node01:eth0` lines for the report. */
  table(): string {
    return [...this.interfaces].map(([name, i]) => `${i} ${name}`).join('\n');
  }
}

/** An in-memory SLL2 pcap writer (for tests and small captures). */
export function sll2Writer(): PcapWriter {
  return new PcapWriter({ resolution: 'ns', linkType: LINKTYPE_LINUX_SLL2 });
}
