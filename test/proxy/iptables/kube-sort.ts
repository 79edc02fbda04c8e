// kube-proxy's sortIPTablesRules test helper (proxier_test.go): its expected dumps are
// written in this order so they do not depend on Go map iteration. Tables by name;
// chains KUBE-NODEPORTS, KUBE-SERVICES, other KUBE-* sorted, then the rest; rules
// grouped by chain; KUBE-NODEPORTS and KUBE-SERVICES rules stably sorted by the
// service name in their comment (the nodeports tail rule stays last).
import { tokenizeLine, unquote } from '../../../src/proxy/iptables/parse.ts';

interface DumpTable {
  name: string;
  chains: string[];
  rules: Map<string, string[]>;
}

function parseDump(text: string): DumpTable[] {
  const tables: DumpTable[] = [];
  let cur: DumpTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      cur = { name: line.slice(1), chains: [], rules: new Map() };
      tables.push(cur);
    } else if (cur === undefined) {
      throw new Error(`line outside a table: ${line}`);
    } else if (line === 'COMMIT') {
      cur = undefined;
    } else if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      cur.chains.push(name);
      cur.rules.set(name, []);
    } else {
      const chain = tokenizeLine(line)[1] ?? '';
      const list = cur.rules.get(chain);
      if (list === undefined) throw new Error(`rule for undeclared chain: ${line}`);
      list.push(line);
    }
  }
  return tables;
}

function commentService(rule: string): string | undefined {
  const args = tokenizeLine(rule);
  const i = args.indexOf('--comment');
  const c = i < 0 ? undefined : args[i + 1];
  if (c === undefined) return undefined;
  const v = unquote(c);
  const cut = v.search(/[ :]/);
  return cut < 0 ? v : v.slice(0, cut);
}

function byService(a: string, b: string): number {
  const x = commentService(a);
  const y = commentService(b);
  if (x === undefined || y === undefined) return 0;
  return x < y ? -1 : x > y ? 1 : 0;
}

function chainRank(n: string): number {
  if (n === 'KUBE-NODEPORTS') return 0;
  if (n === 'KUBE-SERVICES') return 1;
  return n.startsWith('KUBE-') ? 2 : 3;
}

/** Sort an iptables-restore payload the way kube-proxy's tests do. */
export function sortIPTablesRules(text: string): string {
  const tables = parseDump(text).sort((a, b) => (a.name < b.name ? -1 : 1));
  const out: string[] = [];
  for (const t of tables) {
    t.chains.sort((a, b) => chainRank(a) - chainRank(b) || (a < b ? -1 : a > b ? 1 : 0));
    const np = t.rules.get('KUBE-NODEPORTS');
    if (np !== undefined) np.sort(byService);
    const svc = t.rules.get('KUBE-SERVICES');
    if (svc !== undefined) {
      const last = (r: string) => r.includes('must be the last rule');
      svc.sort((a, b) => (last(a) ? 1 : last(b) ? -1 : byService(a, b)));
    }
    out.push(`*${t.name}`, ...t.chains.map((c) => `:${c} - [0:0]`));
    for (const c of t.chains) out.push(...(t.rules.get(c) ?? []));
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

/** Golden text from an indented template: every line trimmed, blank lines dropped. */
export function dedent(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .join('\n') + '\n'
  );
}
