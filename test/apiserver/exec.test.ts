// kubectl exec: the remote-command protocol over WebSocket (src/apiserver/exec.ts) against
// a stub API server with a fake runtime, driven by a `ws` client and by the real kubectl;
// the simulation's exec (sim-exec.ts) on a real Session; the lab's (lab/exec-stream.ts)
// in a network namespace of its own (root only).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
  request,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { parseManifestText } from '../../src/api/load.ts';
import { toApiObject } from '../../src/api/wire.ts';
import { handleExecUpgrade } from '../../src/apiserver/exec.ts';
import type { ClusterRuntime, ExecRequest, ExecStreams } from '../../src/apiserver/runtime.ts';
import { quoteLine, simExec, splitScript } from '../../src/scenario/pod-exec.ts';
import { Cluster } from '../../src/control/cluster.ts';
import { checkNetnsName, labExec } from '../../src/lab/exec-stream.ts';
import { splitWords } from '../../src/scenario/shell.ts';
import { Session } from '../../src/scenario/session.ts';

// ---- a stub API server with a fake runtime -----------------------------------------------

interface Stub {
  port: number;
  url: string;
  calls: ExecRequest[];
  /** What each upgrade asked for: method, Upgrade header, subprotocols offered. */
  upgrades: { method: string; upgrade: string; protocols: string }[];
  /** Set when a `cat` saw its stdin end, or an exec saw its abort. */
  events: string[];
  close(): Promise<void>;
}

const text = (c: Uint8Array | string) => (typeof c === 'string' ? c : Buffer.from(c).toString());

function fakeRuntime(cluster: Cluster, calls: ExecRequest[], events: string[]): ClusterRuntime {
  return {
    cluster,
    epochMs: Date.UTC(2024, 0, 1),
    logs: () => undefined,
    write: (fn) => fn(),
    nodeTool: () => Promise.resolve({ stdout: '', stderr: '', exitCode: 1 }),
    async exec(req: ExecRequest, s: ExecStreams): Promise<number> {
      calls.push(req);
      const [cmd, ...args] = req.command;
      switch (cmd) {
        case 'echo':
          s.stdout(`${args.join(' ')}\n`);
          return 0;
        case 'false':
          return 1;
        case 'fail':
          s.stdout('to stdout\n');
          s.stderr('to stderr\n');
          return Number(args[0] ?? 1);
        case 'cat': {
          let n = 0;
          for await (const c of s.stdin ?? []) {
            n += c.length;
            s.stdout(c);
          }
          events.push(`cat stdin ended after ${n} bytes`);
          return 0;
        }
        case 'big':
          s.stdout(Buffer.alloc(Number(args[0]), 0x61));
          return 0;
        case 'hang':
          await new Promise<void>((r) => s.signal.addEventListener('abort', () => r()));
          events.push('hang aborted');
          return 0;
        case 'throw':
          throw new Error('Internal error occurred: something broke');
        default:
          throw new Error(`exec: "${cmd}": executable file not found in $PATH`);
      }
    },
  };
}

function apply(cluster: Cluster, yaml: string): void {
  const r = parseManifestText(yaml, 'test.yaml', {});
  if (!r.ok) throw new Error(r.errors.map((e) => e.format()).join('\n'));
  cluster.apply(r.objects);
}

function testCluster(): Cluster {
  const cluster = new Cluster();
  apply(
    cluster,
    `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - {name: app, image: nginx}
---
apiVersion: v1
kind: Pod
metadata: {name: duo, namespace: default}
spec:
  containers:
  - {name: app, image: nginx}
  - {name: side, image: busybox}
---
apiVersion: v1
kind: Pod
metadata: {name: parked, namespace: default}
spec:
  nodeName: k8s-node09
  containers:
  - {name: app, image: nginx}
---
apiVersion: v1
kind: Pod
metadata: {name: nowhere, namespace: default}
spec:
  nodeSelector: {no-such-label: "x"}
  containers:
  - {name: app, image: nginx}
`,
  );
  cluster.advance(10e9);
  return cluster;
}

