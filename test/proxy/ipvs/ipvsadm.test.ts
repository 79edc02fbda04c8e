// ipvsadm's layouts (ipvsadm 1.31 print functions): -Ln, --stats with K/M suffixes, --rate
// from the 2-second estimator, -Lnc, -Sn, --timeout, and the sort order of libipvs.
import test from 'ava';
import { ipToU32 } from '../../../src/packet/addr.ts';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  SCHED_MH_PORT,
  SvcFlag,
  TCP_ACK,
  TCP_FIN,
  TCP_SYN,
} from '../../../src/proxy/ipvs/constants.ts';
import { Ipvs } from '../../../src/proxy/ipvs/ipvs.ts';
import {
  glibcMergeSort,
  ipvsadmConnections,
  ipvsadmList,
  ipvsadmSave,
  ipvsadmTimeout,
  largenum,
} from '../../../src/proxy/ipvs/ipvsadm.ts';

function kubernetes(): Ipvs {
  const ipvs = new Ipvs();
  const svc = ipvs.services.add({
    protocol: IPPROTO_TCP,
    addr: ipToU32('10.96.0.1'),
    port: 443,
    scheduler: 'rr',
  });
  svc.addDest({ addr: ipToU32('10.0.100.10'), port: 6443, weight: 1 });
  return ipvs;
}

test('the issue example: default/kubernetes 10.96.0.1:443 rr -> 10.0.100.10:6443 Masq 1 0 0', (t) => {
  const out = ipvsadmList(kubernetes().services);
  // Exact bytes: like printf("%-10u"), the InActConn column keeps its trailing padding.
  t.is(
    out,
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port Scheduler Flags\n' +
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n' +
      'TCP  10.96.0.1:443 rr\n' +
      '  -> 10.0.100.10:6443             Masq    1      0          0         \n',
  );
  const trimmed = out
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
  t.true(trimmed.includes('  -> 10.0.100.10:6443             Masq    1      0          0\n'));
});

test('services sort by protocol, address, port; servers by address, port; flags printed', (t) => {
  const ipvs = new Ipvs();
  const add = (proto: number, ip: string, port: number, scheduler = 'rr', flags = 0, timeout = 0) =>
    ipvs.services.add({ protocol: proto, addr: ipToU32(ip), port, scheduler, flags, timeout });
  add(IPPROTO_UDP, '10.96.0.10', 53);
  const dns = add(IPPROTO_TCP, '10.96.0.10', 53);
  add(IPPROTO_TCP, '10.96.0.10', 9153, 'mh', SCHED_MH_PORT);
  add(IPPROTO_TCP, '10.96.0.1', 443, 'rr', SvcFlag.PERSISTENT, 10800);
  dns.addDest({ addr: ipToU32('10.244.0.3'), port: 53, weight: 1 });
  dns.addDest({ addr: ipToU32('10.244.0.2'), port: 53, weight: 1 });
  const lines = ipvsadmList(ipvs.services).split('\n');
  t.deepEqual(lines.slice(3), [
    'TCP  10.96.0.1:443 rr persistent 10800',
    'TCP  10.96.0.10:53 rr',
    '  -> 10.244.0.2:53                Masq    1      0          0         ',
    '  -> 10.244.0.3:53                Masq    1      0          0         ',
    'TCP  10.96.0.10:9153 mh (mh-port)',
    'UDP  10.96.0.10:53 rr',
    '',
  ]);
  // --nosort keeps the kernel's list order: newest server first.
  t.true(
    ipvsadmList(ipvs.services, { nosort: true }).includes('10.244.0.3:53                Masq'),
  );
});

test('libipvs compares addresses as an int difference: 192.168.x sorts before 10.x', (t) => {
  const ipvs = new Ipvs();
  ipvs.services.add({
    protocol: IPPROTO_TCP,
    addr: ipToU32('10.0.0.1'),
    port: 80,
    scheduler: 'rr',
  });
  ipvs.services.add({
    protocol: IPPROTO_TCP,
    addr: ipToU32('192.168.0.1'),
    port: 80,
    scheduler: 'rr',
  });
  const lines = ipvsadmList(ipvs.services).split('\n');
  t.deepEqual(lines.slice(3, 5), ['TCP  192.168.0.1:80 rr', 'TCP  10.0.0.1:80 rr']);
  t.deepEqual(
    glibcMergeSort([3, 1, 2, 1], (a, b) => a - b),
    [1, 1, 2, 3],
  );
});

