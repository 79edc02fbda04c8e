// `npm install` hook: build the TUN addon (native/build/Release/svclab_tun.node) with
// node-gyp. The addon only serves the Linux lab, so any failure here prints one line
// saying why, leaves the reason in native/build/BUILD_FAILED for `tunSupport()`, and
// exits 0: installation, simulation and everything else still work without it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const failedFile = join(here, 'build', 'BUILD_FAILED');

function skip(reason) {
  try {
    mkdirSync(join(here, 'build'), { recursive: true });
    writeFileSync(failedFile, reason + '\n');
  } catch {
    // Nowhere to leave the reason; the line below still says it.
  }
  console.log(`svclab: TUN addon not built (${reason}); simulation still works, the lab needs it.`);
  process.exit(0);
}

/** node-gyp as [command, ...args]: npm's own copy first (lifecycle scripts get it), then PATH. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    resolve(
      dirname(process.execPath),
      '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    ),
  ];
  for (const c of candidates) if (c && existsSync(c)) return [process.execPath, c];
  const onPath = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (onPath.status === 0) return ['node-gyp'];
  return ['npm', 'exec', '--yes=false', '--', 'node-gyp'];
}

if (process.env.SVCLAB_SKIP_NATIVE) skip('SVCLAB_SKIP_NATIVE is set');
if (process.platform !== 'linux') skip(`TUN devices need Linux, this is ${process.platform}`);

const cxx = (process.env.CXX ?? 'c++').split(' ')[0];
if (spawnSync(cxx, ['--version'], { stdio: 'ignore' }).status !== 0)
  skip(`no C++ compiler (${cxx} not found; install g++ or set CXX)`);

const [cmd, ...pre] = nodeGyp();
const args = [...pre, 'rebuild'];
// Headers: npm's config (npm_config_nodedir) if set, else the ones installed beside this
// node (distro and official tarballs ship include/node), else node-gyp downloads them.
const prefix = resolve(dirname(process.execPath), '..');
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include/node/node_api.h')))
  args.push(`--nodedir=${prefix}`);
const r = spawnSync(cmd, args, { cwd: here, encoding: 'utf8', env: process.env });
const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
if (process.env.SVCLAB_NATIVE_VERBOSE) process.stdout.write(out);
if (r.error) skip(`cannot run node-gyp: ${r.error.message}`);
if (r.status !== 0) {
  // The most telling line: a compiler error, else node-gyp's own last error.
  const lines = out.split('\n').map((l) => l.trim());
  const why =
    lines.find((l) => /error:/.test(l) && !l.startsWith('gyp')) ??
    lines.find((l) => /^[A-Za-z.]*(Error|Exception): /.test(l)) ??
    lines.find((l) => l.startsWith('gyp ERR! stack Error:')) ??
    lines.find((l) => l.startsWith('gyp ERR!')) ??
    `node-gyp exited with ${r.status}`;
  skip(`node-gyp rebuild failed: ${why.replace(/^gyp ERR! (stack )?/, '')}`);
}
console.log('svclab: built native/build/Release/svclab_tun.node');
