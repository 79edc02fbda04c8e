// kube-proxy's userspace mode as a process on a simulated node (pkg/proxy/userspace
// proxysocket.go, v1.25): a socket per proxy port on the node's own stack, which the
// portal rules REDIRECT / DNAT clients to. Each accepted TCP connection gets a second
// connection, from the node to a backend the proxier picks round robin; the bytes are
// copied both ways through this process, and when one side ends both are closed. A
// dial that fails (refused, or no answer within 250 ms, 500 ms, 1 s, 2 s) moves on to the
// next backend with the client's affinity reset. UDP: per client address a "connection"
// (a socket of its own toward one backend), dropped after --udp-timeout of silence.
import type { TimerHandle } from '../control/clock.ts';
import type { SimNode } from '../control/node-setup.ts';
import { buildUdp, parseCidr } from '../packet/index.ts';
import type { ProxyRelay, RelayBackend } from '../proxy/relay.ts';
import type { SimHost } from './host.ts';
import type { TcpConnection } from './tcp/connection.ts';
import type { TcpListener } from './tcp/listener.ts';
import type { UdpSocket } from './udp.ts';

const NS_PER_MS = 1e6;

/** What the relay did, for tests and views (kube-proxy logs the same at V(3)). */
export interface RelayCounters {
  accepted: number;
  /** Dials to a backend that failed (refused, reset, or timed out). */
  dialFailures: number;
  /** Accepted connections closed because no backend could be reached. */
  noBackend: number;
  /** Bytes copied client → backend and backend → client (TCP and UDP). */
  bytesToBackend: number;
  bytesFromBackend: number;
  udpClients: number;
}

/** One line per relayed connection: `client -> node:proxyPort => backend`. */
export interface RelayEvent {
  readonly atNs: number;
  readonly proxyPort: number;
  readonly client: string;
  readonly backend: string;
  readonly outcome: 'connected' | 'refused' | 'timeout' | 'no-endpoints';
}

/** One UDP client's "connection": a socket toward its backend, and its idle timer. */
interface UdpClient {
  timer: TimerHandle | undefined;
  send: (bytes: Uint8Array) => void;
}

export class UserspaceRelay {
  readonly counters: RelayCounters = {
    accepted: 0,
    dialFailures: 0,
    noBackend: 0,
    bytesToBackend: 0,
    bytesFromBackend: 0,
    udpClients: 0,
  };
  /** The last relay events (bounded), newest last. */
  readonly events: RelayEvent[] = [];
  /** Proxy ports that could not be opened (taken on the node's stack), as kube-proxy logs them. */
  readonly openFailures: string[] = [];
  private readonly tcp = new Map<number, TcpListener>();
  private readonly udp = new Map<number, UdpSocket>();

  constructor(
    readonly host: SimHost,
    readonly relay: ProxyRelay,
  ) {
    relay.onPortsChanged = () => this.reconcile();
    this.reconcile();
  }

  /** Open a socket for every proxy port, close those of service ports that went away. */
  reconcile(): void {
    const want = new Map(this.relay.ports().map((p) => [p.proxyPort, p]));
    for (const [port, l] of this.tcp) {
      if (want.get(port)?.protocol === 'TCP') continue;
      l.close(); // established connections keep going (Listener.Close)
      this.tcp.delete(port);
    }
    for (const [port, s] of this.udp) {
      if (want.get(port)?.protocol === 'UDP') continue;
      s.close();
      this.udp.delete(port);
    }
    for (const p of want.values()) {
      try {
        if (p.protocol === 'TCP' && !this.tcp.has(p.proxyPort)) {
          const l = this.host.tcpListen(p.proxyPort, (c) => this.accept(p.proxyPort, c));
          this.tcp.set(p.proxyPort, l);
        } else if (p.protocol === 'UDP' && !this.udp.has(p.proxyPort)) {
          this.udp.set(p.proxyPort, this.udpLoop(p.proxyPort));
        }
      } catch (e) {
        // "Failed to start proxy for …": kube-proxy logs it and serves the other ports.
        this.openFailures.push(`${p.name} ${p.protocol} :${p.proxyPort}: ${(e as Error).message}`);
      }
    }
  }

  close(): void {
    for (const l of this.tcp.values()) l.close();
    for (const s of this.udp.values()) s.close();
    this.tcp.clear();
    this.udp.clear();
    this.relay.onPortsChanged = undefined;
  }

