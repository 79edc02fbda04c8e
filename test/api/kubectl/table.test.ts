import test from 'ava';
import { renderTable } from '../../../src/api/kubectl/table.ts';

test('columns are padded to the widest cell plus three blanks; the last is not padded', (t) => {
  const out = renderTable(
    ['NAME', 'TYPE', 'AGE'],
    [
      ['kubernetes', 'ClusterIP', '5d'],
      ['myapp', 'NodePort', '10s'],
    ],
  );
  t.is(
    out,
    'NAME         TYPE        AGE\n' +
      'kubernetes   ClusterIP   5d\n' +
      'myapp        NodePort    10s\n',
  );
});