const json = (res: ServerResponse, code: number, body: unknown) => {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** Just what kubectl exec asks for: discovery, GET pod, and the exec upgrade. */
async function startStub(): Promise<Stub> {
  const cluster = testCluster();
  const calls: ExecRequest[] = [];
  const events: string[] = [];
  const upgrades: Stub['upgrades'] = [];
  const runtime = fakeRuntime(cluster, calls, events);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/api')
      return json(res, 200, {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }],
      });
    if (path === '/apis')
      return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
    if (path === '/api/v1')
      return json(res, 200, {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: [
          {
            name: 'pods',
            singularName: 'pod',
            namespaced: true,
            kind: 'Pod',
            verbs: ['get', 'list'],
            shortNames: ['po'],
          },
          {
            name: 'pods/exec',
            singularName: '',
            namespaced: true,
            kind: 'PodExecOptions',
            verbs: ['create', 'get'],
          },
        ],
      });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
    const pod = m === null ? undefined : cluster.get('Pod', m[1], m[2]!);
    if (pod !== undefined) return json(res, 200, toApiObject(pod));
    json(res, 404, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message:
        m === null
          ? 'the server could not find the requested resource'
          : `pods "${m[2]}" not found`,
      reason: 'NotFound',
      code: 404,
    });
  });
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    upgrades.push({
      method: req.method ?? '',
      upgrade: String(req.headers.upgrade ?? ''),
      protocols: String(req.headers['sec-websocket-protocol'] ?? ''),
    });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(
      new URL(req.url ?? '/', 'http://x').pathname,
    );
    if (m === null) return socket.destroy();
    handleExecUpgrade(req, socket, head, { namespace: m[1]!, pod: m[2]! }, runtime);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    calls,
    upgrades,
    events,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

// ---- a ws client speaking v5.channel.k8s.io ------------------------------------------------

interface WsResult {
  protocol: string;
  stdout: string;
  stderr: string;
  /** Channel 3, parsed. */
  status: Record<string, unknown> | undefined;
  closeCode: number;
  channels: number[];
}

function execQuery(command: string[], extra = 'stdout=true&stderr=true'): string {
  return `${command.map((c) => `command=${encodeURIComponent(c)}`).join('&')}&${extra}`;
}

