import test from 'ava';
import { jsonpath } from '../../src/api/kubectl/jsonpath.ts';
import { splitWords } from '../../src/scenario/shell.ts';

const none = async () => '';

test('words, quotes and escapes split like a shell', async (t) => {
  t.deepEqual(await splitWords(`curl -H 'Host: a b' "x\\"y" z\\ w`, none), [
    'curl',
    '-H',
    'Host: a b',
    'x"y',
    'z w',
  ]);
  t.deepEqual(await splitWords('  a   b  ', none), ['a', 'b']);
  t.deepEqual(await splitWords(`x ''`, none), ['x', '']);
});

test('$(...) runs the inner command and splits its output', async (t) => {
  const seen: string[] = [];
  const sub = async (c: string) => {
    seen.push(c);
    return c.includes('ip') ? '10.96.0.7\n' : 'a b\n';
  };
  t.deepEqual(await splitWords(`curl $(get ip)/x`, sub), ['curl', '10.96.0.7/x']);
  t.deepEqual(await splitWords(`echo $(two words) end`, sub), ['echo', 'a', 'b', 'end']);
  t.deepEqual(seen, ['get ip', 'two words']);
  await t.throwsAsync(() => splitWords('echo $(oops', sub), { message: /unterminated \$\(/ });
  await t.throwsAsync(() => splitWords("echo 'oops", sub), { message: /unterminated '/ });
});

test('jsonpath picks fields, indexes and wildcards like kubectl', (t) => {
  const doc = {
    spec: { clusterIP: '10.1.2.3', ports: [{ nodePort: 30001 }, { nodePort: 30002 }] },
    items: [{ n: 'a' }, { n: 'b' }],
  };
  t.is(jsonpath('{.spec.clusterIP}', doc), '10.1.2.3');
  t.is(jsonpath('{.spec.ports[1].nodePort}', doc), '30002');
  t.is(jsonpath('{.spec.ports[-1].nodePort}', doc), '30002');
  t.is(jsonpath('{.items[*].n}', doc), 'a b');
  t.is(jsonpath('ip={.spec.clusterIP}{"\\n"}', doc), 'ip=10.1.2.3\n');
  t.is(jsonpath('{.missing.x}', doc), '');
});
