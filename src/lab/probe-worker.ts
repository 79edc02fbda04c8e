// Runs inside a namespace (`ip netns exec NS node … probe-worker.ts '<json request>'`):
// sends one probe and prints the ProbeResult as JSON on stdout.
import { type ProbeRequest, sendProbe } from './probe.ts';

const req = JSON.parse(process.argv[2] ?? '{}') as ProbeRequest;
try {
  console.log(JSON.stringify(await sendProbe(req)));
} catch (e) {
  console.error(`probe: ${(e as Error).message}`);
  process.exitCode = 1;
}