function wsExec(
  stub: Stub,
  pod: string,
  query: string,
  o: {
    protocols?: string[];
    onOpen?: (ws: WebSocket) => void;
    onMessage?: (ws: WebSocket, channel: number, data: Buffer) => void;
  } = {},
): Promise<WsResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${stub.port}/api/v1/namespaces/default/pods/${pod}/exec?${query}`,
      o.protocols ?? ['v5.channel.k8s.io'],
    );
    const r: WsResult = {
      protocol: '',
      stdout: '',
      stderr: '',
      status: undefined,
      closeCode: 0,
      channels: [],
    };
    let errorText = '';
    ws.on('open', () => {
      r.protocol = ws.protocol;
      o.onOpen?.(ws);
    });
    ws.on('message', (data: Buffer) => {
      const ch = data[0]!;
      r.channels.push(ch);
      const body = data.subarray(1);
      if (ch === 1) r.stdout += body.toString();
      else if (ch === 2) r.stderr += body.toString();
      else if (ch === 3) errorText += body.toString();
      o.onMessage?.(ws, ch, body);
    });
    ws.on('close', (code) => {
      r.closeCode = code;
      r.status = errorText === '' ? undefined : (JSON.parse(errorText) as Record<string, unknown>);
      resolve(r);
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        reject(Object.assign(new Error(body), { statusCode: res.statusCode, body })),
      );
    });
    ws.on('error', (e) => reject(e));
  });
}

/** The HTTP answer to an upgrade that is refused (status code and body). */
async function refused(
  stub: Stub,
  pod: string,
  query: string,
  protocols?: string[],
): Promise<{ statusCode: number; body: string }> {
  try {
    await wsExec(stub, pod, query, protocols === undefined ? {} : { protocols });
  } catch (e) {
    const x = e as { statusCode?: number; body?: string };
    if (x.statusCode !== undefined) return { statusCode: x.statusCode, body: x.body ?? '' };
    throw e;
  }
  throw new Error('the upgrade was not refused');
}

let stub: Stub;
test.before(async () => {
  stub = await startStub();
});
test.after.always(async () => {
  await stub?.close();
});

// ---- protocol ----------------------------------------------------------------------------

test.serial(
  'v5: stdout and stderr on channels 1 and 2, Success on channel 3, then a normal close',
  async (t) => {
    const r = await wsExec(stub, 'web', execQuery(['echo', 'hello', 'world']));
    t.is(r.protocol, 'v5.channel.k8s.io');
    t.is(r.stdout, 'hello world\n');
    t.is(r.stderr, '');
    t.deepEqual(r.status, { metadata: {}, status: 'Success' });
    t.is(r.closeCode, 1000);
    // The kubelet's greeting (an empty stdout frame) comes first, the status last.
    t.is(r.channels[0], 1);
    t.is(r.channels.at(-1), 3);
    const call = stub.calls.at(-1)!;
    t.deepEqual(call, {
      namespace: 'default',
      pod: 'web',
      container: 'app',
      command: ['echo', 'hello', 'world'],
      stdin: false,
      tty: false,
    });
  },
);

test.serial('a non-zero exit is the NonZeroExitCode Status with an ExitCode cause', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['fail', '7']));
  t.is(r.stdout, 'to stdout\n');
  t.is(r.stderr, 'to stderr\n');
  t.like(r.status, {
    status: 'Failure',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '7' }] },
  });
  t.is(r.closeCode, 1000);
});

test.serial('a runtime that rejects: its message in a Failure Status', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['throw']));
  t.like(r.status, {
    status: 'Failure',
    reason: 'InternalError',
    message: 'Internal error occurred: something broke',
  });
});

test.serial('stdin: channel 0 reaches the command, [255, 0] (v5 close) ends it', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['cat'], 'stdin=true&stdout=true&stderr=true'), {
    onOpen: (ws) => {
      ws.send(Buffer.from('\x00line one\n'));
      ws.send(Buffer.from('\x00line two\n'));
      ws.send(Buffer.from([255, 0]));
    },
  });
  t.is(r.stdout, 'line one\nline two\n');
  t.deepEqual(r.status, { metadata: {}, status: 'Success' });
  t.true(stub.events.includes('cat stdin ended after 18 bytes'));
  t.true(stub.calls.at(-1)!.stdin);
});

test.serial('v4 is spoken too (stdin then ends when the client closes)', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['echo', 'v4']), {
    protocols: ['v4.channel.k8s.io', 'channel.k8s.io'],
  });
  t.is(r.protocol, 'v4.channel.k8s.io');
  t.is(r.stdout, 'v4\n');
  t.deepEqual(r.status, { metadata: {}, status: 'Success' });
});

test.serial('the client going away aborts the command', async (t) => {
  const before = stub.events.filter((e) => e === 'hang aborted').length;
  await new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${stub.port}/api/v1/namespaces/default/pods/web/exec?${execQuery(['hang'])}`,
      ['v5.channel.k8s.io'],
    );
    ws.on('open', () => setTimeout(() => ws.terminate(), 50));
    ws.on('close', () => resolve());
    ws.on('error', reject);
  });
  for (let i = 0; i < 50 && stub.events.filter((e) => e === 'hang aborted').length === before; i++)
    await new Promise((r) => setTimeout(r, 20));
  t.is(stub.events.filter((e) => e === 'hang aborted').length, before + 1);
});

