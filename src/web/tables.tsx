// Each node's tables, live: the proxy mode's rules (iptables-save, nft list ruleset or
// ipvsadm -Ln), the counters, the conntrack table; re-read every 2 s through
// /svclab/v1/nodes/NODE/tool. The rules the last journey hit on that node are marked.
import { useEffect, useState } from 'preact/hooks';
import { postJson } from './api.ts';
import type { ClusterStore } from './store.ts';
import type { Journey, WebInfo } from '../apiserver/web-contract.ts';

const TOOLS: Record<string, string[][]> = {
  iptables: [
    ['iptables-save'],
    ['iptables', '-t', 'nat', '-nvL'],
    ['iptables', '-t', 'filter', '-nvL'],
  ],
  ipvs: [['ipvsadm', '-Ln'], ['ipvsadm', '-Ln', '--stats'], ['ipset', 'list'], ['iptables-save']],
  nftables: [['nft', 'list', 'ruleset']],
};
const COMMON = [
  ['conntrack', '-L'],
  ['conntrack', '-S'],
];

interface ToolResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** Lines of `text` the journey hit on `node`: the rules its walk matched, its conntrack entries, the IPVS service and real server. */
export function hitLines(text: string, node: string, journey: Journey | undefined): Set<number> {
  const hits = new Set<number>();
  if (journey === undefined) return hits;
  const rules = new Set<string>();
  const words: string[] = [];
  for (const h of journey.hops) {
    if (h.node !== node) continue;
    for (const s of h.trace) if (s.kind === 'rule' && s.text) rules.add(s.text.trim());
  }
  for (const c of journey.conntrack) {
    if (c.node !== node) continue;
    const sport = /sport=(\d+)/.exec(c.entry)?.[1];
    if (sport) words.push(`sport=${sport} `);
  }
  const lines = text.split('\n');
  let inVip = false;
  lines.forEach((line, i) => {
    const t = line.trim();
    if (rules.has(t)) hits.add(i);
    else if (words.some((w) => line.includes(w))) hits.add(i);
    // ipvsadm -Ln: the virtual service the journey went to and the real server chosen.
    if (/^(TCP|UDP)\s/.test(t))
      inVip =
        t.includes(` ${journey.dst} `) ||
        t.endsWith(` ${journey.dst}`) ||
        t.includes(`${journey.dst} `);
    if (/^(TCP|UDP)\s/.test(t) && inVip && journey.hops.some((h) => h.node === node)) hits.add(i);
    if (
      inVip &&
      t.startsWith('->') &&
      journey.backend &&
      t.includes(`${journey.backend.ip}:${journey.backend.port}`)
    )
      hits.add(i);
  });
  return hits;
}

export function NodeTables({
  store,
  info,
  version,
  journey,
}: {
  store: ClusterStore;
  info: WebInfo | undefined;
  version: number;
  journey: Journey | undefined;
}) {
  void version;
  const nodes = [...store.nodes.values()].map((n) => n.name);
  const [node, setNode] = useState('');
  const tools = [...(TOOLS[info?.mode ?? 'iptables'] ?? TOOLS['iptables']!), ...COMMON];
  const [tool, setTool] = useState(0);
  const [out, setOut] = useState<ToolResult>();
  const [error, setError] = useState('');
  const current = node || journey?.hops[0]?.node || nodes[0] || '';
  const argv = tools[Math.min(tool, tools.length - 1)]!;
  useEffect(() => {
    if (current === '') return;
    let stop = false;
    const read = () =>
      postJson<ToolResult>(`/svclab/v1/nodes/${encodeURIComponent(current)}/tool`, { argv }).then(
        (r) => {
          if (!stop) {
            setOut(r);
            setError('');
          }
        },
        (e: Error) => !stop && setError(e.message),
      );
    void read();
    const timer = setInterval(() => void read(), 2000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [current, argv.join(' ')]);
  const text = out?.stdout ?? '';
  const hits = hitLines(text, current, journey);
  const lines = text.split('\n');
  return (
    <main class="tables">
      <div class="toolbar">
        <label>
          node{' '}
          <select
            value={current}
            onChange={(e) => setNode((e.currentTarget as HTMLSelectElement).value)}
          >
            {nodes.map((n) => (
              <option key={n}>{n}</option>
            ))}
          </select>
        </label>
        {tools.map((t, i) => (
          <button
            type="button"
            key={t.join(' ')}
            class={i === tool ? 'on' : ''}
            onClick={() => setTool(i)}
            data-tool={t.join(' ')}
          >
            {t.join(' ')}
          </button>
        ))}
        <span class="muted">
          {journey
            ? `marked: what the last journey (${journey.from.id} → ${journey.to}) hit on ${current}; `
            : 'send a journey to mark the rules it hits; '}
          re-read every 2 s
        </span>
      </div>
      {error && <div class="error">{error}</div>}
      <pre class="tool-out" data-node={current} data-tool={argv.join(' ')}>
        {lines.map((l, i) => (
          <div
            key={i}
            class={hits.has(i) ? 'line hit' : 'line'}
            data-hit={hits.has(i) ? '1' : undefined}
          >
            {l || ' '}
          </div>
        ))}
      </pre>
      {out?.stderr && (
        <pre class={out.exitCode === 0 ? 'tool-err muted' : 'stderr'}>{out.stderr}</pre>
      )}
    </main>
  );
}
