// LoadBalancerRR, as kube-proxy's pkg/proxy/userspace/roundrobin.go (v1.25) and its
// roundrobin_test.go check it: endpoints handed out in turn, ClientIP affinity keeping a
// client on its endpoint until the timeout or a failed dial (sessionAffinityReset), and an
// endpoint change dropping the affinity of clients whose endpoint left.
import test from 'ava';
import { LoadBalancerRR } from '../../../src/proxy/userspace/balancer.ts';
import { seededRandom } from '../../../src/proxy/random.ts';

const KEY = 'testnamespace/foo:p/TCP';
const A = 0x0a000001; // client 10.0.0.1
const B = 0x0a000002;

function lb(now = { s: 0 }) {
  return { lb: new LoadBalancerRR(seededRandom(7), () => now.s), now };
}

test('no service, or no endpoints: no endpoint (ErrMissingServiceEntry / ErrMissingEndpoints)', (t) => {
  const { lb: b } = lb();
  t.is(b.nextEndpoint(KEY, A, false), undefined);
  b.newService(KEY, false, 0);
  b.setEndpoints(KEY, []);
  t.is(b.nextEndpoint(KEY, A, false), undefined);
});

test('round robin over the shuffled endpoints, whoever asks (TestLoadBalanceWorksWithMultipleEndpoints)', (t) => {
  const { lb: b } = lb();
  b.newService(KEY, false, 0);
  b.setEndpoints(KEY, ['endpoint:1', 'endpoint:2', 'endpoint:3']);
  const order = b.endpoints(KEY);
  t.deepEqual([...order].sort(), ['endpoint:1', 'endpoint:2', 'endpoint:3']);
  const got = [A, B, A, B, A, B].map((c) => b.nextEndpoint(KEY, c, false));
  t.deepEqual(got, [...order, ...order]);
});

test('the same set in another order changes nothing; a new set restarts the turn', (t) => {
  const { lb: b } = lb();
  b.newService(KEY, false, 0);
  b.setEndpoints(KEY, ['e:1', 'e:2', 'e:3']);
  const order = [...b.endpoints(KEY)];
  b.nextEndpoint(KEY, A, false);
  b.setEndpoints(KEY, ['e:3', 'e:1', 'e:2']);
  t.deepEqual(b.endpoints(KEY), order);
  t.is(b.nextEndpoint(KEY, A, false), order[1]);
  b.setEndpoints(KEY, ['e:1', 'e:2']);
  const two = b.endpoints(KEY);
  t.is(b.nextEndpoint(KEY, A, false), two[0]);
});

test('ClientIP affinity: each client keeps its endpoint (TestStickyLoadBalanceWorksWithMultipleEndpoints)', (t) => {
  const { lb: b } = lb();
  b.newService(KEY, true, 10800);
  b.setEndpoints(KEY, ['e:1', 'e:2', 'e:3']);
  const a = b.nextEndpoint(KEY, A, false);
  const bb = b.nextEndpoint(KEY, B, false);
  t.not(a, bb);
  for (let i = 0; i < 5; i++) {
    t.is(b.nextEndpoint(KEY, A, false), a);
    t.is(b.nextEndpoint(KEY, B, false), bb);
  }
});

test('a failed dial resets the client’s affinity: the next endpoint in turn, and it sticks', (t) => {
  const { lb: b } = lb();
  b.newService(KEY, true, 10800);
  b.setEndpoints(KEY, ['e:1', 'e:2', 'e:3']);
  const order = b.endpoints(KEY);
  t.is(b.nextEndpoint(KEY, A, false), order[0]);
  t.is(b.nextEndpoint(KEY, A, true), order[1]);
  t.is(b.nextEndpoint(KEY, A, false), order[1]);
});

test('affinity ends after ttlSeconds without use, and with the endpoint it named', (t) => {
  const { lb: b, now } = lb();
  b.newService(KEY, true, 10);
  b.setEndpoints(KEY, ['e:1', 'e:2', 'e:3']);
  const order = b.endpoints(KEY);
  t.is(b.nextEndpoint(KEY, A, false), order[0]);
  now.s = 9;
  t.is(b.nextEndpoint(KEY, A, false), order[0]); // used again at 9 s: kept
  now.s = 19.5;
  t.is(b.nextEndpoint(KEY, A, false), order[1]); // 10 s idle: the next in turn
  // The endpoint leaves: its clients forget it (removeStaleAffinity).
  b.setEndpoints(
    KEY,
    order.filter((e) => e !== order[1]),
  );
  const next = b.nextEndpoint(KEY, A, false);
  t.not(next, order[1]);
});
