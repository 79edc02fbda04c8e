// The Linux lab end to end (root): `svclab lab up` with the seed's deployment and
// Services in ipvs mode, then real curl, dig, ping and tcpdump in the namespaces, live
// views, a killed and a deleted pod, `lab down` — and nothing with the prefix is left.
// Elsewhere (not root, no TUN addon, tools missing) it skips with the reason.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupLab } from '../../src/lab/cleanup.ts';
import { request } from '../../src/lab/client.ts';
import type { LabStatus } from '../../src/lab/daemon.ts';
import { devicePrefix } from '../../src/lab/names.ts';
import { labPaths } from '../../src/lab/state.ts';
import { tunSupport } from '../../src/lab/tun.ts';

const PREFIX = `svl-t${process.pid}-`;
const SEED = 'scenarios/seed/manifests';
const BIN = 'bin/svclab.js';

function whyNot(): string | undefined {
  const s = tunSupport();
  if (!s.ok) return s.reason;
  for (const tool of ['ip', 'curl', 'dig', 'ping', 'tcpdump'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}
const skip = whyNot();

const ECHO = `apiVersion: apps/v1
kind: Deployment
metadata: { name: echo }
spec:
  replicas: 1
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
      - name: whoami
        image: traefik/whoami:v1.10
        ports: [{ containerPort: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: echo }
spec:
  type: NodePort
  selector: { app: echo }
  ports: [{ port: 80, targetPort: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: echo-local }
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: { app: echo }
  ports: [{ port: 80, targetPort: 80 }]
---
apiVersion: v1
kind: Service
metadata: { name: noep }
spec:
  selector: { app: nobody }
  ports: [{ port: 80, targetPort: 80 }]
`;

function svclab(args: string[]): { code: number; stdout: string; stderr: string } {
  // `lab SUB --prefix P …`: options before the arguments (exec passes the rest on).
  const argv = [...args.slice(0, 2), '--prefix', PREFIX, ...args.slice(2)];
  const r = spawnSync(process.execPath, [BIN, ...argv], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A command in one of the lab's namespaces (what `lab exec` runs). */
function inNs(netns: string, cmd: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('ip', ['netns', 'exec', netns, ...cmd], {
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function status(): Promise<LabStatus> {
  const r = await request(PREFIX, { cmd: 'status' });
  if (!r.ok || r.status === undefined) throw new Error('no status');
  return r.status;
}

async function show(what: string, node?: string): Promise<string> {
  const r = await request(PREFIX, { cmd: 'show', what, ...(node ? { node } : {}) });
  if (!r.ok) throw new Error(r.error);
  return r.stdout ?? '';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const client = `${PREFIX}client`;
const external = `${PREFIX}external`;
const curl = (ns: string, url: string) => inNs(ns, ['curl', '-sS', '-m', '3', url]);

function leftovers(): string[] {
  const ns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.startsWith(PREFIX));
  const dp = devicePrefix(PREFIX);
  const links = spawnSync('ip', ['-o', 'link'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(`: ${dp}`));
  const procs = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l.includes(PREFIX) && !l.includes('ps -eo'));
  const etc = existsSync('/etc/netns')
    ? readdirSync('/etc/netns').filter((n) => n.startsWith(PREFIX))
    : [];
  return [...ns, ...links, ...procs, ...etc];
}

if (skip !== undefined) {
  // Counted as skipped, not passed; the reason is printed.
  console.log(`lab tests skipped: ${skip}`);
  test.skip('lab (needs root, /dev/net/tun and the lab tools)', () => undefined);
} else {
  test.serial(
    'lab: up, real traffic, live views, pods replaced, down leaves nothing',
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), 'svclab-lab-'));
      const echo = join(dir, 'echo.yaml');
      writeFileSync(echo, ECHO);
      try {
        const up = svclab([
          'lab',
          'up',
          `${SEED}/svc-deployment.yaml`,
          `${SEED}/nodeport.yaml`,
          `${SEED}/svc-none.yaml`,
          `${SEED}/ex.yaml`,
          echo,
          '--proxy-mode',
          'ipvs',
        ]);
        t.is(up.code, 0, up.stderr);
        t.regex(up.stdout, /up \(ipvs mode\)/);
        const s = await status();
        t.true(s.ready);
        t.true(existsSync(labPaths(PREFIX).pidFile));
        const svc = await show('svc');
        const vip = /^myapp\s+NodePort\s+(\S+)\s+\S+\s+80:(\d+)\/TCP/m.exec(svc);
        t.truthy(vip, svc);
        const [, clusterIP, nodePort] = vip!;
        const myappPods = s.hosts.filter((h) => h.kind === 'pod' && h.name.startsWith('myapp-'));
        t.is(myappPods.length, 3);

        // curl through the ClusterIP, with `lab exec` itself (exit code passed on).
        const ex = svclab(['lab', 'exec', 'client', '--', 'curl', '-s', `http://${clusterIP}/`]);
        t.is(ex.code, 0, ex.stderr);
        t.is(ex.stdout, 'Hello MyApp | Version: v2 | <a href="hostname.html">Pod Name</a>\n');
        t.is(svclab(['lab', 'exec', 'client', '--', 'sh', '-c', 'exit 3']).code, 3);

        // ipvs rr: the three pods in turn.
        const names = [0, 1, 2, 3, 4, 5].map(() =>
          curl(client, `http://${clusterIP}/hostname.html`).stdout.trim(),
        );
        t.deepEqual([...names.slice(0, 3)].sort(), myappPods.map((p) => p.name).sort());
        t.deepEqual(names.slice(3), names.slice(0, 3));

        // Cluster DNS at 10.96.0.10 through the dataplane, resolv.conf from /etc/netns.
        const headless = inNs(client, [
          'dig',
          '+short',
          'myapp-headless.default.svc.cluster.local',
        ]);
        t.deepEqual(headless.stdout.trim().split('\n').sort(), myappPods.map((p) => p.ip).sort());
        const cname = inNs(client, ['dig', 'my-service-1.default.svc.cluster.local']);
        t.regex(cname.stdout, /CNAME\s+hub\.atguigu\.com\./);
        t.regex(curl(client, 'http://myapp.default.svc.cluster.local/').stdout, /Hello MyApp/);
        t.regex(curl(client, 'http://myapp/').stdout, /Version: v2/, 'the search path');

        // NodePort from outside, on every node; the pod sees the node (masquerade)...
        for (const node of ['10.0.100.10', '10.0.100.11', '10.0.100.12'])
          t.regex(curl(external, `http://${node}:${nodePort}/`).stdout, /Hello MyApp/, node);
        const echoSvc = /^echo\s+NodePort\s+\S+\s+\S+\s+80:(\d+)/m.exec(svc)!;
        const seen = curl(external, `http://10.0.100.11:${echoSvc[1]}/`).stdout;
        t.regex(seen, /Hostname: echo-/);
        t.notRegex(seen, /RemoteAddr: 192\.168\.1\.100:/);
        // ...unless externalTrafficPolicy is Local: then on the pod's node, the client itself.
        const localSvc = /^echo-local\s+NodePort\s+\S+\s+\S+\s+80:(\d+)/m.exec(svc)!;
        const echoNode = s.hosts.find((h) => h.name.startsWith('echo-'))!.node!;
        const nodeIP = s.hosts.find((h) => h.kind === 'node' && h.name === echoNode)!.ip;
        t.regex(
          curl(external, `http://${nodeIP}:${localSvc[1]}/`).stdout,
          /RemoteAddr: 192\.168\.1\.100:/,
        );

        // No endpoints: refused (ICMP port unreachable → curl exit 7).
        const noep = /^noep\s+ClusterIP\s+(\S+)/m.exec(svc)!;
        t.is(curl(client, `http://${noep[1]}/`).code, 7);
        // ping of a ClusterIP in ipvs mode: KUBE-IPVS-FILTER rejects what is no virtual
        // service (as the simulation does): an ICMP error, no echo reply.
        const ping = inNs(client, ['ping', '-c', '1', '-W', '2', clusterIP!]);
        t.not(ping.code, 0);
        t.notRegex(ping.stdout, /bytes from/);

        // tcpdump inside a pod's namespace sees the DNATed packets (to the pod IP).
        const pod = myappPods[0]!;
        const dump = spawn(
          'ip',
          ['netns', 'exec', pod.netns, 'tcpdump', '-nli', pod.dev, '-c', '2', 'tcp', 'port', '80'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        );
        let dumped = '';
        dump.stdout.on('data', (d: Buffer) => (dumped += d.toString()));
        let listening = false;
        dump.stderr.on('data', (d: Buffer) => (listening ||= d.toString().includes('listening')));
        for (const end = Date.now() + 15_000; Date.now() < end && !listening;) await sleep(100);
        for (let i = 0; i < 3; i++) curl(client, `http://${clusterIP}/`);
        const dumpDone = new Promise((r) => dump.on('exit', r));
        await Promise.race([dumpDone, sleep(5000)]);
        dump.kill();
        t.regex(dumped, new RegExp(`> ${pod.ip.replaceAll('.', '\\.')}\\.80:`), dumped);

        // conntrack on the client's node lists the flows, DNAT visible in the reply tuple.
        const ct = await show('conntrack');
        t.regex(
          ct,
          new RegExp(
            `dst=${clusterIP!.replaceAll('.', '\\.')} sport=\\d+ dport=80 src=10\\.244\\.`,
          ),
        );
        t.regex(await show('ipvs'), /rr/);

        // lab apply / delete -f: a Service appears, kube-proxy syncs it, it answers; then goes.
        const late = join(dir, 'late.yaml');
        writeFileSync(
          late,
          'apiVersion: v1\nkind: Service\nmetadata: { name: late }\n' +
            'spec: { selector: { app: myapp }, ports: [{ port: 8080, targetPort: 80 }] }\n',
        );
        const applied = await request(PREFIX, { cmd: 'apply', files: [late] });
        t.true(applied.ok && applied.stdout === 'service/late created\n', JSON.stringify(applied));
        const lateIP = /^late\s+ClusterIP\s+(\S+)/m.exec(await show('svc'))![1]!;
        let lateOut = '';
        for (
          const end = Date.now() + 15_000;
          Date.now() < end && !lateOut.includes('Hello MyApp');
        ) {
          await sleep(250);
          lateOut = curl(client, `http://${lateIP}:8080/`).stdout;
        }
        t.regex(lateOut, /Hello MyApp/);
        const deleted = await request(PREFIX, { cmd: 'delete', files: [late] });
        t.true(
          deleted.ok && deleted.stdout === 'service "late" deleted\n',
          JSON.stringify(deleted),
        );
        t.notRegex(await show('svc'), /^late\s/m);

        // A killed worker: its pod turns not Ready and kube-proxy's next sync (at most its
        // 1 s min-sync-period later) takes it out of IPVS; new connections go to the others
        // until the restarted worker is Ready again.
        process.kill(pod.pid!, 'SIGKILL');
        const podRs = `${pod.ip}:80`;
        // Gone, or weight 0 while its connections drain (kube-proxy's graceful termination).
        const serving = new RegExp(`-> ${podRs.replaceAll('.', '\\.')}\\s+Masq\\s+1\\s`);
        let gone = false;
        for (const end = Date.now() + 20_000; Date.now() < end && !gone;) {
          await sleep(50);
          gone = !serving.test(await show('ipvs'));
        }
        t.true(gone, 'the killed pod left the virtual service');
        const after = [0, 1, 2, 3].map(() => curl(client, `http://${clusterIP}/hostname.html`));
        t.true(
          after.every((r) => r.code === 0),
          JSON.stringify(after),
        );
        t.false(after.some((r) => r.stdout.trim() === pod.name));

        // A deleted pod: a replacement with a new IP starts serving.
        const del = await request(PREFIX, {
          cmd: 'delete-object',
          kind: 'Pod',
          namespace: 'default',
          name: pod.name,
          gracePeriodSeconds: 0,
        });
        t.true(del.ok);
        let fresh: LabStatus['hosts'][number] | undefined;
        for (let i = 0; i < 100 && fresh === undefined; i++) {
          await sleep(200);
          fresh = (await status()).hosts.find(
            (h) =>
              h.kind === 'pod' &&
              h.name.startsWith('myapp-') &&
              h.ready === true &&
              !myappPods.some((p) => p.name === h.name),
          );
        }
        t.truthy(fresh, 'a replacement pod');
        t.false(
          myappPods.some((p) => p.ip === fresh!.ip),
          'with a new IP',
        );
        t.is(curl(client, `http://${fresh!.ip}/hostname.html`).stdout.trim(), fresh!.name);
        t.false(
          spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout.includes(pod.netns),
          "the deleted pod's namespace is gone",
        );

        const down = svclab(['lab', 'down']);
        t.is(down.code, 0, down.stderr);
        t.deepEqual(leftovers(), []);
        t.is(svclab(['lab', 'down']).code, 0, 'idempotent');
      } finally {
        spawnSync(process.execPath, [BIN, 'lab', 'down', '--prefix', PREFIX]);
        await cleanupLab(PREFIX);
        rmSync(labPaths(PREFIX).dir, { recursive: true, force: true });
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
