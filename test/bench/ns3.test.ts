// bench/ns3/parse.ts: why the ns-3 suite skips, the flags it compiles with, and the result
// lines it reads. No ns-3 needed, no timing.
import test from 'ava';
import {
  compilerFlags,
  parseNs3Output,
  parseSimOutput,
  rates,
  skipReason,
} from '../../bench/ns3/parse.ts';

test('skipReason names what is missing, in order, and is undefined when all is there', (t) => {
  t.regex(skipReason({ compiler: 'g++', pkgConfig: false, missingModules: [] })!, /pkg-config/);
  t.regex(
    skipReason({ compiler: 'g++', pkgConfig: true, missingModules: ['ns3-core', 'ns3-internet'] })!,
    /ns-3 not installed: .*ns3-core, ns3-internet.*libns3-dev/,
  );
  t.regex(skipReason({ compiler: undefined, pkgConfig: true, missingModules: [] })!, /C\+\+/);
  t.is(skipReason({ compiler: 'c++', pkgConfig: true, missingModules: [] }), undefined);
});

test("compilerFlags drops absent absolute paths, the .pc file's escaped list and duplicates", (t) => {
  const pc =
    '-I/usr\\; -I/usr/include/libxml2 -lns3-core -lns3-core -lns3-internet /usr/lib/libgsl.so /usr/lib/libsqlite3.so \n';
  t.deepEqual(
    compilerFlags(pc, (p) => p === '/usr/lib/libsqlite3.so'),
    ['-I/usr/include/libxml2', '-lns3-core', '-lns3-internet', '/usr/lib/libsqlite3.so'],
  );
});

test('parseNs3Output reads the NS3_JSON line and refuses a missing or malformed one', (t) => {
  const line =
    'NS3_JSON {"routing":"hashed","clients":10,"requests":2,"packets":340,"completed":20,"failed":0,"wallS":0.5,"cpuS":0.25,"virtualS":0.01}';
  const r = parseNs3Output(`noise\n${line}\n`);
  if (r instanceof Error) return t.fail(r.message);
  t.is(r.packets, 340);
  t.is(r.routing, 'hashed');
  t.deepEqual(rates(r), { perWall: 680, perCpu: 1360 });
  t.true(parseNs3Output('nothing here') instanceof Error);
  t.true(parseNs3Output('NS3_JSON {"routing":"x"') instanceof Error);
  t.regex((parseNs3Output(line.replace('"cpuS":0.25', '"cpuS":"fast"')) as Error).message, /cpuS/);
});

const fig = (metric: string, v: number) => ({
  metric,
  unit: 'u',
  min: v,
  median: v,
  max: v,
  samples: 1,
});

test("parseSimOutput reads bench/sim.ts's figures, and an older sim.ts's rate × wall", (t) => {
  const json = (figures: object[]) =>
    `sim: ...\nBENCH_JSON ${JSON.stringify({ suite: 'sim', figures })}\n`;
  const base = [
    fig('http-requests-wall', 2),
    fig('http-requests-cpu', 4),
    fig('requests-completed', 100),
  ];
  t.deepEqual(parseSimOutput(json([...base, fig('dataplane-packets', 1000)])), {
    packets: 1000,
    completed: 100,
    wallS: 2,
    cpuS: 4,
  });
  t.deepEqual(parseSimOutput(json([...base, fig('sim-packets', 450)])), {
    packets: 900,
    completed: 100,
    wallS: 2,
    cpuS: 4,
  });
  t.true(parseSimOutput(json(base)) instanceof Error);
  t.true(parseSimOutput('no json') instanceof Error);
});
