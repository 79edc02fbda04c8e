// The lab's ingress-nginx (root): the seed's controller, virtual hosts, HTTPS with the
// seed's TLS secret made by `lab create secret` (and the fake certificate for other
// hosts), the HTTP → HTTPS redirect and basic auth, all through the real NodePort with
// real curl from the external host.
// Elsewhere (not root, no TUN addon, tools missing) it skips with the reason.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { cleanupLab } from '../../src/lab/cleanup.ts';
import { labPaths } from '../../src/lab/state.ts';
import { tunSupport } from '../../src/lab/tun.ts';

const PREFIX = `svl-i${process.pid}-`;
const SEED = 'scenarios/seed/manifests';
const BIN = 'bin/svclab.js';
const NODE_IP = '10.0.100.10';

function whyNot(): string | undefined {
  const s = tunSupport();
  if (!s.ok) return s.reason;
  for (const tool of ['ip', 'curl', 'openssl'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed`;
  return undefined;
}
const skip = whyNot();

function svclab(args: string[]): { code: number; stdout: string; stderr: string } {
  const argv = [...args.slice(0, 2), '--prefix', PREFIX, ...args.slice(2)];
  const r = spawnSync(process.execPath, [BIN, ...argv], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** curl from the external host to HOST at the node's NodePort (as the seed resolves it). */
function curl(host: string, port: number, path: string, extra: string[] = []): string {
  const scheme = port === 31401 ? 'https' : 'http';
  const r = spawnSync(
    'ip',
    ['netns', 'exec', `${PREFIX}external`, 'curl', '-s', '-m', '5', ...extra].concat([
      '--resolve',
      `${host}:${port}:${NODE_IP}`,
      `${scheme}://${host}:${port}${path}`,
    ]),
    { encoding: 'utf8', timeout: 20_000 },
  );
  return `${r.stdout}${r.stderr}`;
}

if (skip !== undefined) {
  // Counted as skipped, not passed; the reason is printed.
  console.log(`lab ingress tests skipped: ${skip}`);
  test.skip('lab ingress (needs root, /dev/net/tun and the lab tools)', () => undefined);
} else {
  test.serial(
    'lab ingress-nginx: virtual hosts, TLS from the Secret, redirect, basic auth',
    async (t) => {
      try {
        const up = svclab(
          ['lab', 'up'].concat(
            [
              'ingress/mandatory.yaml',
              'ingress/service-nodeport.yaml',
              'ingress-vh/deployment.yaml',
              'ingress-vh/deployment2.yaml',
              'ingressrule.yaml',
              'https/deployment.yaml',
              'https.ingress.yaml',
              'basic-auth/ingress.yaml',
            ].map((f) => `${SEED}/${f}`),
            ['--proxy-mode', 'iptables', '--kubernetes-version', 'v1.15.1'],
          ),
        );
        t.is(up.code, 0, up.stderr);
        // The seed's `kubectl create secret tls …` and `create secret generic --from-file`.
        const tls = svclab(
          ['lab', 'create', 'secret', 'tls', 'tls-secret'].concat([
            '--key',
            `${SEED}/https/tls.key`,
            '--cert',
            `${SEED}/https/tls.crt`,
          ]),
        );
        t.is(tls.stdout, 'secret/tls-secret created\n', tls.stderr);
        const auth = svclab(
          ['lab', 'create', 'secret', 'generic', 'basic-auth'].concat([
            `--from-file=${SEED}/basic-auth/auth`,
          ]),
        );
        t.is(auth.stdout, 'secret/basic-auth created\n', auth.stderr);

        // Virtual hosts: one address and port, the Host header picks the Service.
        t.regex(curl('www1.atguigu.com', 32510, '/'), /Hello MyApp \| Version: v1/);
        t.regex(curl('www2.atguigu.com', 32510, '/'), /Hello MyApp \| Version: v2/);
        t.regex(curl('www2.atguigu.com', 32510, '/hostname.html'), /^deployment2-/);
        t.regex(curl('nobody.example', 32510, '/', ['-i']), /^HTTP\/1\.1 404 Not Found/);

        // HTTPS: the Ingress's Secret (CN=nginxsvc), real TLS; plain HTTP is redirected.
        const https = curl('www3.atguigu.com', 31401, '/', ['-k', '-v']);
        t.regex(https, /subject: CN\s*=\s*nginxsvc/);
        t.regex(https, /Hello MyApp \| Version: v3/);
        const redirect = curl('www3.atguigu.com', 32510, '/hostname.html', ['-i']);
        t.regex(redirect, /^HTTP\/1\.1 308 Permanent Redirect/);
        t.regex(redirect, /Location: https:\/\/www3\.atguigu\.com\/hostname\.html/i);
        // A host without a TLS Secret gets ingress-nginx's fake certificate.
        t.regex(
          curl('www1.atguigu.com', 31401, '/', ['-k', '-v']),
          /subject: O\s*=\s*Acme Co, CN\s*=\s*Kubernetes Ingress Controller Fake Certificate|subject: O=Acme Co; CN=Kubernetes Ingress Controller Fake Certificate/,
        );

        // No server name (an address in the URL): the default (fake) certificate, and the
        // Host header still picks the virtual host.
        const bare = spawnSync(
          'ip',
          ['netns', 'exec', `${PREFIX}external`, 'curl', '-sk', '-v', '-m', '5'].concat([
            '-H',
            'Host: www1.atguigu.com',
            `https://${NODE_IP}:31401/`,
          ]),
          { encoding: 'utf8', timeout: 20_000 },
        );
        t.regex(bare.stderr, /Kubernetes Ingress Controller Fake Certificate/);
        t.regex(bare.stdout, /Hello MyApp \| Version: v1/);

        // Basic auth from the htpasswd Secret.
        t.regex(curl('auth.atguigu.com', 32510, '/', ['-i']), /^HTTP\/1\.1 401 Unauthorized/);
        t.regex(curl('auth.atguigu.com', 32510, '/', ['-u', 'foo:bar']), /Hello MyApp/);
      } finally {
        svclab(['lab', 'down']);
        await cleanupLab(PREFIX);
        // `lab down` keeps the daemon's log; the test's own kubectl cache (HOME) is there too.
        rmSync(labPaths(PREFIX).dir, { recursive: true, force: true });
      }
      const left = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((l) => l.startsWith(PREFIX));
      t.deepEqual(left, []);
      // lab down drops the key material it kept (the secrets' manifests, the fake certificate).
      const dir = labPaths(PREFIX).dir;
      const kept = existsSync(dir)
        ? readdirSync(dir).filter((n) => /secret|ingress-fake/.test(n))
        : [];
      t.deepEqual(kept, []);
    },
  );
}
