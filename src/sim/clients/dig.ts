// A dig-like client on a simulated host: the usual arguments (@server, -t, -p, -x,
// +short, +noall/+answer, +tries, +time, +noedns...), one UDP question with dig 9.18's
// defaults (RD and AD set, EDNS0 with a 1232-byte buffer and a client cookie), and
// the output dig prints, errors included.
import dnsPacket from 'dns-packet';
import { SECOND } from '../../control/clock.ts';
import type { SimHost } from '../host.ts';
import { dnsExchange } from './dns-exchange.ts';
import type { DnsReply } from './dns-exchange.ts';
import type { DigFlavor } from '../../control/era.ts';
import { DEFAULT_DIG, digWhen, formatReply, rdataText } from './dig-format.ts';
import type { DigSections } from './dig-format.ts';

export interface DigOptions {
  server: string;
  port: number;
  /** -b ADDRESS#PORT: the query's source port (0: a random one per try). */
  sourcePort: number;
  name: string;
  type: string;
  tries: number;
  timeoutNs: number;
  recurse: boolean;
  edns: boolean;
  cookie: boolean;
  short: boolean;
  cmd: boolean;
  stats: boolean;
  sections: DigSections;
}

export interface DigResult {
  stdout: string;
  /** 0 = got a reply (whatever its rcode), 9 = no reply, 1 = usage error. */
  exitCode: number;
  reply: DnsReply | undefined;
}

const TYPES = new Set(['A', 'AAAA', 'ANY', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT']);

/** Parse dig's command line (without "dig"); `server` defaults to the resolv.conf one. */
export function parseDigArgs(args: readonly string[], defaultServer: string): DigOptions | string {
  const o: DigOptions = {
    server: defaultServer,
    port: 53,
    sourcePort: 0,
    name: '',
    type: '',
    tries: 3,
    timeoutNs: 5 * SECOND,
    recurse: true,
    edns: true,
    cookie: true,
    short: false,
    cmd: true,
    stats: true,
    sections: { comments: true, question: true, answer: true, authority: true, additional: true },
  };
  const flag = (f: string): string | undefined => {
    const [k, v] = f.slice(1).split('=');
    const on = !k!.startsWith('no');
    const key = on ? k! : k!.slice(2);
    if (key === 'short') o.short = on;
    else if (key === 'tries') o.tries = Math.max(1, Number(v));
    else if (key === 'retry') o.tries = Number(v) + 1;
    else if (key === 'time') o.timeoutNs = Math.max(1, Number(v)) * SECOND;
    else if (key === 'recurse') o.recurse = on;
    else if (key === 'edns') o.edns = on;
    else if (key === 'cookie') o.cookie = on;
    else if (key === 'cmd') o.cmd = on;
    else if (key === 'stats') o.stats = on;
    else if (key === 'all') {
      o.cmd = o.stats = on;
      for (const s of Object.keys(o.sections)) o.sections[s as keyof DigSections] = on;
    } else if (key in o.sections) o.sections[key as keyof DigSections] = on;
    else return `Invalid option: ${f}`;
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('@')) o.server = a.slice(1);
    else if (a.startsWith('+')) {
      const err = flag(a);
      if (err !== undefined) return err;
    } else if (a === '-t') o.type = (args[++i] ?? '').toUpperCase();
    else if (a === '-p') o.port = Number(args[++i]);
    else if (a === '-b') {
      // -b address[#port]: svclab binds the port (its hosts have one address each).
      const b = args[++i] ?? '';
      const port = b.includes('#') ? Number(b.slice(b.indexOf('#') + 1)) : 0;
      if (!Number.isInteger(port) || port < 0 || port > 65535) return `invalid port: ${b}`;
      o.sourcePort = port;
    } else if (a === '-c') i++;
    else if (a === '-x') {
      o.name = `${(args[++i] ?? '').split('.').reverse().join('.')}.in-addr.arpa.`;
      o.type = 'PTR';
    } else if (o.name !== '' && TYPES.has(a.toUpperCase()) && o.type === '')
      o.type = a.toUpperCase();
    else if (a === 'IN' && o.name !== '') continue;
    else if (a.startsWith('-')) return `Invalid option: ${a}`;
    else o.name = a;
  }
  if (o.name === '') {
    o.name = '.';
    o.type ||= 'NS';
  }
  o.type ||= 'A';
  if (!TYPES.has(o.type)) return `Invalid type: ${o.type}`;
  return o;
}

/** Run dig on `host`; `done` gets what dig would print on stdout. */
export function dig(
  host: SimHost,
  args: readonly string[],
  done: (r: DigResult) => void,
  opts: { defaultServer?: string; flavor?: DigFlavor } = {},
): void {
  const flavor = opts.flavor ?? DEFAULT_DIG;
  const o = parseDigArgs(args, opts.defaultServer ?? '10.96.0.10');
  if (typeof o === 'string') return done({ stdout: `${o}\n`, exitCode: 1, reply: undefined });
  const query = dnsPacket.encode({
    type: 'query',
    id: host.rng.int(0x10000),
    flags: (o.recurse ? dnsPacket.RECURSION_DESIRED : 0) | dnsPacket.AUTHENTIC_DATA,
    questions: [{ name: o.name, type: o.type as 'A', class: 'IN' }],
    additionals: o.edns
      ? [
          {
            type: 'OPT',
            name: '.',
            udpPayloadSize: flavor.udpPayloadSize,
            flags: 0,
            options: o.cookie ? [{ code: 10, data: Buffer.from(cookie(host)) }] : [],
          } as unknown as dnsPacket.Answer,
        ]
      : [],
  });
  let stdout = '';
  const banner = `\n; <<>> DiG ${flavor.version} <<>> ${args.join(' ')}\n;; global options: +cmd\n`;
  dnsExchange(
    host,
    query,
    {
      server: o.server,
      port: o.port,
      timeoutNs: o.timeoutNs,
      tries: o.tries,
      ...(o.sourcePort !== 0 ? { sourcePort: o.sourcePort } : {}),
    },
    (reply) => {
      if (reply === undefined) {
        if (o.cmd && !o.short) stdout += banner;
        stdout += ';; no servers could be reached\n';
        return done({ stdout, exitCode: 9, reply });
      }
      if (o.short) {
        for (const a of reply.packet.answers ?? []) stdout += `${rdataText(a)}\n`;
        return done({ stdout, exitCode: 0, reply });
      }
      if (o.cmd) stdout += banner;
      stdout += formatReply(reply.packet, o.sections);
      if (o.stats) {
        stdout +=
          `;; Query time: ${Math.floor(reply.rttNs / 1e6)} msec\n` +
          `;; SERVER: ${o.server}#${o.port}(${o.server})${flavor.serverProtocol ? ' (UDP)' : ''}\n` +
          `;; WHEN: ${digWhen(host.wallClockMs())}\n` +
          `;; MSG SIZE  rcvd: ${reply.bytes.length}\n\n`;
      }
      done({ stdout, exitCode: 0, reply });
    },
    (why) => (stdout += `;; communications error to ${o.server}#${o.port}: ${why}\n`),
  );
}

/** dig's 8-byte client cookie (RFC 7873), drawn from the host's RNG. */
function cookie(host: SimHost): Uint8Array {
  const b = new Uint8Array(8);
  for (let i = 0; i < 8; i += 4) {
    const v = host.rng.nextU32();
    b.set([v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff], i);
  }
  return b;
}