  private log(e: Omit<RelayEvent, 'atNs'>): void {
    this.events.push({ atNs: this.host.clock.now(), ...e });
    if (this.events.length > 1000) this.events.splice(0, 500);
  }

  // ---- TCP: tcpProxySocket.ProxyLoop, tryConnect, proxyTCP ----------------------------------

  private accept(proxyPort: number, inConn: TcpConnection): void {
    this.counters.accepted++;
    const pending: Uint8Array[] = [];
    let clientDone = false;
    inConn.onData = (b) => pending.push(b);
    inConn.onEnd = () => (clientDone = true);
    inConn.onClose = () => (clientDone = true);
    const client = `${inConn.remoteAddress}:${inConn.remotePort}`;
    const dial = (attempt: number, reset: boolean): void => {
      const timeouts = this.relay.dialTimeoutsMs;
      const ep =
        attempt < timeouts.length
          ? this.relay.nextEndpoint(proxyPort, inConn.remoteIp, reset)
          : undefined;
      if (ep === undefined) {
        // "Couldn't find an endpoint" / "failed to connect to an endpoint": inConn.Close().
        this.counters.noBackend++;
        if (attempt === 0) this.log({ proxyPort, client, backend: '-', outcome: 'no-endpoints' });
        if (pending.length > 0)
          inConn.destroy(); // unread data: close() sends RST
        else inConn.end();
        return;
      }
      const out = this.host.tcpConnect(ep.ip, ep.port);
      let timer: TimerHandle | undefined = this.host.clock.after(
        timeouts[attempt]! * NS_PER_MS,
        () => {
          timer = undefined;
          out.onClose = undefined;
          out.destroy();
          this.failed(proxyPort, client, ep, 'timeout');
          dial(attempt + 1, true);
        },
      );
      out.onClose = () => {
        this.host.clock.cancel(timer);
        timer = undefined;
        this.failed(proxyPort, client, ep, 'refused');
        dial(attempt + 1, true);
      };
      out.onConnect = () => {
        this.host.clock.cancel(timer);
        timer = undefined;
        this.log({ proxyPort, client, backend: ep.endpoint, outcome: 'connected' });
        this.pipe(inConn, out, pending, clientDone);
      };
    };
    dial(0, false);
  }

  private failed(
    proxyPort: number,
    client: string,
    ep: RelayBackend,
    outcome: 'refused' | 'timeout',
  ): void {
    this.counters.dialFailures++;
    this.log({ proxyPort, client, backend: ep.endpoint, outcome });
  }

  /** proxyTCP: copy both ways; when either side ends or fails, close both (copyBytes). */
  private pipe(
    inConn: TcpConnection,
    out: TcpConnection,
    pending: Uint8Array[],
    clientDone: boolean,
  ): void {
    const c = this.counters;
    const closeBoth = () => {
      inConn.end();
      out.end();
    };
    for (const b of pending) {
      c.bytesToBackend += b.length;
      out.write(b);
    }
    inConn.onData = (b) => {
      c.bytesToBackend += b.length;
      out.write(b);
    };
    out.onData = (b) => {
      c.bytesFromBackend += b.length;
      inConn.write(b);
    };
    inConn.onEnd = closeBoth;
    out.onEnd = closeBoth;
    inConn.onClose = closeBoth;
    out.onClose = closeBoth;
    if (clientDone) closeBoth();
  }

  // ---- UDP: udpProxySocket.ProxyLoop, getBackendConn, proxyClient ---------------------------

