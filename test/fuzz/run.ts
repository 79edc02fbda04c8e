// `npm run fuzz`: 10 million mutated packets (spread over the proxy modes) and 20,000
// mutated manifests, reporting the counts; exits 1 on any exception, printing the first
// few with the packet or manifest that caused them. FUZZ_PACKETS, FUZZ_MANIFESTS and
// FUZZ_SEED (default: the time) change the counts and seed.
import { fuzzManifests } from './manifests.ts';
import { FUZZ_MODES, fuzzPackets } from './packets.ts';

const total = Number(process.env.FUZZ_PACKETS ?? 10_000_000);
const manifests = Number(process.env.FUZZ_MANIFESTS ?? 20_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const out = (s: string) => process.stdout.write(`${s}\n`);

out(`fuzz seed ${seed} (FUZZ_SEED=${seed} repeats this run)`);
let packets = 0;
let exceptions = 0;
const per = Math.ceil(total / FUZZ_MODES.length);
for (const mode of FUZZ_MODES) {
  const t0 = Date.now();
  // Chunks of a million: a fresh node and conntrack table each, so state cannot pile up.
  for (let done = 0, chunk = 0; done < per; chunk++) {
    const n = Math.min(1_000_000, per - done);
    const r = fuzzPackets(mode, n, seed + chunk);
    packets += r.packets;
    exceptions += r.exceptions;
    for (const s of r.samples) out(`EXCEPTION ${s}`);
    done += n;
  }
  out(`${mode}: ${per} packets in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
out(`packets: ${packets} through NodeDataplane.process, ${exceptions} exceptions`);
const t0 = Date.now();
const m = fuzzManifests(manifests, seed);
for (const s of m.samples) out(`EXCEPTION ${s}`);
out(
  `manifests: ${m.manifests} (${m.loaded} loaded and applied) in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${m.exceptions} exceptions`,
);
process.exitCode = exceptions + m.exceptions === 0 ? 0 : 1;
