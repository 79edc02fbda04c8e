// The proxy modes side by side: one new connection's first packet classified in
// iptables, ipvs and nftables modes over the live cluster's Services plus N more (the
// slider), with the rules each mode compared. iptables walks KUBE-SERVICES one rule per
// Service; ipvs and nftables look the address up in a hash or a verdict map.
import { useEffect, useRef, useState } from 'preact/hooks';
import { postJson } from './api.ts';
import type { CompareResult, WebInfo } from '../apiserver/web-contract.ts';

const STEPS = [0, 10, 30, 100, 300, 1000, 3000, 10000];

export function CompareModes({ info, target }: { info: WebInfo | undefined; target: string }) {
  const [step, setStep] = useState(3);
  const [to, setTo] = useState(target);
  const [result, setResult] = useState<CompareResult>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const history = useRef(new Map<string, Map<number, number>>());
  const services = STEPS[step]!;
  useEffect(() => {
    if (info !== undefined && !info.compare) return;
    let stale = false;
    setBusy(true);
    const t = setTimeout(() => {
      postJson<CompareResult>('/svclab/v1/compare', {
        services,
        ...(to.trim() ? { to: to.trim() } : {}),
      }).then(
        (r) => {
          if (stale) return;
          for (const m of r.modes) {
            const h = history.current.get(m.mode) ?? new Map<number, number>();
            h.set(r.services, m.visited);
            history.current.set(m.mode, h);
          }
          setResult(r);
          setError('');
          setBusy(false);
        },
        (e: Error) => {
          if (!stale) {
            setError(e.message);
            setBusy(false);
          }
        },
      );
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [services, to, info]);
  if (info !== undefined && !info.compare)
    return <p class="muted">The comparison runs in the simulation (svclab serve) only.</p>;
  const max = Math.max(1, ...(result?.modes.map((m) => m.visited) ?? [1]));
  return (
    <main class="compare">
      <div class="toolbar">
        <label>
          extra Services{' '}
          <input
            type="range"
            min={0}
            max={STEPS.length - 1}
            value={step}
            onInput={(e) => setStep(Number((e.currentTarget as HTMLInputElement).value))}
            data-slider
          />
          <b data-services>{services}</b>
        </label>
        <label>
          to{' '}
          <input
            value={to}
            placeholder="a Service: myapp:80"
            onInput={(e) => setTo((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        {busy && <span class="muted">classifying…</span>}
      </div>
      {error && <div class="error">{error}</div>}
      {result && (
        <>
          <p class="muted">
            One TCP SYN from {result.from} to {result.to}, with {result.services} extra Services
            beside the cluster's own.
          </p>
          <div class="modes">
            {result.modes.map((m) => (
              <div class="mode" key={m.mode} data-mode={m.mode} data-visited={m.visited}>
                <h3>{m.mode}</h3>
                <div class="big">{m.visited}</div>
                <div class="muted">
                  {m.unit} · table of {m.tableSize}{' '}
                  {m.mode === 'ipvs' ? 'virtual services' : 'rules'} · {m.micros.toFixed(0)} µs
                </div>
                <div class="bar" style={{ width: `${(100 * m.visited) / max}%` }} />
                <div class="result">{m.result}</div>
                <details>
                  <summary>{m.steps.length} trace steps</summary>
                  <ol class="steps">
                    {m.steps.map((s, i) => (
                      <li key={i} class={`step ${s.kind}`}>
                        <code>
                          {s.table}:{s.chain}:{s.kind}:{s.ruleNum}
                        </code>{' '}
                        {s.text && <code class="rule">{s.text}</code>}
                        {s.result && <span> ⇒ {s.result}</span>}
                      </li>
                    ))}
                  </ol>
                </details>
                <div class="history muted">
                  seen so far:{' '}
                  {[...(history.current.get(m.mode) ?? new Map<number, number>()).entries()]
                    .sort((a, b) => a[0] - b[0])
                    .map(([n, v]) => `${n}→${v}`)
                    .join(', ')}
                </div>
              </div>
            ))}
          </div>
        </>
      )}
    </main>
  );
}
