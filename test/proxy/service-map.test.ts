import test from 'ava';
import { ServiceMap } from '../../src/proxy/service-map.ts';
import { ep, makeService, makeSlice, tcp } from './fixtures.ts';

const svc = (name: string, ip: string) =>
  makeService('default', name, {
    clusterIP: ip,
    ports: [
      { name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 },
      { name: 'metrics', port: 9090, protocol: 'TCP', targetPort: 9090 },
    ],
  });

test('services and slices fold into sorted service-port entries', (t) => {
  const m = new ServiceMap('node-a');
  m.updateService(undefined, svc('web', '10.96.0.10'));
  m.updateService(undefined, svc('api', '10.96.0.11'));
  m.updateEndpointSlice(
    makeSlice('default', 'web', 'web-1', [ep('10.244.1.5')], [tcp('http', 8080)]),
    false,
  );
  m.updateEndpointSlice(
    makeSlice(
      'default',
      'web',
      'web-2',
      [ep('10.244.2.5', { nodeName: 'node-a' })],
      [tcp('http', 8080)],
    ),
    false,
  );
  const s = m.snapshot();
  t.deepEqual(
    s.entries.map((e) => e.key),
    [
      'default/api:http/TCP',
      'default/api:metrics/TCP',
      'default/web:http/TCP',
      'default/web:metrics/TCP',
    ],
  );
  const web = s.byKey.get('default/web:http/TCP');
  t.deepEqual(
    web?.endpoints.map((e) => `${e.endpoint}${e.isLocal ? ' local' : ''}`),
    ['10.244.1.5:8080', '10.244.2.5:8080 local'],
  );
  t.is(s.byKey.get('default/web:metrics/TCP')?.endpoints.length, 0, 'no slice lists metrics');
  t.deepEqual([...s.changed].sort(), ['default/api', 'default/web']);
});

test('only changed services are reported; no-op updates keep the snapshot', (t) => {
  const m = new ServiceMap('node-a');
  const web = svc('web', '10.96.0.10');
  m.updateService(undefined, web);
  m.updateService(undefined, svc('api', '10.96.0.11'));
  const s1 = m.snapshot();
  t.false(m.pending);
  m.updateService(web, { ...web }); // same content
  const s2 = m.snapshot();
  t.is(s2.generation, s1.generation);
  t.is(s2.changed.size, 0);
  m.updateEndpointSlice(
    makeSlice('default', 'web', 'web-1', [ep('10.244.1.5')], [tcp('http', 8080)]),
    false,
  );
  t.true(m.pending);
  const s3 = m.snapshot();
  t.is(s3.generation, s1.generation + 1);
  t.deepEqual([...s3.changed], ['default/web']);
  t.is(
    s3.byKey.get('default/api:http/TCP'),
    s1.byKey.get('default/api:http/TCP'),
    'untouched entries are reused',
  );
});

test('deleting slices and services removes their endpoints and ports', (t) => {
  const m = new ServiceMap('node-a');
  const web = svc('web', '10.96.0.10');
  const slice = makeSlice('default', 'web', 'web-1', [ep('10.244.1.5')], [tcp('http', 8080)]);
  m.updateService(undefined, web);
  m.updateEndpointSlice(slice, false);
  t.is(m.snapshot().byKey.get('default/web:http/TCP')?.endpoints.length, 1);
  m.updateEndpointSlice(slice, true);
  t.is(m.snapshot().byKey.get('default/web:http/TCP')?.endpoints.length, 0);
  m.updateService(web, undefined);
  t.is(m.snapshot().entries.length, 0);
});

test('slices without the service-name label, and headless services, are ignored', (t) => {
  const m = new ServiceMap('node-a');
  m.updateService(undefined, svc('web', 'None'));
  const slice = makeSlice('default', 'web', 'web-1', [ep('10.244.1.5')], [tcp('http', 8080)]);
  m.updateEndpointSlice({ ...slice, metadata: { name: 'web-1', namespace: 'default' } }, false);
  t.is(m.snapshot().entries.length, 0);
  t.false(m.pending);
});

test('a slice arriving before its service is kept until the service appears', (t) => {
  const m = new ServiceMap('node-a');
  m.updateEndpointSlice(
    makeSlice('default', 'web', 'web-1', [ep('10.244.1.5')], [tcp('http', 8080)]),
    false,
  );
  t.is(m.snapshot().entries.length, 0);
  m.updateService(undefined, svc('web', '10.96.0.10'));
  t.is(m.snapshot().byKey.get('default/web:http/TCP')?.endpoints.length, 1);
});

test('incremental snapshots list the same entries, in the same order, as a fresh fold', (t) => {
  // xorshift: a fixed random sequence of adds, updates and deletes over 40 services.
  let x = 0x2545f491;
  const rand = (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const m = new ServiceMap('node-a');
  const services = new Map<string, ReturnType<typeof svc>>();
  const slices = new Map<string, ReturnType<typeof makeSlice>>();
  for (let step = 0; step < 400; step++) {
    const name = `s${rand(40)}`;
    const op = rand(4);
    if (op === 0) {
      const old = services.get(name);
      const next = svc(name, `10.96.1.${rand(250) + 1}`);
      m.updateService(old, next);
      services.set(name, next);
    } else if (op === 1 && services.has(name)) {
      m.updateService(services.get(name), undefined);
      services.delete(name);
    } else if (op === 2) {
      const s = makeSlice(
        'default',
        name,
        `${name}-1`,
        Array.from({ length: rand(4) }, (_, k) => ep(`10.244.${rand(3)}.${k + 1}`)),
        [tcp('http', 8080)],
      );
      m.updateEndpointSlice(s, false);
      slices.set(name, s);
    } else if (slices.has(name)) {
      m.updateEndpointSlice(slices.get(name)!, true);
      slices.delete(name);
    }
    if (rand(3) > 0) continue;
    const snap = m.snapshot();
    // Read entries only now and then, so several changes merge into one rebuild.
    if (rand(2) === 0) continue;
    const fresh = new ServiceMap('node-a');
    for (const s of services.values()) fresh.updateService(undefined, s);
    for (const s of slices.values()) fresh.updateEndpointSlice(s, false);
    const want = fresh.snapshot().entries;
    t.deepEqual(
      snap.entries.map((e) => e.key),
      want.map((e) => e.key),
    );
    t.deepEqual(JSON.stringify(snap.entries), JSON.stringify(want));
    t.is(snap.byKey.size, want.length);
    for (const e of snap.entries) t.is(snap.byKey.get(e.key), e);
  }
});

test('a snapshot keeps the entries it read; unread entries of a superseded snapshot throw', (t) => {
  const m = new ServiceMap('node-a');
  m.updateService(undefined, svc('web', '10.96.0.10'));
  const s1 = m.snapshot();
  const read = s1.entries;
  m.updateService(undefined, svc('api', '10.96.0.11'));
  const s2 = m.snapshot();
  m.updateService(undefined, svc('db', '10.96.0.12'));
  const s3 = m.snapshot();
  t.is(s1.entries, read, 'entries read before the change stay as they were');
  t.is(s1.entries.length, 2);
  t.throws(() => s2.entries, { message: /generation 2 read after generation 3/ });
  t.is(s3.entries.length, 6);
  t.is(m.snapshot().entries, s3.entries, 'a no-change snapshot shares the sorted list');
});
