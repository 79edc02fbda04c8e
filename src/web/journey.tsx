// A packet's journey: the form (source, target), the request sent through the live
// cluster (POST /svclab/v1/journeys), the packets animated across the topology, and each
// hop with its header before and after the node, the NAT, the rules walked, the
// conntrack entry and where a rejected or dropped packet stopped.
import { useEffect, useRef, useState } from 'preact/hooks';
import { postJson } from './api.ts';
import { anchors, type Box } from './topology.tsx';
import type { ClusterStore } from './store.ts';
import type { Header, Hop, Journey, WebInfo } from '../apiserver/web-contract.ts';

const hdr = (h: Header) =>
  `${h.proto.toUpperCase()} ${h.src}${h.sport ? `:${h.sport}` : ''} → ${h.dst}${h.dport ? `:${h.dport}` : ''}${h.flags ? ` [${h.flags}]` : ''}${h.length ? ` ${h.length}B` : ''}`;

function HopCard({ h, active }: { h: Hop; active: boolean }) {
  const [open, setOpen] = useState(h.trace.length > 0 && h.ct === 'new');
  const changed = (a: string | number, b: string | number) => (a !== b ? 'changed' : '');
  return (
    <li
      class={`hop ${h.direction} v-${h.verdict}${active ? ' active' : ''}`}
      data-hop={h.seq}
      data-verdict={h.verdict}
    >
      <div class="hop-head">
        <span class="hop-n">#{h.seq}</span> <b>{h.node}</b>{' '}
        <span class={`badge ${h.direction}`}>{h.direction}</span>{' '}
        <span class="badge">{h.before.flags || h.before.proto}</span>{' '}
        <span class="badge ct">ct {h.ct}</span>{' '}
        <span class="muted">
          {h.from} → {h.to}
        </span>
      </div>
      <table class="hdr">
        <tbody>
          <tr>
            <th>in</th>
            <td>
              <code>{hdr(h.before)}</code> <span class="muted">via {h.inIface}</span>
            </td>
          </tr>
          <tr>
            <th>out</th>
            <td>
              {h.verdict === 'drop' ? (
                <b class="drop" data-drop={h.drop}>
                  dropped: {h.drop}
                </b>
              ) : (
                <code>
                  {h.after.proto.toUpperCase()}{' '}
                  <span class={changed(h.before.src, h.after.src)}>{h.after.src}</span>:
                  <span class={changed(h.before.sport, h.after.sport)}>{h.after.sport}</span> →{' '}
                  <span class={changed(h.before.dst, h.after.dst)}>{h.after.dst}</span>:
                  <span class={changed(h.before.dport, h.after.dport)}>{h.after.dport}</span>
                </code>
              )}{' '}
              {h.verdict !== 'drop' && (
                <span class="muted">
                  {h.verdict === 'local' ? 'delivered locally' : `out ${h.outIface}`}
                </span>
              )}
            </td>
          </tr>
          {h.nat.map((n) => (
            <tr key={n}>
              <th>NAT</th>
              <td class="nat" data-nat={n}>
                {n}
              </td>
            </tr>
          ))}
          {h.emitted.map((e, i) => (
            <tr key={i}>
              <th>sent</th>
              <td class="emitted">
                <code>{hdr(e)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {h.trace.length > 0 && (
        <div class="trace">
          <button type="button" class="link" onClick={() => setOpen(!open)}>
            {open ? '▾' : '▸'} {h.trace.filter((s) => s.kind === 'rule').length} rules matched in
            the walk ({h.trace.length} steps)
          </button>
          {open && (
            <ol class="steps">
              {h.trace.map((s, i) => (
                <li key={i} class={`step ${s.kind}`}>
                  <code>
                    {s.table}:{s.chain}:{s.kind}:{s.ruleNum}
                  </code>{' '}
                  <span class="muted">{s.hook}</span> {s.text && <code class="rule">{s.text}</code>}
                  {s.result && <span class="result"> ⇒ {s.result}</span>}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </li>
  );
}

/** Points the animation visits for the hops, in order: where each came from, the node, where it went. */
function path(hops: Hop[]): { box: Box; hop: number; kind: string }[] {
  const out: { box: Box; hop: number; kind: string }[] = [];
  const at = (place: string) =>
    anchors.get(place) ?? (place.startsWith('pod/') ? undefined : undefined);
  for (const h of hops) {
    for (const place of [h.from, `node/${h.node}`, h.verdict === 'drop' ? undefined : h.to]) {
      if (place === undefined) continue;
      const box = at(place);
      if (box === undefined) continue;
      const last = out[out.length - 1];
      if (last !== undefined && last.box === box) continue;
      out.push({ box, hop: h.seq, kind: h.verdict === 'drop' ? 'drop' : h.direction });
    }
  }
  return out;
}

export function JourneyDot({
  journey,
  onHop,
}: {
  journey: Journey | undefined;
  onHop: (seq: number) => void;
}) {
  const [pos, setPos] = useState<{ x: number; y: number; kind: string } | undefined>();
  const frame = useRef(0);
  useEffect(() => {
    cancelAnimationFrame(frame.current);
    if (journey === undefined) return;
    const pts = path(journey.hops.slice(0, 24));
    if (pts.length === 0) return;
    const SEG = 320;
    const start = performance.now();
    const tick = (t: number) => {
      const f = (t - start) / SEG;
      const i = Math.min(pts.length - 1, Math.floor(f));
      const a = pts[i]!;
      const b = pts[Math.min(pts.length - 1, i + 1)]!;
      const u = Math.min(1, f - i);
      const cx = (p: Box) => p.x + p.w / 2;
      const cy = (p: Box) => p.y + p.h / 2;
      setPos({
        x: cx(a.box) + (cx(b.box) - cx(a.box)) * u,
        y: cy(a.box) + (cy(b.box) - cy(a.box)) * u,
        kind: b.kind,
      });
      onHop(b.hop);
      if (f < pts.length - 1) frame.current = requestAnimationFrame(tick);
      else setTimeout(() => setPos(undefined), 1500);
    };
    frame.current = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame.current);
  }, [journey]);
  if (pos === undefined) return null;
  return (
    <svg class="dot-layer" aria-hidden="true">
      <circle cx={pos.x} cy={pos.y} r={9} class={`dot ${pos.kind}`} />
    </svg>
  );
}

export function JourneyPanel({
  store,
  info,
  version,
  target,
  setTarget,
  journey,
  setJourney,
  activeHop,
}: {
  store: ClusterStore;
  info: WebInfo | undefined;
  version: number;
  target: string;
  setTarget: (t: string) => void;
  journey: Journey | undefined;
  setJourney: (j: Journey | undefined) => void;
  activeHop: number;
}) {
  const [from, setFrom] = useState('client');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [showAll, setShowAll] = useState(false);
  void version;
  const pods = [...store.pods.values()].filter((p) => p.ip && p.ready).slice(0, 300);
  const targets = [...store.services.values()]
    .filter((s) => !s.headless && s.type !== 'ExternalName' && s.ports[0])
    .slice(0, 500)
    .map((s) => `${s.key}:${s.ports[0]!.port}`);
  const go = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setJourney(await postJson<Journey>('/svclab/v1/journeys', { from, to: target }));
    } catch (err) {
      setJourney(undefined);
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const hops =
    journey === undefined
      ? []
      : showAll
        ? journey.hops
        : journey.hops.filter((h) => h.leg === 0 || h.ct === 'new').slice(0, 40);
  return (
    <div class="journey">
      <h3>A packet's journey</h3>
      <form onSubmit={(e) => void go(e)} class="journey-form">
        <label>
          from{' '}
          <select
            name="from"
            value={from}
            onChange={(e) => setFrom((e.currentTarget as HTMLSelectElement).value)}
          >
            {(info?.sources ?? []).map((s) => (
              <option value={s.id} key={s.id}>
                {s.label} ({s.ip})
              </option>
            ))}
            {pods.map((p) => (
              <option value={`pod/${p.key}`} key={p.key}>
                pod {p.key} ({p.ip})
              </option>
            ))}
          </select>
        </label>
        <label>
          to{' '}
          <input
            name="to"
            list="journey-targets"
            value={target}
            placeholder="myapp:80, 10.96.0.10:53, 10.0.100.11:30001, http://www1.atguigu.com/"
            onInput={(e) => setTarget((e.currentTarget as HTMLInputElement).value)}
          />
          <datalist id="journey-targets">
            {targets.map((t) => (
              <option value={t} key={t} />
            ))}
          </datalist>
        </label>
        <button type="submit" disabled={busy || target.trim() === ''}>
          {busy ? 'sending…' : 'send a request'}
        </button>
      </form>
      {error && (
        <div class="error" data-error>
          {error}
        </div>
      )}
      {journey && (
        <div class="journey-result" data-outcome={journey.outcome}>
          <div class={`outcome ${journey.outcome}`}>
            <b>{journey.outcome}</b>: {journey.summary}
          </div>
          <div class="muted">
            <code>{journey.command}</code> on {journey.from.label} ({journey.from.ip}) · exit{' '}
            {journey.exitCode}
            {journey.backend && (
              <>
                {' '}
                · backend{' '}
                <code data-backend={journey.backend.ip}>
                  {journey.backend.pod ?? journey.backend.ip}
                </code>
              </>
            )}
          </div>
          {journey.stdout && <pre class="stdout">{journey.stdout}</pre>}
          {journey.stderr && <pre class="stderr">{journey.stderr}</pre>}
          {journey.conntrack.length > 0 && (
            <div class="conntrack">
              <h4>conntrack entries created</h4>
              {journey.conntrack.map((c, i) => (
                <div key={i} data-conntrack={c.node}>
                  <b>{c.node}</b> <code>{c.entry}</code>
                </div>
              ))}
            </div>
          )}
          <h4>
            {journey.hops.length} crossings{journey.truncated ? ' (truncated)' : ''}{' '}
            <button type="button" class="link" onClick={() => setShowAll(!showAll)}>
              {showAll ? 'fewer' : 'show every packet'}
            </button>
          </h4>
          <ol class="hops">
            {hops.map((h) => (
              <HopCard h={h} key={h.seq} active={h.seq === activeHop} />
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}
