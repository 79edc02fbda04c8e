// The topology, live: outside hosts and Ingresses on the left, Services in the middle (a
// virtualized list: only the rows in view are in the DOM), nodes with their pods on the
// right, and an SVG overlay with an edge from each visible Service to each of its
// endpoints and from each Ingress rule to its Service. Positions are measured from the
// DOM after each render (a few hundred elements at most), and shared with the journey's
// animation through `anchors`.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ClusterStore, EndpointView, PodView, ServiceView } from './store.ts';
import type { WebInfo } from '../apiserver/web-contract.ts';

export const ROW_H = 68;
/** Pods drawn per node; the rest are counted in a "+N more" chip. */
export const PODS_SHOWN = 150;

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Place id (`pod/NS/NAME`, `node/NAME`, `svc/NS/NAME`, `client`, `external`, `router`) → box, in the topology's coordinates. */
export const anchors = new Map<string, Box>();

function portText(s: ServiceView): string {
  return s.ports
    .map(
      (p) =>
        `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}${p.targetPort !== undefined && String(p.targetPort) !== String(p.port) ? `→${p.targetPort}` : ''}`,
    )
    .join(', ');
}

function ServiceRow({
  s,
  eps,
  top,
  hit,
}: {
  s: ServiceView;
  eps: EndpointView[];
  top: number;
  hit: boolean;
}) {
  const ready = eps.filter((e) => e.ready).length;
  const addr =
    s.type === 'ExternalName'
      ? `CNAME → ${s.externalName ?? ''}`
      : s.headless
        ? 'headless (no ClusterIP: DNS returns pod IPs)'
        : s.clusterIP;
  return (
    <div
      class={`svc ${s.type.toLowerCase()}${hit ? ' hit' : ''}${ready === 0 && s.type !== 'ExternalName' ? ' noeps' : ''}`}
      style={{ top: `${top}px`, height: `${ROW_H - 8}px` }}
      data-service={s.key}
      data-place={`svc/${s.key}`}
    >
      <div class="svc-head">
        <span class="svc-name">{s.namespace === 'default' ? s.name : s.key}</span>
        <span class={`badge t-${s.type.toLowerCase()}`}>{s.headless ? 'Headless' : s.type}</span>
        {s.type !== 'ExternalName' && (
          <span class={`eps${ready === 0 ? ' none' : ''}`} data-endpoints={ready}>
            {ready}/{eps.length} endpoints
          </span>
        )}
      </div>
      <div class="svc-addr">
        <code>{addr}</code> <span class="ports">{portText(s)}</span>
      </div>
      {(s.lbIPs.length > 0 || s.externalIPs.length > 0) && (
        <div class="svc-lb">
          {s.lbIPs.length > 0 && <span>LB {s.lbIPs.join(', ')}</span>}{' '}
          {s.externalIPs.length > 0 && <span>externalIPs {s.externalIPs.join(', ')}</span>}
        </div>
      )}
    </div>
  );
}

function PodChip({ p, hit }: { p: PodView; hit: boolean }) {
  const state = p.terminating
    ? 'terminating'
    : p.ready
      ? 'ready'
      : p.phase === 'Running'
        ? 'notready'
        : 'pending';
  return (
    <div
      class={`pod ${state}${hit ? ' hit' : ''}`}
      data-pod={p.key}
      data-place={`pod/${p.key}`}
      title={`${p.key} ${p.ip} ${state}`}
    >
      <span class="pod-name">{p.name}</span>
      <span class="pod-ip">{p.ip || '—'}</span>
    </div>
  );
}

