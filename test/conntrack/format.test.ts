import test from 'ava';
import { IPPROTO_ICMP, IPPROTO_UDP, TABLE_FULL_REASON } from '../../src/conntrack/constants.ts';
import {
  formatCount,
  formatEntry,
  formatList,
  formatStats,
  summaryLine,
} from '../../src/conntrack/format.ts';
import { icmpKey } from '../../src/conntrack/icmp.ts';
import { ACK, CLIENT, PSH, S, SYN, TcpFlow, ip, newCt } from './helpers.ts';

const DNS = ip('10.96.0.10');
const COREDNS = ip('10.244.0.3');
const PEER = ip('8.8.8.8');

/** A table holding the three flows of the brief: TCP to a Service, a DNS query, a ping. */
function sample() {
  const ct = newCt();
  const f = new TcpFlow(ct, 43210);
  // Backend port 80 this time, as in the example line.
  const e = ct.insert(
    6,
    CLIENT,
    ip('10.96.0.100'),
    43210,
    80,
    ip('10.244.2.7'),
    CLIENT,
    80,
    43210,
    0,
  );
  f.ref = e * 2;
  ct.tcpPacket(f.ref, 0, 60, SYN, f.cseq++, 0, 64240, 0);
  f.s(0, SYN | ACK);
  f.c(0, ACK);
  f.c(0, PSH | ACK, 100);
  f.s(0, ACK);
  const u = ct.insert(IPPROTO_UDP, CLIENT, DNS, 5353, 53, COREDNS, CLIENT, 53, 5353, 0);
  ct.udpPacket(u * 2, 0, 73);
  const i = ct.insert(
    IPPROTO_ICMP,
    CLIENT,
    PEER,
    1234,
    icmpKey(8, 0),
    PEER,
    CLIENT,
    1234,
    icmpKey(0, 0),
    0,
  );
  ct.icmpPacket(i * 2, 0, 84);
  ct.icmpPacket(i * 2 + 1, 0, 84);
  return ct;
}

const TCP_LINE =
  'tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.100 sport=43210 dport=80 ' +
  'src=10.244.2.7 dst=10.244.1.5 sport=80 dport=43210 [ASSURED] mark=0 use=1';
const UDP_LINE =
  'udp      17 29 src=10.244.1.5 dst=10.96.0.10 sport=5353 dport=53 [UNREPLIED] ' +
  'src=10.244.0.3 dst=10.244.1.5 sport=53 dport=5353 mark=0 use=1';
const ICMP_LINE =
  'icmp     1 29 src=10.244.1.5 dst=8.8.8.8 type=8 code=0 id=1234 ' +
  'src=8.8.8.8 dst=10.244.1.5 type=0 code=0 id=1234 mark=0 use=1';

test('conntrack -L lines match conntrack-tools byte for byte', (t) => {
  const ct = sample();
  const lines = ct.list(0.5 * S).map((e) => formatEntry(e));
  t.deepEqual([...lines].sort(), [ICMP_LINE, TCP_LINE, UDP_LINE]);
});

test('formatList: entries on stdout, the summary on stderr', (t) => {
  const ct = sample();
  const out = formatList(ct.list(0.5 * S, { proto: IPPROTO_UDP }));
  t.is(out.stdout, `${UDP_LINE}\n`);
  t.is(out.stderr, 'conntrack v1.4.7 (conntrack-tools): 1 flow entries have been shown.\n');
  t.is(formatList([]).stdout, '');
  t.is(
    summaryLine(3, 'deleted'),
    'conntrack v1.4.7 (conntrack-tools): 3 flow entries have been deleted.\n',
  );
});

test('-o extended with accounting adds the l3 prefix and per-direction counters', (t) => {
  const ct = sample();
  const [tcp] = ct.list(0.5 * S, { proto: 6 });
  t.is(
    formatEntry(tcp!, { extended: true, counters: true }),
    'ipv4     2 tcp      6 431999 ESTABLISHED src=10.244.1.5 dst=10.96.0.100 sport=43210 ' +
      'dport=80 packets=3 bytes=240 src=10.244.2.7 dst=10.244.1.5 sport=80 dport=43210 ' +
      'packets=2 bytes=80 [ASSURED] mark=0 use=1',
  );
});

test('marks and unknown protocols', (t) => {
  const ct = newCt();
  const e = ct.insert(
    IPPROTO_UDP,
    CLIENT,
    DNS,
    1,
    53,
    DNS,
    ip('10.0.100.11'),
    53,
    40000,
    0,
    0x4000,
  );
  ct.udpPacket(e * 2, 0, 60);
  const [snap] = ct.list(0);
  t.is(
    formatEntry(snap!),
    'udp      17 30 src=10.244.1.5 dst=10.96.0.10 sport=1 dport=53 [UNREPLIED] ' +
      'src=10.96.0.10 dst=10.0.100.11 sport=53 dport=40000 mark=16384 use=1',
  );
  t.is(
    formatEntry({ ...snap!, proto: 99 }),
    'unknown  99 30 src=10.244.1.5 dst=10.96.0.10 [UNREPLIED] src=10.96.0.10 dst=10.0.100.11 ' +
      'mark=16384 use=1',
  );
});

test('-C and -S', (t) => {
  const ct = sample();
  t.is(formatCount(ct.count), '3\n');
  ct.lookup(6, CLIENT, PEER, 1, 2, 0);
  t.is(
    formatStats(ct.stats),
    'cpu=0   \tfound=0 invalid=0 insert=3 insert_failed=0 drop=0 early_drop=0 error=0 ' +
      'search_restart=0 clash_resolve=0 chaintoolong=0 \n',
  );
  t.is(TABLE_FULL_REASON, 'nf_conntrack: table full, dropping packet');
});
