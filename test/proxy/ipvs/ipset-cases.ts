// Deterministic ipset operation sequences shared by the ipset test and the script that
// recorded the real `ipset list` output in fixtures/ipset-list.txt (ipset 7.17, Linux 6.18,
// created with the same initval so bucket order is comparable).
import type { IpsetType } from '../../../src/proxy/ipvs/ipset.ts';

export interface IpsetCase {
  readonly name: string;
  readonly type: IpsetType;
  readonly initval: number;
  readonly ops: readonly (readonly ['add' | 'del', string])[];
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function ipsetCases(): IpsetCase[] {
  const r = rng(7);
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const proto = () => ['tcp', 'udp', 'tcp', 'sctp'][int(0, 3)]!;
  const ipport = (n: number, b: string) => [
    ...new Set(
      Array.from(
        { length: n },
        () => `${b}.${int(0, 255)}.${int(1, 254)},${proto()}:${int(1, 65535)}`,
      ),
    ),
  ];
  const mix = ipport(60, '10.98');
  return [
    {
      name: 'A',
      type: 'hash:ip,port',
      initval: 0x12345678,
      ops: ipport(40, '10.96').map((e) => ['add', e]),
    },
    {
      name: 'B',
      type: 'hash:ip',
      initval: 0x9abcdef0,
      ops: [
        ...new Set(Array.from({ length: 30 }, () => `10.96.${int(0, 255)}.${int(1, 254)}`)),
      ].map((e) => ['add', e]),
    },
    {
      name: 'C',
      type: 'hash:ip,port,ip',
      initval: 0x0badf00d,
      ops: Array.from({ length: 12 }, () => [
        'add',
        `10.244.${int(0, 9)}.${int(1, 254)},tcp:${int(1, 9000)},10.244.${int(0, 9)}.${int(1, 254)}`,
      ]),
    },
    {
      name: 'D',
      type: 'hash:ip,port,net',
      initval: 0xfff,
      ops: [
        '10.0.0.0/8',
        '192.168.1.0/24',
        '172.16.5.4',
        '0.0.0.0/1',
        '10.1.2.3/32',
        '11.0.0.0/16',
      ].map((n, i) => ['add', `1.2.3.${i},tcp:80,${n}`]),
    },
    // Enough members for a bucket to pass bucketsize 12: the table doubles to 2048.
    {
      name: 'E',
      type: 'hash:ip,port',
      initval: 0x5eed,
      ops: ipport(4000, '10.97').map((e) => ['add', e]),
    },
    {
      name: 'F',
      type: 'hash:ip,port',
      initval: 0x77,
      ops: [
        ...mix.map((e): ['add', string] => ['add', e]),
        ...mix.slice(5, 30).map((e): ['del', string] => ['del', e]),
        ...ipport(15, '10.99').map((e): ['add', string] => ['add', e]),
        ...mix.slice(40, 44).map((e): ['del', string] => ['del', e]),
      ],
    },
  ];
}