test.serial(
  'malformed frames: a text message ends the exec with a Status, nothing throws',
  async (t) => {
    const r = await wsExec(stub, 'web', execQuery(['hang']), {
      onOpen: (ws) => ws.send('not binary'),
    });
    t.like(r.status, { status: 'Failure', reason: 'BadRequest' });
    t.regex(String(r.status?.['message']), /text message/);
    // Unknown channels, empty messages and a short close signal are ignored.
    const r2 = await wsExec(stub, 'web', execQuery(['echo', 'ok']), {
      onOpen: (ws) => {
        ws.send(Buffer.alloc(0));
        ws.send(Buffer.from([9, 1, 2]));
        ws.send(Buffer.from([255]));
        ws.send(Buffer.from([4, ...Buffer.from('{"Width":80,"Height":24}')]));
      },
    });
    t.is(r2.stdout, 'ok\n');
  },
);

test.serial('a stdin message over 1 MiB closes the connection (1009)', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['hang'], 'stdin=true&stdout=true'), {
    onOpen: (ws) => ws.send(Buffer.alloc((1 << 20) + 2)),
  });
  t.is(r.closeCode, 1009);
});

test.serial('large output is cut into frames and arrives whole', async (t) => {
  const r = await wsExec(stub, 'web', execQuery(['big', String(300_000)]));
  t.is(r.stdout.length, 300_000);
  t.true(r.channels.filter((c) => c === 1).length >= 5);
});

test.serial(
  'bad requests are refused before the upgrade, as the API server and kubelet answer',
  async (t) => {
    const noCmd = await refused(stub, 'web', 'stdout=true');
    t.is(noCmd.statusCode, 400);
    t.like(JSON.parse(noCmd.body), {
      kind: 'Status',
      reason: 'BadRequest',
      message: 'you must specify at least one command for the container',
    });

    const noStreams = await refused(stub, 'web', 'command=ls');
    t.is(noStreams.statusCode, 400);
    t.is(noStreams.body, 'you must specify at least 1 of stdin, stdout, stderr');

    const missing = await refused(stub, 'ghost', execQuery(['ls']));
    t.is(missing.statusCode, 404);
    t.like(JSON.parse(missing.body), { reason: 'NotFound', message: 'pods "ghost" not found' });

    const badContainer = await refused(
      stub,
      'web',
      execQuery(['ls'], 'stdout=true&container=nope'),
    );
    t.is(badContainer.statusCode, 400);
    t.like(JSON.parse(badContainer.body), { message: 'container nope is not valid for pod web' });

    const which = await refused(stub, 'duo', execQuery(['ls']));
    t.like(JSON.parse(which.body), {
      message: 'a container name must be specified for pod duo, choose one of: [app side]',
    });

    const unscheduled = await refused(stub, 'nowhere', execQuery(['ls']));
    t.is(unscheduled.statusCode, 400);
    t.like(JSON.parse(unscheduled.body), { message: 'pod nowhere does not have a host assigned' });

    const parked = await refused(stub, 'parked', execQuery(['ls']));
    t.is(parked.statusCode, 500);
    t.is(parked.body, 'container not found ("app")');

    const protocols = await refused(stub, 'web', execQuery(['ls']), ['base64.channel.k8s.io']);
    t.is(protocols.statusCode, 400);
    t.regex(JSON.parse(protocols.body).message, /requested protocol\(s\) are not supported/);
  },
);

test.serial(
  'query booleans as the API server reads them: "1", "true", anything but 0/false',
  async (t) => {
    await wsExec(stub, 'duo', execQuery(['echo'], 'stdout=1&stdin=0&tty=True&container=side'));
    t.like(stub.calls.at(-1), { container: 'side', stdin: false, tty: true });
  },
);

