import test from 'ava';
import type { LabelSelector } from '../../src/api/types.ts';
import {
  formatLabelSelector,
  formatSelectorMap,
  hasServiceSelector,
  matchesLabelSelector,
  matchesServiceSelector,
  parseSelector,
} from '../../src/api/selector.ts';

const myapp = { app: 'myapp', release: 'stabel', env: 'test' };

const labelSelectorCases: [
  string,
  LabelSelector | undefined,
  Record<string, string> | undefined,
  boolean,
][] = [
  ['matchLabels all present', { matchLabels: { app: 'myapp', release: 'stabel' } }, myapp, true],
  ['matchLabels one differs', { matchLabels: { app: 'myapp', release: 'canary' } }, myapp, false],
  ['matchLabels key missing', { matchLabels: { tier: 'web' } }, myapp, false],
  ['empty selector matches everything', {}, myapp, true],
  ['empty selector matches unlabelled', {}, undefined, true],
  ['nil selector matches nothing', undefined, myapp, false],
  [
    'In hit',
    { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'test'] }] },
    myapp,
    true,
  ],
  [
    'In miss',
    { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] },
    myapp,
    false,
  ],
  [
    'In on missing key',
    { matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
    myapp,
    false,
  ],
  [
    'NotIn hit',
    { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] },
    myapp,
    true,
  ],
  [
    'NotIn miss',
    { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['test'] }] },
    myapp,
    false,
  ],
  [
    'NotIn on missing key matches',
    { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['a'] }] },
    myapp,
    true,
  ],
  ['Exists', { matchExpressions: [{ key: 'release', operator: 'Exists' }] }, myapp, true],
  ['Exists missing', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, myapp, false],
  ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, myapp, true],
  [
    'DoesNotExist present',
    { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] },
    myapp,
    false,
  ],
  [
    'matchLabels AND expressions: both hold',
    {
      matchLabels: { app: 'myapp' },
      matchExpressions: [{ key: 'env', operator: 'In', values: ['test'] }],
    },
    myapp,
    true,
  ],
  [
    'matchLabels AND expressions: expression fails',
    {
      matchLabels: { app: 'myapp' },
      matchExpressions: [
        { key: 'env', operator: 'Exists' },
        { key: 'release', operator: 'DoesNotExist' },
      ],
    },
    myapp,
    false,
  ],
];

for (const [name, sel, labels, want] of labelSelectorCases) {
  test(`matchesLabelSelector: ${name}`, (t) => {
    t.is(matchesLabelSelector(sel, labels), want);
  });
}

const serviceCases: [
  string,
  Record<string, string> | undefined,
  Record<string, string> | undefined,
  boolean,
][] = [
  ['seed myapp selector', { app: 'myapp', release: 'stabel' }, myapp, true],
  ['extra pod labels are fine', { app: 'myapp' }, myapp, true],
  ['value mismatch', { app: 'myapp', release: 'stable' }, myapp, false],
  ['no selector selects nothing', undefined, myapp, false],
  ['empty selector selects nothing (stored as nil)', {}, myapp, false],
  ['unlabelled pod', { app: 'myapp' }, undefined, false],
];

for (const [name, sel, labels, want] of serviceCases) {
  test(`matchesServiceSelector: ${name}`, (t) => {
    t.is(matchesServiceSelector(sel, labels), want);
    if (sel === undefined || Object.keys(sel).length === 0) t.false(hasServiceSelector(sel));
  });
}

const formatCases: [LabelSelector | undefined, string][] = [
  [{ matchLabels: { release: 'stabel', app: 'myapp' } }, 'app=myapp,release=stabel'],
  [
    {
      matchLabels: { app: 'myapp' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'api'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'release', operator: 'Exists' },
      ],
    },
    'app=myapp,!canary,env notin (prod),release,tier in (api,web)',
  ],
  [{}, ''],
  [undefined, ''],
];

for (const [sel, want] of formatCases) {
  test(`formatLabelSelector ${JSON.stringify(sel)}`, (t) => {
    t.is(formatLabelSelector(sel), want);
  });
}

test('formatSelectorMap sorts keys like labels.Set.String()', (t) => {
  t.is(formatSelectorMap({ release: 'stabel', app: 'myapp' }), 'app=myapp,release=stabel');
  t.is(formatSelectorMap(undefined), '');
});

const parseCases: [string, LabelSelector][] = [
  ['app=myapp,release=stabel', { matchLabels: { app: 'myapp', release: 'stabel' } }],
  ['app==myapp', { matchLabels: { app: 'myapp' } }],
  ['env!=prod', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }],
  [
    'tier in (web, api),!canary,release',
    {
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['web', 'api'] },
        { key: 'canary', operator: 'DoesNotExist' },
        { key: 'release', operator: 'Exists' },
      ],
    },
  ],
  [
    'env notin (a,b)',
    { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['a', 'b'] }] },
  ],
  ['', {}],
];

for (const [text, want] of parseCases) {
  test(`parseSelector ${JSON.stringify(text)}`, (t) => {
    const got = parseSelector(text);
    t.deepEqual(got, want);
  });
}

test('parseSelector round-trips through formatLabelSelector', (t) => {
  const text = 'app=myapp,!canary,env notin (prod),release,tier in (api,web)';
  t.is(formatLabelSelector(parseSelector(text)), text);
});

test('parseSelector rejects garbage', (t) => {
  t.throws(() => parseSelector('app=myapp,,'));
  t.throws(() => parseSelector('tier in (a,b'));
  t.throws(() => parseSelector('a=b c'));
});
