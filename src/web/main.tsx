// svclab's web view: the live cluster drawn from the API server (list + watch), a
// packet's journey through it, each node's tables, the proxy modes side by side and the
// latest benchmark charts. Bundled by esbuild (apiserver/web-bundle.ts) and served by the
// API server under /ui/; it talks to the server only (no CDN).
import './style.css';
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, getJson } from './api.ts';
import { ClusterStore } from './store.ts';
import { Topology } from './topology.tsx';
import { JourneyDot, JourneyPanel } from './journey.tsx';
import { NodeTables } from './tables.tsx';
import { CompareModes } from './compare.tsx';
import { BenchCharts } from './bench.tsx';
import type { Journey, WebInfo } from '../apiserver/web-contract.ts';

type Tab = 'topology' | 'tables' | 'modes' | 'bench';

const store = new ClusterStore();

/** For the end-to-end tests and the curious: the store's version and last update time. */
declare global {
  interface Window {
    svclab?: { store: ClusterStore };
  }
}
window.svclab = { store };

function App() {
  const [info, setInfo] = useState<WebInfo>();
  const [version, setVersion] = useState(0);
  const [tab, setTab] = useState<Tab>(() => (location.hash.slice(1) as Tab) || 'topology');
  const [error, setError] = useState('');
  const [target, setTarget] = useState('');
  const [journey, setJourney] = useState<Journey>();
  const [activeHop, setActiveHop] = useState(-1);
  const [filter, setFilter] = useState('');

  useEffect(() => {
    getJson<WebInfo>('/svclab/v1/web').then(setInfo, (e: Error) => setError(e.message));
    const off = store.subscribe(() => setVersion(store.version));
    store
      .start()
      .catch((e: Error) =>
        setError(
          e instanceof ApiError && e.status === 401
            ? 'not logged in: open the login URL the command printed'
            : e.message,
        ),
      );
    return () => {
      off();
      store.stop();
    };
  }, []);
  useEffect(() => {
    location.hash = tab;
  }, [tab]);
  useEffect(() => {
    if (target === '' && store.services.size > 0) {
      const s = [...store.services.values()].find(
        (x) =>
          x.namespace === 'default' &&
          x.name !== 'kubernetes' &&
          !x.headless &&
          x.type !== 'ExternalName' &&
          x.ports[0],
      );
      if (s !== undefined) setTarget(`${s.name}:${s.ports[0]!.port}`);
    }
  }, [version]);

  // What the last journey touched: the nodes it crossed, the backend, the Service.
  const highlight = useMemo(() => {
    const h = new Set<string>();
    if (journey === undefined) return h;
    for (const hop of journey.hops) {
      h.add(`node/${hop.node}`);
      if (hop.to.startsWith('pod/')) h.add(hop.to);
      if (hop.from.startsWith('pod/')) h.add(hop.from);
    }
    const dst = journey.dst.split(':')[0];
    for (const s of store.services.values()) {
      if (s.clusterIP === dst) {
        h.add(`svc/${s.key}`);
        if (journey.backend?.pod) h.add(`edge/${s.key}/${journey.backend.pod}`);
      }
    }
    return h;
  }, [journey, version]);

  const pods = store.pods.size;
  const ready = useMemo(() => [...store.pods.values()].filter((p) => p.ready).length, [version]);
  return (
    <div class="app">
      <header>
        <h1>svclab</h1>
        <span class="muted" data-summary>
          {info
            ? `${info.runtime === 'sim' ? 'simulated' : 'lab'} cluster · kube-proxy ${info.mode} mode · `
            : ''}
          {store.nodes.size} nodes · {pods} pods ({ready} ready) · {store.services.size} Services ·{' '}
          {store.ingresses.size} Ingresses
        </span>
        <nav>
          {(
            [
              ['topology', 'Topology & journey'],
              ['tables', 'Node tables'],
              ['modes', 'Modes side by side'],
              ['bench', 'Benchmarks'],
            ] as [Tab, string][]
          ).map(([t, label]) => (
            <button
              type="button"
              key={t}
              class={tab === t ? 'on' : ''}
              data-tab={t}
              onClick={() => setTab(t)}
            >
              {label}
            </button>
          ))}
        </nav>
      </header>
      {error && <div class="error banner">{error}</div>}
      {tab === 'topology' && (
        <main class="topo-page">
          <div class="topo-wrap">
            <div class="toolbar">
              <input
                class="filter"
                placeholder="filter Services (name, namespace, IP, type)"
                value={filter}
                onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
              />
              <span class="legend">
                <i class="pod ready" /> ready <i class="pod notready" /> not ready{' '}
                <i class="pod terminating" /> terminating — click a Service or an Ingress rule to
                aim a request at it
              </span>
            </div>
            <div class="topo-box">
              <Topology
                store={store}
                info={info}
                version={version}
                highlight={highlight}
                filter={filter}
                onPick={setTarget}
              />
              <JourneyDot journey={journey} onHop={setActiveHop} />
            </div>
          </div>
          <JourneyPanel
            store={store}
            info={info}
            version={version}
            target={target}
            setTarget={setTarget}
            journey={journey}
            setJourney={setJourney}
            activeHop={activeHop}
          />
        </main>
      )}
      {tab === 'tables' && (
        <NodeTables store={store} info={info} version={version} journey={journey} />
      )}
      {tab === 'modes' && <CompareModes info={info} target={target} />}
      {tab === 'bench' && <BenchCharts />}
    </div>
  );
}

const root = document.getElementById('app')!;
root.textContent = ''; // the "loading" line
render(<App />, root);