test.serial(
  "an SPDY upgrade (kubectl's fallback) is answered with a Status, never served",
  async (t) => {
    const res = await new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: stub.port,
        method: 'POST',
        path: `/api/v1/namespaces/default/pods/web/exec?${execQuery(['ls'])}`,
        headers: {
          connection: 'Upgrade',
          upgrade: 'SPDY/3.1',
          'x-stream-protocol-version': 'v4.channel.k8s.io',
        },
      });
      req.on('response', (r: IncomingMessage) => {
        let body = '';
        r.on('data', (d: Buffer) => (body += d.toString()));
        r.on('end', () => resolve({ statusCode: r.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    t.is(res.statusCode, 400);
    t.regex(JSON.parse(res.body).message, /WebSocket only/);
  },
);

// ---- the real kubectl ----------------------------------------------------------------------

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;
if (!hasKubectl) console.log('kubectl exec tests skipped: kubectl is not on PATH');
const kt = hasKubectl ? test.serial : test.serial.skip;

interface Run {
  stdout: string;
  stderr: string;
  status: number;
}

function kubectl(args: string[], input?: string): Promise<Run> {
  const home = mkdtempSync(join(tmpdir(), 'svclab-exec-'));
  const kubeconfig = join(home, 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: "${stub.url}"}}]
users: [{name: stub, user: {token: stub-token}}]
contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]
current-context: stub
`,
    { mode: 0o600 },
  );
  return new Promise((done) => {
    const child = spawn('kubectl', args, {
      env: { ...process.env, HOME: home, KUBECONFIG: kubeconfig },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(input ?? '');
    child.on('close', (status) => {
      rmSync(home, { recursive: true, force: true });
      done({ stdout, stderr, status: status ?? -1 });
    });
  });
}

kt('kubectl exec web -- echo hi: WebSocket GET offering v5.channel.k8s.io only', async (t) => {
  const n = stub.upgrades.length;
  const r = await kubectl(['exec', 'web', '--', 'echo', 'hi']);
  t.is(r.stdout, 'hi\n', r.stderr);
  t.is(r.stderr, '');
  t.is(r.status, 0);
  const ups = stub.upgrades.slice(n);
  t.deepEqual(ups, [{ method: 'GET', upgrade: 'websocket', protocols: 'v5.channel.k8s.io' }]);
  t.like(stub.calls.at(-1), {
    container: 'app',
    command: ['echo', 'hi'],
    stdin: false,
    tty: false,
  });
});

kt(
  'kubectl exec web -- false: exit code 1 and "command terminated with exit code 1"',
  async (t) => {
    const r = await kubectl(['exec', 'web', '--', 'false']);
    t.is(r.status, 1);
    t.is(r.stderr, 'command terminated with exit code 1\n');
    const r7 = await kubectl(['exec', 'web', '--', 'fail', '7']);
    t.is(r7.status, 7);
    t.is(r7.stdout, 'to stdout\n');
    t.is(r7.stderr, 'to stderr\ncommand terminated with exit code 7\n');
  },
);

kt(
  'echo data | kubectl exec -i web -- cat: stdin arrives, its EOF is the v5 close signal',
  async (t) => {
    const r = await kubectl(['exec', '-i', 'web', '--', 'cat'], 'data\nmore data\n');
    t.is(r.stdout, 'data\nmore data\n', r.stderr);
    t.is(r.status, 0);
    t.true(stub.events.includes('cat stdin ended after 15 bytes'));
    t.like(stub.calls.at(-1), { stdin: true, tty: false });
  },
);

kt("kubectl prints the runtime's error, and the refusals of a bad exec", async (t) => {
  const r = await kubectl(['exec', 'web', '--', 'throw']);
  t.is(r.status, 1);
  t.is(r.stderr, 'error: Internal error occurred: something broke\n');

  const n = stub.upgrades.length;
  const c = await kubectl(['exec', 'web', '-c', 'nope', '--', 'ls']);
  t.is(c.status, 1);
  t.is(c.stderr, 'Error from server (BadRequest): container nope is not valid for pod web\n');
  // A refused WebSocket upgrade is an "upgrade failure": kubectl retries with SPDY, which
  // gets the same answer, and prints that.
  t.deepEqual(
    stub.upgrades.slice(n).map((u) => `${u.method} ${u.upgrade}`),
    ['GET websocket', 'POST SPDY/3.1'],
  );

  const p = await kubectl(['exec', 'parked', '--', 'ls']);
  t.is(p.status, 1);
  t.is(p.stderr, 'error: unable to upgrade connection: container not found ("app")\n');

  const u = await kubectl(['exec', 'nowhere', '--', 'ls']);
  t.is(u.status, 1);
  t.is(u.stderr, 'Error from server (BadRequest): pod nowhere does not have a host assigned\n');
});

kt('kubectl -v=4 names the subprotocol it got', async (t) => {
  const r = await kubectl(['exec', 'web', '-v=4', '--', 'echo', 'x']);
  t.is(r.stdout, 'x\n');
  t.regex(r.stderr, /The subprotocol is v5\.channel\.k8s\.io/);
});

// ---- the simulation ------------------------------------------------------------------------

test.serial('sh -c scripts split into and-or lists; what is not supported says so', (t) => {
  t.deepEqual(splitScript("echo a; echo 'b; c' && false || echo $(echo d)\n# note\necho e"), [
    { op: ';', text: 'echo a' },
    { op: ';', text: "echo 'b; c'" },
    { op: '&&', text: 'false' },
    { op: '||', text: 'echo $(echo d)' },
    { op: ';', text: 'echo e' },
  ]);
  t.like(splitScript('cat x | grep y'), {
    unsupported: '"|" is not supported (svclab\'s sh runs simple commands only)',
  });
  t.true('unsupported' in splitScript('echo > f'));
  t.true('unsupported' in splitScript('echo $HOME'));
  t.true('unsupported' in splitScript('if true; then echo; fi'));
});

test.serial('argv is quoted so that the session splits it back unchanged', async (t) => {
  const argv = [
    'curl',
    '-H',
    "X-Name: it's",
    '',
    'a b',
    '$(no)',
    'tab\there',
    '"q"',
    'back\\slash',
  ];
  t.deepEqual(await splitWords(quoteLine(argv), async () => 'SUBSTITUTED'), argv);
});

interface Captured {
  stdout: string;
  stderr: string;
  code: number;
}

async function* chunks(parts: string[], delayMs = 0): AsyncIterable<Uint8Array> {
  for (const p of parts) {
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield Buffer.from(p);
  }
}

async function runSim(
  session: Session,
  pod: string,
  command: string[],
  o: { stdin?: AsyncIterable<Uint8Array>; tty?: boolean } = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await simExec(
    session,
    { namespace: 'default', pod, command, stdin: o.stdin !== undefined, tty: o.tty ?? false },
    {
      stdout: (c) => (stdout += text(c)),
      stderr: (c) => (stderr += text(c)),
      ...(o.stdin === undefined ? {} : { stdin: o.stdin }),
      signal: new AbortController().signal,
    },
  );
  return { stdout, stderr, code };
}

let session: Session | undefined;
let myapp = '';
async function seedSession(): Promise<Session> {
  if (session !== undefined) return session;
  const s = new Session({ mode: 'iptables', baseDir: process.cwd() });
  for (const f of ['svc-deployment.yaml', 'svc.yaml']) {
    const r = s.applyText(readFileSync(`scenarios/seed/manifests/${f}`, 'utf8'), f);
    if (r.exitCode !== 0) throw new Error(r.stderr);
  }
  s.runUntil(
    () =>
      s.cluster
        .list('Pod', 'default')
        .filter((p) => p.metadata.name.startsWith('myapp-') && p.status.phase === 'Running')
        .length === 3,
  );
  s.wait(5e9);
  myapp = s.cluster.list('Pod', 'default').find((p) => p.metadata.name.startsWith('myapp-deploy-'))!
    .metadata.name;
  session = s;
  return s;
}

test.serial('sim: curl the Service from a myapp pod', async (t) => {
  const s = await seedSession();
  const r = await runSim(s, myapp, ['curl', '-s', 'myapp.default.svc.cluster.local']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Hello MyApp/);
});

test.serial('sim: sh -c runs a script of files, builtins and session commands', async (t) => {
  const s = await seedSession();
  const r = await runSim(s, myapp, ['sh', '-c', 'cat /etc/resolv.conf; hostname && echo ok']);
  t.is(r.code, 0, r.stderr);
  t.is(
    r.stdout,
    'search default.svc.cluster.local svc.cluster.local cluster.local\n' +
      'nameserver 10.96.0.10\noptions ndots:5\n' +
      `${myapp}\nok\n`,
  );
  const hosts = await runSim(s, myapp, ['cat', '/etc/hosts']);
  t.regex(hosts.stdout, /^# Kubernetes-managed hosts file\./);
  t.regex(hosts.stdout, new RegExp(`\\t${myapp}\\n$`));

  const dig = await runSim(s, myapp, [
    '/bin/sh',
    '-c',
    'dig +short myapp.default.svc.cluster.local',
  ]);
  t.regex(dig.stdout, /^10\.\d+\.\d+\.\d+\n$/);

  const chain = await runSim(s, myapp, [
    'sh',
    '-c',
    'false && echo no || echo yes; exit 4; echo never',
  ]);
  t.is(chain.stdout, 'yes\n');
  t.is(chain.code, 4);

  const nf = await runSim(s, myapp, ['sh', '-c', 'wget -q -O - myapp']);
  t.is(nf.code, 127);
  t.is(nf.stderr, 'sh: wget: not found\n');

  const pipe = await runSim(s, myapp, ['sh', '-c', 'curl -s myapp | head -1']);
  t.is(pipe.code, 2);
  t.regex(pipe.stderr, /^sh: "\|" is not supported/);
});

test.serial(
  'sim: an executable the pod lacks fails as the runtime does (kubectl exits 1)',
  async (t) => {
    const s = await seedSession();
    const err = await t.throwsAsync(runSim(s, myapp, ['kubectl', 'get', 'pods']));
    t.regex(
      err!.message,
      /^Internal error occurred: error executing command in container: .*exec: "kubectl": executable file not found in \$PATH: unknown$/,
    );
    const code = await runSim(s, myapp, [
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      'http://myapp/nope',
    ]);
    t.is(code.stdout, '404');
  },
);

test.serial('sim: -i cat copies stdin; sh reads a script from a pipe (no prompt)', async (t) => {
  const s = await seedSession();
  const cat = await runSim(s, myapp, ['cat'], { stdin: chunks(['one\n', 'two']) });
  t.is(cat.stdout, 'one\ntwo');
  const sh = await runSim(s, myapp, ['sh'], {
    stdin: chunks(['hostname\necho a', 'b\nfalse\n']),
  });
  t.is(sh.stdout, `${myapp}\nab\n`);
  t.is(sh.code, 1);
  const ex = await runSim(s, myapp, ['sh'], { stdin: chunks(['exit 3\necho never\n']) });
  t.is(ex.code, 3);
  t.is(ex.stdout, '');
});

test.serial(
  'sim: -it sh is a line shell with a prompt, echo, backspace, Ctrl-C and exit',
  async (t) => {
    const s = await seedSession();
    const r = await runSim(s, myapp, ['sh'], {
      tty: true,
      stdin: chunks(['hostnamx\x7fe\r', 'ec', 'ho hi\r', 'junk\x03', 'exit 5\r'], 5),
    });
    t.is(r.code, 5);
    t.is(
      r.stdout,
      `/ # hostnamx\b \be\r\n${myapp}\r\n` +
        '/ # echo hi\r\nhi\r\n' +
        '/ # junk^C\r\n/ # exit 5\r\n',
    );
    t.is(r.stderr, '');
    // Ctrl-D on an empty line ends the shell with the last status.
    const d = await runSim(s, myapp, ['sh'], { tty: true, stdin: chunks(['false\r', '\x04'], 5) });
    t.is(d.code, 1);
    t.is(d.stdout, '/ # false\r\n/ # \r\n');
  },
);

