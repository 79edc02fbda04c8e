// ICMP errors RELATED to a tracked flow (nf_nat_icmp_reply_translation): the outer header
// gets the flow's NAT for the direction the error travels, and the quoted header is
// restored to what that packet looked like on the error's side of the NAT, so a client
// that sent to a ClusterIP sees an error about the ClusterIP, not about the pod.
import { IPPROTO_ICMP } from '../conntrack/constants.ts';
import { icmpKey } from '../conntrack/icmp.ts';
import { KEEP, natRewriteDst, natRewriteIcmpInner, natRewriteSrc } from '../packet/nat.ts';
import type { PacketInfo } from '../packet/parse.ts';
import type { NodeDataplane } from './node.ts';

const u32 = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Find and NAT the flow an ICMP error is about; false when it relates to no flow. */
export function natRelatedIcmp(
  dp: NodeDataplane,
  b: Uint8Array,
  info: PacketInfo,
  now: number,
): boolean {
  const q = info.innerOffset;
  const qhl = (b[q]! & 0x0f) << 2;
  const qproto = b[q + 9]!;
  const qsrc = u32(b, q + 12);
  const qdst = u32(b, q + 16);
  const l4 = q + qhl;
  const end = info.l4Offset + info.l4Length;
  if (l4 + 8 > end) return false;
  let qsport = (b[l4]! << 8) | b[l4 + 1]!;
  let qdport = (b[l4 + 2]! << 8) | b[l4 + 3]!;
  if (qproto === IPPROTO_ICMP) {
    qsport = (b[l4 + 4]! << 8) | b[l4 + 5]!; // the echo id
    qdport = icmpKey(b[l4]!, b[l4 + 1]!);
  }
  const t = dp.ct.table;
  const ref = dp.ct.related(qproto, qsrc, qdst, qsport, qdport, info.dst, now);
  if (ref < 0) return false;
  const other = ref ^ 1;
  const outerSrc = t.natSrc(ref);
  const outerDst = t.natDst(ref);
  if (outerDst !== info.dst) natRewriteDst(b, 0, outerDst, KEEP);
  if (outerSrc !== info.src) natRewriteSrc(b, 0, outerSrc, KEEP);
  const len = end;
  const hasPorts = qproto !== IPPROTO_ICMP;
  const wantSrc = t.tupleSrc(other);
  const wantDst = t.tupleDst(other);
  const ports = t.tuplePorts(other);
  if (wantSrc !== qsrc || (hasPorts && ports >>> 16 !== qsport)) {
    natRewriteIcmpInner(b, 0, len, 'src', wantSrc, hasPorts ? ports >>> 16 : KEEP);
  }
  if (wantDst !== qdst || (hasPorts && (ports & 0xffff) !== qdport)) {
    natRewriteIcmpInner(b, 0, len, 'dst', wantDst, hasPorts ? ports & 0xffff : KEEP);
  }
  dp.counters.natRewrites++;
  return true;
}