  private udpLoop(proxyPort: number): UdpSocket {
    const sock = this.host.udpBind(proxyPort);
    const clients = new Map<string, UdpClient>();
    const timeoutNs = this.relay.udpIdleTimeoutMs * NS_PER_MS;
    sock.onMessage = (bytes, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let cl = clients.get(key);
      if (cl === undefined) {
        const ep = this.relay.nextEndpoint(proxyPort, rinfo.ip, false);
        if (ep === undefined) {
          this.counters.noBackend++;
          this.log({ proxyPort, client: key, backend: '-', outcome: 'no-endpoints' });
          return;
        }
        this.counters.udpClients++;
        this.log({ proxyPort, client: key, backend: ep.endpoint, outcome: 'connected' });
        const conn = this.host.udpBind();
        const entry: UdpClient = { timer: undefined, send: () => undefined };
        const drop = () => {
          this.host.clock.cancel(entry.timer);
          conn.close();
          if (clients.get(key) === entry) clients.delete(key);
        };
        const arm = () => {
          this.host.clock.cancel(entry.timer);
          entry.timer = this.host.clock.after(timeoutNs, drop);
        };
        // The reply leaves from the address the client sent to (the REDIRECT target), as
        // the kernel picks it for the unconnected listening socket.
        const local = this.host.toU32(rinfo.localAddress);
        conn.onMessage = (reply, from) => {
          if (from.ip !== ep.ip || from.port !== ep.port) return;
          this.counters.bytesFromBackend += reply.length;
          arm();
          this.host.sendPacket(
            buildUdp({
              src: local,
              dst: rinfo.ip,
              sport: proxyPort,
              dport: rinfo.port,
              payload: reply,
              df: true,
            }),
          );
        };
        conn.onError = drop; // a connected socket reads ECONNREFUSED: proxyClient returns
        entry.send = (b) => {
          conn.send(ep.ip, ep.port, b);
          arm();
        };
        cl = entry;
        clients.set(key, entry);
      }
      this.counters.bytesToBackend += bytes.length;
      cl.send(bytes);
    };
    return sock;
  }
}

const RUNNING = new WeakMap<SimHost, UserspaceRelay>();

/** The userspace relay running on a node's stack, if its kube-proxy is in userspace mode. */
export function relayOn(host: SimHost): UserspaceRelay | undefined {
  return RUNNING.get(host);
}

/**
 * Run kube-proxy's userspace process on a simulated node whenever its proxier relays (the
 * userspace mode), following the node's kube-proxy as it restarts in another mode. While it
 * runs, the node's stack also answers on its pod-facing address (cni0's, where REDIRECT
 * sends pods' connections), REDIRECT learns the interfaces' addresses, and the node's own
 * packets to itself cross its dataplane (nat OUTPUT DNATs them to the proxy port and
 * conntrack un-NATs the answers), as the kernel's loopback path does.
 */
export function startUserspaceRelay(sim: SimNode, host: SimHost): void {
  const dp = sim.dataplane;
  const gateway = (parseCidr(sim.node.podCIDR).base + 1) >>> 0; // cni0's address, as node-setup.ts
  let running: UserspaceRelay | undefined;
  const follow = () => {
    running?.close();
    running = undefined;
    RUNNING.delete(host);
    host.loopback = undefined;
    const relay = dp.proxier.relay?.();
    if (relay === undefined) return;
    if (!host.addresses.includes(gateway)) host.addresses.push(gateway);
    bindRedirect(sim);
    host.loopback = (pkt) => host.transmit?.(pkt);
    running = new UserspaceRelay(host, relay);
    RUNNING.set(host, running);
  };
  // kube-proxy swaps the dataplane's proxier when its pod restarts in another mode.
  const setProxier = dp.setProxier.bind(dp);
  dp.setProxier = (p) => {
    setProxier(p);
    follow();
  };
  follow();
}

/**
 * REDIRECT's address: the primary address of the interface a packet came in on (cni0's
 * for pods, the node IP on eth0), read from the node's dataplane.
 */
export function bindRedirect(sim: SimNode): void {
  const relay = sim.dataplane.proxier.relay?.();
  if (relay !== undefined)
    relay.interfaceAddress = (name) => sim.dataplane.ifaces.find((i) => i.name === name)?.addr;
}

/** What kube-proxy's userspace process does with a connection that reached its port. */
export interface RelayHop {
  /** The service port listening there (`ns/name:port`). */
  readonly name: string;
  readonly protocol: string;
  readonly proxyPort: number;
  /** The backend LoadBalancerRR hands out next (undefined: no endpoints, the connection is closed). */
  readonly backend: RelayBackend | undefined;
}

/**
 * For `svclab trace`: when a packet was delivered to kube-proxy's port on a userspace node,
 * the service port behind it and the backend the relay dials (taking that turn of the round
 * robin, as the connection would).
 */
export function relayHop(sim: SimNode, localPort: number, clientIp: number): RelayHop | undefined {
  const relay = sim.dataplane.proxier.relay?.();
  const port = relay?.ports().find((p) => p.proxyPort === localPort);
  if (relay === undefined || port === undefined) return undefined;
  return {
    name: port.name,
    protocol: port.protocol,
    proxyPort: port.proxyPort,
    backend: relay.nextEndpoint(localPort, clientIp, false),
  };
}