test.serial('sim: Ctrl-C interrupts a running sleep in a tty', async (t) => {
  const s = await seedSession();
  const started = Date.now();
  const r = await runSim(s, myapp, ['sh'], {
    tty: true,
    stdin: chunks(['sleep 30\r', '\x03', 'exit\r'], 30),
  });
  t.true(Date.now() - started < 5000);
  t.is(r.code, 130);
  t.is(r.stdout, '/ # sleep 30\r\n^C\r\n/ # exit\r\n');
});

// ---- the lab -------------------------------------------------------------------------------

function labSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status !== 0)
    return 'ip netns is not usable';
  return undefined;
}
const labSkip = labSkipReason();
if (labSkip !== undefined) console.log(`lab exec tests skipped: ${labSkip}`);
const lt = labSkip === undefined ? test.serial : test.serial.skip;
const NETNS = `svlx${process.pid}-pod-default-exec`;

async function runLab(
  command: string[],
  o: { stdin?: AsyncIterable<Uint8Array>; tty?: boolean; signal?: AbortSignal } = {},
): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const code = await labExec(
    NETNS,
    {
      namespace: 'default',
      pod: 'exec',
      command,
      stdin: o.stdin !== undefined,
      tty: o.tty ?? false,
    },
    {
      stdout: (c) => (stdout += text(c)),
      stderr: (c) => (stderr += text(c)),
      ...(o.stdin === undefined ? {} : { stdin: o.stdin }),
      signal: o.signal ?? new AbortController().signal,
    },
  );
  return { stdout, stderr, code };
}

