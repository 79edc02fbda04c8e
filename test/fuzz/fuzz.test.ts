// The fuzz suite as CI runs it: 100,000 mutated packets through NodeDataplane.process in
// every proxy mode and 10,000 mutated manifests through load → validate → apply, with no
// exception. `npm run fuzz` runs 10 million packets (test/fuzz/run.ts).
// SVCLAB_FUZZ_PACKETS, SVCLAB_FUZZ_MANIFESTS and SVCLAB_FUZZ_SEED change the counts and seed.
import test from 'ava';
import { fuzzManifests } from './manifests.ts';
import { FUZZ_MODES, fuzzPackets } from './packets.ts';

const PACKETS = Number(process.env.SVCLAB_FUZZ_PACKETS ?? 100_000);
const MANIFESTS = Number(process.env.SVCLAB_FUZZ_MANIFESTS ?? 10_000);
const SEED = Number(process.env.SVCLAB_FUZZ_SEED ?? 20261206);

for (const mode of FUZZ_MODES) {
  test(`${PACKETS} mutated packets through a ${mode}-mode node: no exception`, (t) => {
    const r = fuzzPackets(mode, PACKETS, SEED);
    t.log(`${r.packets} packets, verdicts ${JSON.stringify(r.verdicts)}`);
    if (r.badChecksumForwarded > 0)
      t.log(`${r.badChecksumForwarded} forwarded with a bad IPv4 header checksum`);
    t.is(r.packets, PACKETS);
    t.is(r.exceptions, 0, r.samples.join('\n\n'));
    // The mutations reach every outcome, not only the malformed-packet drop.
    t.true((r.verdicts.forward ?? 0) > 0 && (r.verdicts.drop ?? 0) > 0);
  });
}

test(`${MANIFESTS} mutated manifests through load, validate and apply: no exception`, (t) => {
  const r = fuzzManifests(MANIFESTS, SEED);
  t.log(`${r.manifests} manifests, ${r.loaded} loaded and applied`);
  t.is(r.manifests, MANIFESTS);
  t.is(r.exceptions, 0, r.samples.join('\n\n'));
  t.true(r.applied > 0);
});