export function Topology({
  store,
  info,
  version,
  highlight,
  filter,
  onPick,
}: {
  store: ClusterStore;
  info: WebInfo | undefined;
  version: number;
  highlight: Set<string>;
  filter: string;
  onPick: (target: string) => void;
}) {
  const root = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const [scroll, setScroll] = useState(0);
  const [viewH, setViewH] = useState(600);
  const [edges, setEdges] = useState<{ d: string; kind: string; svc: string; to: string }[]>([]);

  const services = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const all = [...store.services.values()];
    const shown =
      f === ''
        ? all
        : all.filter(
            (s) => s.key.includes(f) || s.clusterIP.includes(f) || s.type.toLowerCase() === f,
          );
    return shown.sort((a, b) =>
      a.namespace === b.namespace
        ? a.name.localeCompare(b.name)
        : a.namespace === 'default'
          ? -1
          : b.namespace === 'default'
            ? 1
            : a.namespace.localeCompare(b.namespace),
    );
  }, [version, filter]);
  const epIndex = useMemo(() => store.endpointIndex(), [version]);
  const podsByNode = useMemo(() => {
    const m = new Map<string, PodView[]>();
    for (const n of store.nodes.values()) m.set(n.name, []);
    for (const p of store.pods.values()) {
      const k = p.node || '(unscheduled)';
      const a = m.get(k);
      if (a === undefined) m.set(k, [p]);
      else a.push(p);
    }
    for (const a of m.values()) a.sort((x, y) => x.key.localeCompare(y.key));
    return m;
  }, [version]);
  const podByIp = useMemo(() => {
    const m = new Map<string, PodView>();
    for (const p of store.pods.values()) if (p.ip) m.set(p.ip, p);
    return m;
  }, [version]);
  const nodePorts = useMemo(
    () =>
      [...store.services.values()].flatMap((s) =>
        s.ports.filter((p) => p.nodePort).map((p) => ({ svc: s.name, port: p.nodePort! })),
      ),
    [version],
  );

  const first = Math.max(0, Math.floor(scroll / ROW_H) - 2);
  const last = Math.min(services.length, Math.ceil((scroll + viewH) / ROW_H) + 2);
  const visible = services.slice(first, last);

  useEffect(() => {
    const el = list.current;
    if (el === null) return;
    const ro = new ResizeObserver(() => setViewH(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // Measure what is drawn, then draw the edges between.
  useLayoutEffect(() => {
    const host = root.current;
    if (host === null) return;
    const base = host.getBoundingClientRect();
    anchors.clear();
    for (const el of host.querySelectorAll<HTMLElement>('[data-place]')) {
      const r = el.getBoundingClientRect();
      if (r.bottom < base.top - 20 || r.top > base.bottom + 20) continue;
      anchors.set(el.dataset['place']!, {
        x: r.left - base.left,
        y: r.top - base.top,
        w: r.width,
        h: r.height,
      });
    }
    const out: { d: string; kind: string; svc: string; to: string }[] = [];
    const curve = (a: Box, b: Box) => {
      const x1 = a.x + a.w;
      const y1 = a.y + a.h / 2;
      const x2 = b.x;
      const y2 = b.y + b.h / 2;
      const mx = (x1 + x2) / 2;
      return `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
    };
    const listBox = list.current?.getBoundingClientRect();
    const inList = (b: Box) =>
      listBox === undefined ||
      (b.y + b.h / 2 >= listBox.top - base.top && b.y + b.h / 2 <= listBox.bottom - base.top);
    for (const s of visible) {
      const from = anchors.get(`svc/${s.key}`);
      if (from === undefined || !inList(from)) continue;
      for (const e of epIndex.get(s.key) ?? []) {
        const pod = e.pod !== undefined ? store.pods.get(e.pod) : podByIp.get(e.ip);
        const to =
          (pod && anchors.get(`pod/${pod.key}`)) ?? (pod && anchors.get(`more/${pod.node}`));
        if (to === undefined) continue;
        out.push({
          d: curve(from, to),
          kind: e.ready ? 'endpoint' : 'endpoint-notready',
          svc: s.key,
          to: pod?.key ?? e.ip,
        });
      }
    }
    for (const ing of store.ingresses.values()) {
      ing.rules.forEach((r, i) => {
        const from = anchors.get(`ing/${ing.key}/${i}`);
        const to = anchors.get(`svc/${r.service}`);
        if (from === undefined || to === undefined || !inList(to)) return;
        out.push({ d: curve(from, { ...to, w: 0 }), kind: 'ingress', svc: r.service, to: ing.key });
      });
    }
    setEdges(out);
  }, [version, scroll, viewH, filter, services.length]);

  const nodes = [...store.nodes.values()];
  return (
    <div class="topo" ref={root}>
      <div class="col col-left">
        <h3>Outside &amp; clients</h3>
        {(info?.sources ?? [])
          .filter((s) => s.kind === 'client' || s.kind === 'external')
          .map((s) => (
            <div class={`host ${s.kind}`} data-place={s.id} key={s.id}>
              <b>{s.kind}</b> <code>{s.ip}</code>
              <div class="muted">{s.label}</div>
            </div>
          ))}
        <div class="host router" data-place="router">
          <b>router</b> <span class="muted">node network</span>
        </div>
        <h3>Ingresses</h3>
        {store.ingresses.size === 0 && <div class="muted">none</div>}
        {[...store.ingresses.values()].map((ing) => (
          <div class="ingress" key={ing.key} data-ingress={ing.key}>
            <div class="ing-name">
              {ing.name}
              {ing.tls && <span class="badge">TLS</span>}
            </div>
            {ing.rules.map((r, i) => (
              <div
                class="ing-rule"
                data-place={`ing/${ing.key}/${i}`}
                key={i}
                title="send a request along this rule"
                onClick={() =>
                  onPick(
                    `http://${r.host === '*' ? 'localhost' : r.host}${r.path.startsWith('/') ? r.path : '/'}`,
                  )
                }
              >
                <code>
                  {r.host}
                  {r.path}
                </code>{' '}
                → {r.service.split('/')[1]}:{r.port}
              </div>
            ))}
          </div>
        ))}
      </div>
      <div class="col col-svc">
        <h3>
          Services <span class="muted">({services.length})</span>
        </h3>
        <div
          class="svc-list"
          ref={list}
          onScroll={(e) => setScroll((e.currentTarget as HTMLDivElement).scrollTop)}
        >
          <div style={{ height: `${services.length * ROW_H}px`, position: 'relative' }}>
            {visible.map((s, i) => (
              <div
                key={s.key}
                onClick={() =>
                  s.ports[0] &&
                  !s.headless &&
                  s.type !== 'ExternalName' &&
                  onPick(`${s.key}:${s.ports[0].port}`)
                }
              >
                <ServiceRow
                  s={s}
                  eps={epIndex.get(s.key) ?? []}
                  top={(first + i) * ROW_H}
                  hit={highlight.has(`svc/${s.key}`)}
                />
              </div>
            ))}
          </div>
        </div>
      </div>
      <div class="col col-nodes" onScroll={() => setScroll((x) => x + 0.0001)}>
        <h3>Nodes</h3>
        {nodes.map((n) => {
          const pods = podsByNode.get(n.name) ?? [];
          const ready = pods.filter((p) => p.ready).length;
          return (
            <div
              class={`node${highlight.has(`node/${n.name}`) ? ' hit' : ''}`}
              key={n.name}
              data-node={n.name}
            >
              <div class="node-head" data-place={`node/${n.name}`}>
                <b>{n.name}</b> <code>{n.ip}</code>{' '}
                <span class={`badge ${n.ready ? 'ok' : 'bad'}`}>
                  {n.ready ? 'Ready' : 'NotReady'}
                </span>{' '}
                <span class="muted">
                  {pods.length} pods, {ready} ready · kube-proxy {info?.mode ?? ''}
                </span>
                {nodePorts.length > 0 && (
                  <div class="nodeports">
                    NodePorts open here:{' '}
                    {nodePorts.map((np) => (
                      <code key={np.port} title={np.svc}>
                        {n.ip}:{np.port}
                      </code>
                    ))}
                  </div>
                )}
              </div>
              <div class="pods">
                {pods.slice(0, PODS_SHOWN).map((p) => (
                  <PodChip p={p} key={p.key} hit={highlight.has(`pod/${p.key}`)} />
                ))}
                {pods.length > PODS_SHOWN && (
                  <div class="pod more" data-place={`more/${n.name}`}>
                    +{pods.length - PODS_SHOWN} more
                  </div>
                )}
              </div>
            </div>
          );
        })}
        {(podsByNode.get('(unscheduled)') ?? []).length > 0 && (
          <div class="muted">{podsByNode.get('(unscheduled)')!.length} pods not scheduled</div>
        )}
      </div>
      <svg class="edges" aria-hidden="true">
        {edges.map((e, i) => (
          <path
            key={i}
            d={e.d}
            class={`edge ${e.kind}${highlight.has(`edge/${e.svc}/${e.to}`) ? ' hit' : ''}`}
            data-edge={e.kind}
            data-service={e.svc}
            data-to={e.to}
          />
        ))}
      </svg>
    </div>
  );
}