lt('lab: labExec runs argv in the namespace, with stdin, exit codes and not-found', async (t) => {
  const add = spawnSync('ip', ['netns', 'add', NETNS], { encoding: 'utf8' });
  t.is(add.status, 0, add.stderr);
  try {
    spawnSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    const addr = await runLab(['ip', '-o', 'addr']);
    t.is(addr.code, 0, addr.stderr);
    t.regex(addr.stdout, /^1: lo +inet 127\.0\.0\.1\/8/m);
    // Only lo: the namespace is not the machine's.
    t.is(addr.stdout.split('\n').filter((l) => l !== '' && !/^1: lo/.test(l)).length, 0);

    const cat = await runLab(['cat'], { stdin: chunks(['through ', 'stdin\n']) });
    t.is(cat.stdout, 'through stdin\n');

    const sh = await runLab(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    t.deepEqual(sh, { stdout: 'out\n', stderr: 'err\n', code: 3 });

    const env = await runLab(['sh', '-c', 'echo "$PATH"']);
    t.is(env.stdout, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');

    const quoted = await runLab(['printf', '%s|', "it's", '$(id)', 'a b']);
    t.is(quoted.stdout, "it's|$(id)|a b|");

    const missing = await t.throwsAsync(runLab(['no-such-command-svclab']));
    t.regex(
      missing!.message,
      /exec: "no-such-command-svclab": executable file not found in \$PATH: unknown$/,
    );

    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 200);
    const killed = await runLab(['sleep', '30'], { signal: ac.signal });
    t.true(Date.now() - started < 5000);
    t.is(killed.code, 128 + 15);

    if (spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux')) {
      const tty = await runLab(['sh', '-c', 'test -t 0 && test -t 1 && echo tty; stty size'], {
        tty: true,
        stdin: chunks([]),
      });
      t.is(tty.code, 0, tty.stderr);
      t.regex(tty.stdout, /tty\r?\n24 80\r?\n/);
    } else t.log('util-linux script is missing: the tty case is not tested');
  } finally {
    spawnSync('ip', ['netns', 'delete', NETNS]);
  }
  t.false(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(NETNS));
});

test.serial('lab: namespace names are checked before anything runs', async (t) => {
  t.is(checkNetnsName('svl-pod-default-myapp-1.x'), 'svl-pod-default-myapp-1.x');
  for (const bad of ['', '-n', '../x', 'a/b', 'a b', 'x;rm', 'a'.repeat(300)])
    t.throws(() => checkNetnsName(bad), { message: /bad lab namespace name/ });
  await t.throwsAsync(
    labExec(
      '--all',
      { namespace: 'd', pod: 'p', command: ['id'], stdin: false, tty: false },
      {
        stdout: () => undefined,
        stderr: () => undefined,
        signal: new AbortController().signal,
      },
    ),
    { message: /bad lab namespace name/ },
  );
});
