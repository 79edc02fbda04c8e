// The charts of the latest `svclab bench` run (GET /svclab/v1/bench), when there is one.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.ts';
import type { BenchIndex } from '../apiserver/web-contract.ts';

export function BenchCharts() {
  const [index, setIndex] = useState<BenchIndex | null>();
  const [error, setError] = useState('');
  useEffect(() => {
    getJson<BenchIndex>('/svclab/v1/bench').then(setIndex, (e: Error) => {
      if (e instanceof ApiError && e.status === 404) setIndex(null);
      else setError(e.message);
    });
  }, []);
  if (error) return <div class="error">{error}</div>;
  if (index === undefined) return <p class="muted">loading…</p>;
  if (index === null)
    return (
      <main class="bench">
        <p>
          No benchmark run yet. Run <code>npx svclab bench</code> (or{' '}
          <code>npm run bench -- --quick</code>) and reload.
        </p>
      </main>
    );
  return (
    <main class="bench">
      <p class="muted">
        The latest run: {index.date} at commit <code>{index.commit}</code> (
        <code>svclab bench {index.argv.join(' ')}</code>).
      </p>
      <div class="charts">
        {index.charts.map((c) => (
          <figure key={c.suite} data-chart={c.suite}>
            <figcaption>{c.suite}</figcaption>
            <img src={c.url} alt={`${c.suite} benchmark chart`} loading="lazy" />
          </figure>
        ))}
      </div>
    </main>
  );
}