test('print_largenum: exact below 100 million, then K, M, G, T', (t) => {
  t.is(largenum(99999999), ' 99999999');
  t.is(largenum(100000000), '  100000K');
  t.is(largenum(999999999), '  999999K');
  t.is(largenum(1000000000), '    1000M');
  t.is(largenum(99999999999), '   99999M');
  t.is(largenum(100000000000), '     100G');
  t.is(largenum(100000000000000), '     100T');
  t.is(largenum(123456789012, true), ' 123456789012');
  t.is(largenum(5, true), '        5');
});

test('--stats counts connections, packets and bytes per service and server', (t) => {
  const ipvs = kubernetes();
  const c = ipToU32('10.244.1.5');
  const vip = ipToU32('10.96.0.1');
  const id = ipvs.classify(IPPROTO_TCP, c, 40000, vip, 443, TCP_SYN, 60, 0);
  t.true(id >= 0);
  ipvs.packetOut(id, TCP_SYN | TCP_ACK, 60, 1);
  ipvs.packetIn(id, TCP_ACK, 52, 2);
  ipvs.services.find(IPPROTO_TCP, vip, 443)!.stats.inbytes += 300_000_000;
  t.is(
    ipvsadmList(ipvs.services, { stats: true }),
    'IP Virtual Server version 1.2.1 (size=4096)\n' +
      'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  10.96.0.1:443                       1        2        1  300000K       60\n' +
      '  -> 10.0.100.10:6443                    1        2        1      112       60\n',
  );
});

test('--rate follows the kernel estimator: 10 conn/s of 100 bytes converges to 10 CPS, 1000 InBPS', (t) => {
  const ipvs = kubernetes();
  const vip = ipToU32('10.96.0.1');
  ipvs.tickEstimators(0);
  let port = 1024;
  const cpsAt = new Map<number, string>();
  for (let ms = 100; ms <= 60_000; ms += 100) {
    ipvs.classify(IPPROTO_TCP, ipToU32('10.244.1.5'), port++, vip, 443, TCP_SYN, 100, ms);
    ipvs.tickEstimators(ms);
    if (ms % 10_000 === 0)
      cpsAt.set(ms, ipvsadmList(ipvs.services, { rate: true }).split('\n')[3]!);
  }
  // A quarter of the gap closes every 2 s: 10 s (5 periods) in, the estimate is still below.
  t.regex(cpsAt.get(10_000)!, /^TCP {2}10\.96\.0\.1:443 +[5-9] /);
  const out = ipvsadmList(ipvs.services, { rate: true });
  t.is(
    out.split('\n').slice(1, 5).join('\n'),
    'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n' +
      '  -> RemoteAddress:Port\n' +
      'TCP  10.96.0.1:443                      10       10        0     1000        0\n' +
      '  -> 10.0.100.10:6443                   10       10        0     1000        0',
  );
});

test('-Lnc lists connections and persistence templates as /proc/net/ip_vs_conn does', (t) => {
  const ipvs = new Ipvs();
  const vip = ipToU32('10.96.0.1');
  const svc = ipvs.services.add({
    protocol: IPPROTO_TCP,
    addr: vip,
    port: 443,
    scheduler: 'rr',
    flags: SvcFlag.PERSISTENT,
    timeout: 10800,
  });
  svc.addDest({ addr: ipToU32('10.0.100.10'), port: 6443, weight: 1 });
  const id = ipvs.classify(IPPROTO_TCP, ipToU32('10.244.1.5'), 51234, vip, 443, TCP_SYN, 60, 0);
  ipvs.packetOut(id, TCP_SYN | TCP_ACK, 60, 0);
  ipvs.packetIn(id, TCP_ACK, 52, 500);
  t.is(
    ipvsadmConnections(ipvs, 1000),
    'IPVS connection entries\n' +
      'pro expire state       source             virtual            destination\n' +
      'TCP 179:59 NONE        10.244.1.5:0       10.96.0.1:443      10.0.100.10:6443\n' +
      'TCP 14:59  ESTABLISHED 10.244.1.5:51234   10.96.0.1:443      10.0.100.10:6443\n',
  );
  ipvs.packetIn(id, TCP_FIN | TCP_ACK, 52, 2000);
  t.true(ipvsadmConnections(ipvs, 2000).includes('TCP 01:00  CLOSE_WAIT  10.244.1.5:51234'));
});

test('-Sn and --timeout', (t) => {
  const ipvs = kubernetes();
  t.is(
    ipvsadmSave(ipvs.services),
    '-A -t 10.96.0.1:443 -s rr\n-a -t 10.96.0.1:443 -r 10.0.100.10:6443 -m -w 1\n',
  );
  t.is(ipvsadmTimeout(ipvs), 'Timeout (tcp tcpfin udp): 900 120 300\n');
  ipvs.setTimeouts(7200, 0, 60);
  t.is(ipvsadmTimeout(ipvs), 'Timeout (tcp tcpfin udp): 7200 120 60\n');
});
