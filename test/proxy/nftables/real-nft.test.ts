// The real nft 1.0.6 reads svclab's `nft list ruleset` back and prints the same
// text: the rule syntax, the object order (sets before chains, each in creation
// order) and the element order are nft's own. One thing is normalised, because nft
// itself does it: kube-proxy writes source ranges as `{ a, b }`; when nft merges them
// into one interval it prints `{ a/n }`, and reading that back it prints `a/n` (the
// first test below shows nft doing so). Runs in a throw-away network namespace
// `svl-test-<pid>-<random>`, deleted whatever happens; skipped (with the reason in
// its title) without root, nft or ip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { dumpTransaction } from '../../../src/proxy/nftables/dump.ts';
import { nftProxier } from './fixture.ts';
import { GOLDEN_NODE, GOLDEN_OPTIONS, goldenServices, goldenSlices } from './golden-fixture.ts';
import { randomServices } from './random-services.ts';

/** The system binary: node_modules/.bin on the test PATH has an unrelated `nft`. */
function systemBinary(name: string): string | undefined {
  return ['/usr/sbin', '/sbin', '/usr/bin', '/bin']
    .map((d) => `${d}/${name}`)
    .find((p) => existsSync(p));
}

const NFT = systemBinary('nft');
const IP = systemBinary('ip') ?? 'ip';
const missing: string[] = [];
if (process.getuid?.() !== 0) missing.push('root');
if (NFT === undefined) missing.push('nft');
if (systemBinary('ip') === undefined) missing.push('ip');

const namespaces = () => execFileSync(IP, ['netns', 'list'], { encoding: 'utf8' });

/** Load `text` with nft -f in a fresh namespace and return `nft list ruleset`. */
function roundTrip(t: ExecutionContext, text: string): string {
  const ns = `svl-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  t.log(`namespace ${ns}`);
  execFileSync(IP, ['netns', 'add', ns]);
  try {
    execFileSync(IP, ['netns', 'exec', ns, NFT!, '-f', '-'], { input: text });
    return execFileSync(IP, ['netns', 'exec', ns, NFT!, 'list', 'ruleset'], {
      encoding: 'utf8',
    });
  } finally {
    execFileSync(IP, ['netns', 'delete', ns]);
    t.false(namespaces().includes(ns), `${ns} deleted`);
  }
}

/** nft prints a one-element anonymous set it did not merge itself without braces. */
const reloaded = (text: string) => text.replace(/ \{ ([^,{}]+) \} drop$/gm, ' $1 drop');

if (missing.length > 0) {
  test.skip(`real nft round trip (skipped: needs ${missing.join(', ')})`, () => {});
} else {
  test('nft itself prints merged source ranges in braces, and bare once reloaded', (t) => {
    const table = (rule: string) =>
      `table ip kube-proxy {\n\tchain firewall-x {\n\t\t${rule}\n\t}\n}\n`;
    const merged = table('ip saddr != { 10.0.0.0/24 } drop');
    t.is(roundTrip(t, table('ip saddr != { 10.0.0.0/25, 10.0.0.128/25 } drop')), merged);
    t.is(roundTrip(t, merged), table('ip saddr != 10.0.0.0/24 drop'));
    t.is(reloaded(merged), table('ip saddr != 10.0.0.0/24 drop'));
  });

  test('real nft prints the empty table back unchanged', (t) => {
    const text = nftProxier([], [], GOLDEN_OPTIONS).listRuleset();
    t.is(roundTrip(t, text), text);
  });

  test('real nft prints the golden service set back unchanged', (t) => {
    const text = nftProxier(goldenServices(), goldenSlices(), GOLDEN_OPTIONS).listRuleset();
    t.is(roundTrip(t, text), text);
  });

  test('real nft prints the v1.30-v1.33 layout back unchanged', (t) => {
    const text = nftProxier(goldenServices(), goldenSlices(), {
      ...GOLDEN_OPTIONS,
      version: 'v1.33.0',
    }).listRuleset();
    t.true(text.includes('chain filter-output-post-dnat {'));
    t.is(roundTrip(t, text), text);
  });

  test("real nft loads kube-proxy's transaction (dump.ts) into what svclab lists", (t) => {
    const px = nftProxier(goldenServices(), goldenSlices(), GOLDEN_OPTIONS);
    const tx = dumpTransaction(px.ruleset);
    t.true(tx.includes('add rule ip kube-proxy mark-for-masquerade mark set mark or 0x4000\n'));
    t.is(roundTrip(t, tx), px.listRuleset());
  });

  test('real nft prints 300 random services back unchanged (element order, merging)', (t) => {
    const { services, slices } = randomServices(300, 20240601, GOLDEN_NODE);
    const text = nftProxier(services, slices, {
      ...GOLDEN_OPTIONS,
      serviceCIDRs: ['10.96.0.0/12', '172.30.0.0/16'],
    }).listRuleset();
    t.true(text.length > 100_000);
    t.not(reloaded(text), text, 'some source ranges merge into one interval');
    t.is(roundTrip(t, text), reloaded(text));
  });

  test("real nft agrees with nodePortAddresses 'all' and masqueradeAll", (t) => {
    const { services, slices } = randomServices(40, 7, GOLDEN_NODE);
    const text = nftProxier(services, slices, {
      ...GOLDEN_OPTIONS,
      nodePortAddresses: 'all',
      masqueradeAll: true,
    }).listRuleset();
    t.is(roundTrip(t, text), reloaded(text));
  });
}
