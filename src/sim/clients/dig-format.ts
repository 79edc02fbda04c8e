// dig's text output (BIND 9.18 dig.c/masterdump.c; 9.11 differs only in what DigFlavor
// holds): the header block, sections, and records laid out in dig's tab-stop columns
// (TTL 24, class 32, type 40, rdata 48).
import { DEFAULT_CONFIG } from '../../control/cluster-config.ts';
import { type DigFlavor, eraOf } from '../../control/era.ts';
import type { Answer, DecodedPacket, Question } from 'dns-packet';

/** dig as a node of the default release has it (control/era.ts: each era's). */
export const DEFAULT_DIG: DigFlavor = eraOf(DEFAULT_CONFIG.kubernetesVersion).dig;

type Reply = DecodedPacket & { rcode?: string };

export const fqdn = (n: string): string =>
  n === '' || n === '.' ? '.' : n.endsWith('.') ? n : `${n}.`;

/** masterdump.c indent(): tabs to the tab stop, then spaces; always at least one blank. */
function indent(line: string, col: number, to: number): [string, number] {
  if (to < col + 1) to = col + 1;
  const tabs = Math.floor(to / 8) - Math.floor(col / 8);
  let from = col;
  if (tabs > 0) {
    line += '\t'.repeat(tabs);
    from = Math.floor(to / 8) * 8;
  }
  return [line + ' '.repeat(to - from), to];
}

function columns(fields: ReadonlyArray<readonly [string, number]>): string {
  let [line, col] = ['', 0];
  for (const [text, at] of fields) {
    if (col > 0 || at > 0) [line, col] = indent(line, col, at);
    line += text;
    col += text.length;
  }
  return line;
}

export function rdataText(a: Answer): string {
  const d = (a as { data?: unknown }).data;
  switch (a.type) {
    case 'A':
    case 'AAAA':
      return String(d);
    case 'CNAME':
    case 'PTR':
    case 'NS':
    case 'DNAME':
      return fqdn(String(d));
    case 'SRV': {
      const s = d as { priority?: number; weight?: number; port?: number; target: string };
      return `${s.priority ?? 0} ${s.weight ?? 0} ${s.port ?? 0} ${fqdn(s.target)}`;
    }
    case 'SOA': {
      const s = d as {
        mname: string;
        rname: string;
        serial?: number;
        refresh?: number;
        retry?: number;
        expire?: number;
        minimum?: number;
      };
      return `${fqdn(s.mname)} ${fqdn(s.rname)} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case 'MX': {
      const m = d as { preference?: number; exchange: string };
      return `${m.preference ?? 0} ${fqdn(m.exchange)}`;
    }
    case 'TXT': {
      const parts = Array.isArray(d) ? d : [d];
      return parts.map((p) => `"${Buffer.from(p as Uint8Array | string).toString()}"`).join(' ');
    }
    default: {
      const b = Buffer.isBuffer(d) ? d : Buffer.alloc(0);
      return `\\# ${b.length} ${b.toString('hex').toUpperCase()}`;
    }
  }
}

/** One resource record line: `name TTL IN TYPE rdata`. */
export function formatRecord(a: Answer): string {
  const ttl = String((a as { ttl?: number }).ttl ?? 0);
  return columns([
    [fqdn(a.name), 0],
    [ttl, 24],
    ['IN', 32],
    [a.type, 40],
    [rdataText(a), 48],
  ]);
}

/** A question line: `;name IN TYPE` (the ';' takes no column). */
export function formatQuestion(q: Question): string {
  return `;${columns([
    [fqdn(q.name), 0],
    ['IN', 32],
    [q.type, 40],
  ])}`;
}

const FLAG_ORDER = ['qr', 'aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const;

export interface DigSections {
  comments: boolean;
  question: boolean;
  answer: boolean;
  authority: boolean;
  additional: boolean;
}

/** From ";; Got answer:" to the last section, as dig prints a reply. */
export function formatReply(r: Reply, show: DigSections): string {
  const out: string[] = [];
  const qname = fqdn(r.questions?.[0]?.name ?? '.').toLowerCase();
  const opt = r.additionals?.find((a) => a.type === 'OPT') as
    { udpPayloadSize?: number; ednsVersion?: number; flag_do?: boolean } | undefined;
  const rec = r as unknown as Record<string, unknown>;
  if (show.comments) {
    out.push(';; Got answer:');
    if (qname === 'local.' || qname.endsWith('.local.')) {
      out.push(';; WARNING: .local is reserved for Multicast DNS');
      out.push(';; You are currently testing what happens when an mDNS query is leaked to DNS');
    }
    out.push(`;; ->>HEADER<<- opcode: QUERY, status: ${r.rcode ?? 'NOERROR'}, id: ${r.id ?? 0}`);
    const flags = FLAG_ORDER.filter((f) => rec[`flag_${f}`] === true).join(' ');
    out.push(
      `;; flags: ${flags}; QUERY: ${r.questions?.length ?? 0}, ANSWER: ${r.answers?.length ?? 0}, ` +
        `AUTHORITY: ${r.authorities?.length ?? 0}, ADDITIONAL: ${r.additionals?.length ?? 0}`,
    );
    if (r.flag_rd && !r.flag_ra) out.push(';; WARNING: recursion requested but not available');
    out.push('');
    if (opt !== undefined) {
      out.push(';; OPT PSEUDOSECTION:');
      const flags = opt.flag_do ? ' do' : '';
      out.push(
        `; EDNS: version: ${opt.ednsVersion ?? 0}, flags:${flags}; udp: ${opt.udpPayloadSize}`,
      );
    }
  }
  const section = (title: string, lines: string[], on: boolean) => {
    if (!on || lines.length === 0) return;
    if (show.comments) out.push(`;; ${title} SECTION:`);
    out.push(...lines);
    if (show.comments) out.push('');
  };
  section('QUESTION', (r.questions ?? []).map(formatQuestion), show.question);
  section('ANSWER', (r.answers ?? []).map(formatRecord), show.answer);
  section('AUTHORITY', (r.authorities ?? []).map(formatRecord), show.authority);
  const extra = (r.additionals ?? []).filter((a) => a.type !== 'OPT');
  section('ADDITIONAL', extra.map(formatRecord), show.additional);
  return out.map((l) => `${l}\n`).join('');
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** dig's WHEN: strftime("%a %b %d %H:%M:%S %Z %Y") in UTC. */
export function digWhen(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`
  );
}
