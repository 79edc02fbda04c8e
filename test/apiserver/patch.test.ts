// The PATCH bodies kube-apiserver accepts (src/apiserver/patch): RFC 6902 JSON patch,
// RFC 7386 merge patch and the Kubernetes strategic merge patch.
//
// The strategic-merge-patch cases marked "upstream" are test vectors from
// k8s.io/apimachinery pkg/util/strategicpatch/patch_test.go (Apache-2.0), run against
// the same test struct (MergeItem) and compared exactly, list order included.

import test from 'ava';
import { parse } from 'yaml';
import {
  MAX_DEPTH,
  MAX_OPERATIONS,
  PatchError,
  applyJsonPatch,
  applyPatch,
  applyPatchWithSchema,
  mergePatch,
  patchMetaAt,
  patchMetaTable,
  patchTypeOf,
  unsupportedPatchType,
  type PatchSchema,
  type PatchType,
  type PatchTypeTable,
} from '../../src/apiserver/patch/index.ts';
import { goSliceStable } from '../../src/apiserver/patch/strategic.ts';

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function patchError(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

// ---------------------------------------------------------------------------------------
// Strategic merge patch: upstream vectors on upstream's MergeItem struct.

const merge = (mergeKey?: string, type?: string) => ({
  strategies: ['merge'],
  ...(mergeKey !== undefined ? { mergeKey } : {}),
  ...(type !== undefined ? { type } : {}),
});

/** patch_test.go's MergeItem and RetainKeysMergeItem, tags as there. */
const MERGE_ITEM_TYPES: PatchTypeTable = {
  MergeItem: {
    mergingList: merge('name', 'MergeItem'),
    nonMergingList: { type: 'MergeItem' },
    mergingIntList: merge(),
    nonMergingIntList: {},
    mergeItemPtr: merge('name', 'MergeItem'),
    simpleMap: {},
    replacingItem: { strategies: ['replace'] },
    retainKeysMap: { strategies: ['retainKeys'], type: 'RetainKeysMergeItem' },
    retainKeysMergingList: {
      strategies: ['merge', 'retainKeys'],
      mergeKey: 'name',
      type: 'MergeItem',
    },
  },
  RetainKeysMergeItem: {
    mergingIntList: merge(),
    mergingList: merge('name', 'MergeItem'),
    nonMergingList: { type: 'MergeItem' },
  },
};
const MERGE_ITEM: PatchSchema = { types: MERGE_ITEM_TYPES, type: 'MergeItem' };

const y = (s: string): object => (parse(s) as object | null) ?? {};
const smp = (original: object, patch: unknown): object =>
  applyPatchWithSchema('strategic', MERGE_ITEM, deepFreeze(original), deepFreeze(patch));

interface RawCase {
  description: string;
  original: string;
  twoWay: string;
  twoWayResult?: string;
  expectedError?: string;
  current?: string;
  threeWay?: string;
  result?: string;
}

// strategicMergePatchRawTestCases and customStrategicMergePatchRawTestCases: the
// two-way patch applied to the original, and the three-way patch to the current object.
const RAW_CASES: RawCase[] = [
  {
    description: 'nested patch merge with empty list',
    original: `
name: hi
`,
    twoWay: `
mergingList:
- name: hello
- $patch: delete
  name: doesntexist
`,
    twoWayResult: `
name: hi
mergingList:
- name: hello
`,
    current: `
name: hi
mergingList:
- name: hello2
`,
    threeWay: `
$setElementOrder/mergingList:
- name: hello
- name: doesntexist
mergingList:
- name: hello
`,
    result: `
name: hi
mergingList:
- name: hello
- name: hello2
`,
  },
  {
    description: 'delete items in lists of scalars',
    original: `
mergingIntList:
  - 1
  - 2
  - 3
`,
    twoWay: `
$setElementOrder/mergingIntList:
  - 1
  - 2
$deleteFromPrimitiveList/mergingIntList:
  - 3
`,
    twoWayResult: `
mergingIntList:
  - 1
  - 2
`,
    current: `
mergingIntList:
  - 1
  - 2
  - 3
  - 4
`,
    threeWay: `
$setElementOrder/mergingIntList:
  - 1
  - 2
$deleteFromPrimitiveList/mergingIntList:
  - 3
`,
    result: `
mergingIntList:
  - 1
  - 2
  - 4
`,
  },
  {
    description: 'add and delete items in lists of scalars',
    original: `
mergingIntList:
  - 1
  - 2
  - 3
`,
    twoWay: `
$setElementOrder/mergingIntList:
  - 1
  - 2
  - 4
$deleteFromPrimitiveList/mergingIntList:
  - 3
mergingIntList:
  - 4
`,
    twoWayResult: `
mergingIntList:
  - 1
  - 2
  - 4
`,
    current: `
mergingIntList:
  - 1
  - 2
  - 3
  - 4
`,
    threeWay: `
$setElementOrder/mergingIntList:
  - 1
  - 2
  - 4
$deleteFromPrimitiveList/mergingIntList:
  - 3
`,
    result: `
mergingIntList:
  - 1
  - 2
  - 4
`,
  },
  {
    description: 'merge lists of maps',
    original: `
mergingList:
  - name: 1
  - name: 2
    value: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 4
  - name: 1
  - name: 2
  - name: 3
mergingList:
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
    twoWayResult: `
mergingList:
  - name: 4
    value: 4
  - name: 1
  - name: 2
    value: 2
  - name: 3
    value: 3
`,
    current: `
mergingList:
  - name: 1
    other: a
  - name: 2
    value: 2
    other: b
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 4
  - name: 1
  - name: 2
  - name: 3
mergingList:
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
    result: `
mergingList:
  - name: 4
    value: 4
  - name: 1
    other: a
  - name: 2
    value: 2
    other: b
  - name: 3
    value: 3
`,
  },
  {
    description: 'delete map from merging list',
    original: `
mergingList:
  - name: 1
  - name: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 2
mergingList:
  - name: 1
    $patch: delete
`,
    twoWayResult: `
mergingList:
  - name: 2
`,
    current: `
mergingList:
  - name: 1
  - name: 2
    other: b
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 2
mergingList:
  - name: 1
    $patch: delete
`,
    result: `
mergingList:
  - name: 2
    other: b
`,
  },
  {
    description: 'add map and delete map from merging list',
    original: `
mergingList:
  - name: 1
  - name: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 3
mergingList:
  - name: 3
  - name: 1
    $patch: delete
`,
    twoWayResult: `
mergingList:
  - name: 2
  - name: 3
`,
    current: `
mergingList:
  - name: 1
  - name: 2
    other: b
  - name: 4
    other: c
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 3
mergingList:
  - name: 3
  - name: 1
    $patch: delete
`,
    result: `
mergingList:
  - name: 2
    other: b
  - name: 4
    other: c
  - name: 3
`,
  },
  {
    description: 'add field to map in merging list nested in merging list',
    original: `
mergingList:
  - name: 1
    mergingList:
      - name: 1
      - name: 2
        value: 2
  - name: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 1
  - name: 2
mergingList:
  - $setElementOrder/mergingList:
      - name: 1
      - name: 2
    name: 1
    mergingList:
      - name: 1
        value: 1
`,
    twoWayResult: `
mergingList:
  - name: 1
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  - name: 2
`,
    current: `
mergingList:
  - name: 1
    other: a
    mergingList:
      - name: 1
      - name: 2
        value: 2
  - name: 2
    other: b
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 1
  - name: 2
mergingList:
  - $setElementOrder/mergingList:
      - name: 1
      - name: 2
    name: 1
    mergingList:
      - name: 1
        value: 1
`,
    result: `
mergingList:
  - name: 1
    other: a
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  - name: 2
    other: b
`,
  },
  {
    description: 'change an item in a list and preserve order',
    original: `
mergingList:
  - name: 1
  - name: 3
    value: 3
  - name: 2
    value: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 3
  - name: 1
mergingList:
  - name: 3
    value: x
`,
    twoWayResult: `
mergingList:
  - name: 2
    value: 2
  - name: 3
    value: x
  - name: 1
`,
    current: `
mergingList:
  - name: 1
    other: a
  - name: 2
    value: 2
    other: b
  - name: 3
    value: 3
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 3
  - name: 1
mergingList:
  - name: 3
    value: x
`,
    result: `
mergingList:
  - name: 2
    value: 2
    other: b
  - name: 3
    value: x
  - name: 1
    other: a
`,
  },
  {
    description: 'set elements order in a list with server-only items 2',
    original: `
mergingList:
  - name: 1
  - name: 2
    value: 2
  - name: 3
    value: 3
  - name: 4
    value: 4
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 1
  - name: 4
  - name: 3
`,
    twoWayResult: `
mergingList:
  - name: 2
    value: 2
  - name: 1
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
    current: `
mergingList:
  - name: 1
    other: a
  - name: 2
    value: 2
  - name: 9
  - name: 3
    value: 3
  - name: 4
    value: 4
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 1
  - name: 4
  - name: 3
`,
    result: `
mergingList:
  - name: 2
    value: 2
  - name: 1
    other: a
  - name: 9
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
  },
  {
    description: 'set elements order in a list with server-only items 3',
    original: `
mergingList:
  - name: 1
  - name: 2
    value: 2
  - name: 3
    value: 3
  - name: 4
    value: 4
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 1
  - name: 4
  - name: 3
`,
    twoWayResult: `
mergingList:
  - name: 2
    value: 2
  - name: 1
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
    current: `
mergingList:
  - name: 1
    other: a
  - name: 2
    value: 2
  - name: 7
  - name: 9
  - name: 8
  - name: 3
    value: 3
  - name: 4
    value: 4
`,
    threeWay: `
$setElementOrder/mergingList:
  - name: 2
  - name: 1
  - name: 4
  - name: 3
`,
    result: `
mergingList:
  - name: 2
    value: 2
  - name: 1
    other: a
  - name: 7
  - name: 9
  - name: 8
  - name: 4
    value: 4
  - name: 3
    value: 3
`,
  },
  {
    description: 'behavior of set element order for a merging list with duplicate',
    original: `
mergingList:
- name: 1
- name: 2
  value: dup1
- name: 3
- name: 2
  value: dup2
- name: 4
`,
    twoWay: `
$setElementOrder/mergingList:
- name: 2
- name: 1
- name: 4
- name: 3
- name: 2
`,
    twoWayResult: `
mergingList:
- name: 2
  value: dup1
- name: 2
  value: dup2
- name: 1
- name: 4
- name: 3
`,
    current: `
mergingList:
- name: 1
- name: 2
  value: dup1
- name: 3
- name: 2
  value: dup2
- name: 4
`,
    threeWay: `
$setElementOrder/mergingList:
- name: 2
- name: 1
- name: 4
- name: 3
- name: 2
`,
    result: `
mergingList:
- name: 2
  value: dup1
- name: 2
  value: dup2
- name: 1
- name: 4
- name: 3
`,
  },
  {
    description: 'behavior of set element order for a merging int list with duplicate',
    original: `
mergingIntList:
- 1
- 2
- 3
- 2
- 4
`,
    twoWay: `
$setElementOrder/mergingIntList:
- 2
- 1
- 4
- 3
- 2
`,
    twoWayResult: `
mergingIntList:
- 2
- 2
- 1
- 4
- 3
`,
    current: `
mergingIntList:
- 1
- 2
- 3
- 2
- 4
`,
    threeWay: `
$setElementOrder/mergingIntList:
- 2
- 1
- 4
- 3
- 2
`,
    result: `
mergingIntList:
- 2
- 2
- 1
- 4
- 3
`,
  },
  {
    description: 'retainKeys map should clear defaulted field with conflict (discriminated union)',
    original: `
{}
`,
    twoWay: `
retainKeysMap:
  name: type2
  other: bar
`,
    twoWayResult: `
retainKeysMap:
  name: type2
  other: bar
`,
    current: `
retainKeysMap:
  name: type1
  value: foo
`,
    threeWay: `
retainKeysMap:
  $retainKeys:
    - name
    - other
  name: type2
  other: bar
`,
    result: `
retainKeysMap:
  name: type2
  other: bar
`,
  },
  {
    description: 'retainKeys list of maps clears a field',
    original: `
retainKeysMergingList:
- name: bar
- name: foo
  value: a
`,
    twoWay: `
{}
`,
    twoWayResult: `
retainKeysMergingList:
- name: bar
- name: foo
  value: a
`,
    current: `
retainKeysMergingList:
- name: bar
- name: foo
  value: a
  other: x
`,
    threeWay: `
$setElementOrder/retainKeysMergingList:
  - name: bar
  - name: foo
retainKeysMergingList:
- $retainKeys:
    - name
    - value
  name: foo
`,
    result: `
retainKeysMergingList:
- name: bar
- name: foo
  value: a
`,
  },
  {
    description: 'delete and reorder in one list, reorder in another',
    original: `
mergingList:
- name: a
  value: a
- name: b
  value: b
mergeItemPtr:
- name: c
  value: c
- name: d
  value: d
`,
    twoWay: `
$setElementOrder/mergingList:
- name: b
$setElementOrder/mergeItemPtr:
- name: d
- name: c
mergingList:
- $patch: delete
  name: a
`,
    twoWayResult: `
mergingList:
- name: b
  value: b
mergeItemPtr:
- name: d
  value: d
- name: c
  value: c
`,
    current: `
mergingList:
- name: a
  value: a
- name: b
  value: b
mergeItemPtr:
- name: c
  value: c
- name: d
  value: d
`,
    threeWay: `
$setElementOrder/mergingList:
- name: b
$setElementOrder/mergeItemPtr:
- name: d
- name: c
mergingList:
- $patch: delete
  name: a
`,
    result: `
mergingList:
- name: b
  value: b
mergeItemPtr:
- name: d
  value: d
- name: c
  value: c
`,
  },
  {
    description: '$setElementOrder contains item that is not present in the list to be merged',
    original: `
mergingList:
  - name: 1
  - name: 3
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 3
  - name: 2
  - name: 1
mergingList:
  - name: 3
    value: 3
  - name: 1
    value: 1
`,
    twoWayResult: `
mergingList:
  - name: 3
    value: 3
  - name: 1
    value: 1
`,
  },
  {
    description: 'should check if order in $setElementOrder and patch list match',
    original: `
mergingList:
  - name: 1
  - name: 3
  - name: 2
`,
    twoWay: `
$setElementOrder/mergingList:
  - name: 1
  - name: 2
  - name: 3
mergingList:
  - name: 3
    value: 3
  - name: 1
    value: 1
`,
    expectedError: "doesn't match",
  },
  {
    description: 'missing merge key should error out',
    original: `
mergingList:
  - name: 1
    value: a
`,
    twoWay: `
mergingList:
  - value: b
`,
    expectedError: 'does not contain declared merge key',
  },
  {
    description:
      '$deleteFromPrimitiveList should delete item from a list without merge patch strategy',
    original: `
nonMergingIntList:
  - 1
  - 2
  - 3
`,
    twoWay: `
$deleteFromPrimitiveList/nonMergingIntList:
  - 2
`,
    twoWayResult: `
nonMergingIntList:
  - 1
  - 3
`,
  },
  {
    description:
      '$deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list',
    original: `
mergingIntList:
  - 1
  - 2
`,
    twoWay: `
$deleteFromPrimitiveList/mergingIntList:
  - 3
`,
    twoWayResult: `
mergingIntList:
  - 1
  - 2
`,
  },
];

for (const c of RAW_CASES) {
  test(`SMP upstream: ${c.description}`, (t) => {
    if (c.expectedError !== undefined) {
      const e = patchError(() => smp(y(c.original), y(c.twoWay)));
      t.true(e.message.includes(c.expectedError), e.message);
      return;
    }
    t.deepEqual(smp(y(c.original), y(c.twoWay)), y(c.twoWayResult ?? ''));
  });
  if (c.threeWay !== undefined && c.current !== undefined) {
    const { current, threeWay, result } = c;
    test(`SMP upstream: ${c.description} (three-way)`, (t) => {
      t.deepEqual(smp(y(current), y(threeWay)), y(result ?? ''));
    });
  }
}

// customStrategicMergePatchTestCaseData.
const CUSTOM_CASES = `
testCases:
  - description: unique scalars when merging lists
    original:
      mergingIntList:
        - 1
        - 2
    twoWay:
      mergingIntList:
        - 2
        - 3
    modified:
      mergingIntList:
        - 1
        - 2
        - 3
  - description: delete map from nested map
    original:
      simpleMap:
        key1: 1
        key2: 1
    twoWay:
      simpleMap:
        $patch: delete
    modified:
      simpleMap:
        {}
  - description: delete all items from merging list
    original:
      mergingList:
        - name: 1
        - name: 2
    twoWay:
      mergingList:
        - $patch: replace
    modified:
      mergingList: []
  - description: delete all keys from map
    original:
      name: 1
      value: 1
    twoWay:
      $patch: replace
    modified: {}
  - description: add key and delete all keys from map
    original:
      name: 1
      value: 1
    twoWay:
      other: a
      $patch: replace
    modified:
      other: a
  - description: delete all duplicate entries in a merging list
    original:
      mergingList:
        - name: 1
        - name: 1
        - name: 2
          value: a
        - name: 3
        - name: 3
    twoWay:
      mergingList:
        - name: 1
          $patch: delete
        - name: 3
          $patch: delete
    modified:
      mergingList:
        - name: 2
          value: a
  - description: retainKeys map can delete a field when no retainKeys directive present
    original:
      retainKeysMap:
        name: foo
        value: a
    twoWay:
      retainKeysMap:
        value: null
    modified:
      retainKeysMap:
        name: foo
  - description: retainKeys list can delete a field when no retainKeys directive present
    original:
      retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
    twoWay:
      retainKeysMergingList:
      - name: foo
        value: null
    modified:
      retainKeysMergingList:
      - name: bar
      - name: foo
  - description: preserve the order from the patch in a merging list
    original:
      mergingList:
        - name: 1
        - name: 2
          value: b
        - name: 3
    twoWay:
      mergingList:
        - name: 3
          value: c
        - name: 1
          value: a
        - name: 2
          other: x
    modified:
      mergingList:
        - name: 3
          value: c
        - name: 1
          value: a
        - name: 2
          value: b
          other: x
  - description: preserve the order from the patch in a merging list 2
    original:
      mergingList:
        - name: 1
        - name: 2
          value: b
        - name: 3
    twoWay:
      mergingList:
        - name: 3
          value: c
        - name: 1
          value: a
    modified:
      mergingList:
        - name: 2
          value: b
        - name: 3
          value: c
        - name: 1
          value: a
  - description: preserve the order from the patch in a merging int list
    original:
      mergingIntList:
        - 1
        - 2
        - 3
    twoWay:
      mergingIntList:
        - 3
        - 1
    modified:
      mergingIntList:
        - 2
        - 3
        - 1
`;

for (const c of (
  parse(CUSTOM_CASES) as {
    testCases: { description: string; original: object; twoWay: object; modified: object }[];
  }
).testCases) {
  test(`SMP upstream: ${c.description}`, (t) => {
    t.deepEqual(smp(c.original, c.twoWay), c.modified);
  });
}

test('SMP: a $patch value other than replace/delete is refused, in a map and in a list', (t) => {
  const inMap = patchError(() =>
    smp({ simpleMap: { a: '1' } }, { simpleMap: { $patch: 'merge' } }),
  );
  t.is(inMap.code, 500);
  t.is(inMap.message, 'unknown patch type: merge in map: map[$patch:merge]');
  const inList = patchError(() =>
    smp({ mergingList: [{ name: 'a' }] }, { mergingList: [{ name: 'a', $patch: 'merge' }] }),
  );
  t.is(inList.message, 'merging lists cannot yet be specified in the patch');
  const unknown = patchError(() =>
    smp({ mergingList: [{ name: 'a' }] }, { mergingList: [{ name: 'a', $patch: 'bogus' }] }),
  );
  t.is(unknown.message, 'unknown patch type: bogus in map: map[$patch:bogus name:a]');
});

test('SMP: bad directive formats are 400s with the mergepatch sentences', (t) => {
  const cases: [object, string][] = [
    [{ retainKeysMap: { $retainKeys: 'name', name: 'x' } }, 'invalid patch format of retainKeys'],
    [
      { retainKeysMap: { $retainKeys: ['name'], value: 'x' } },
      'invalid patch format of retainKeys',
    ],
    [{ $deleteFromPrimitiveList: [1] }, 'invalid patch format of primitive list'],
    [{ '$setElementOrderX/mergingList': [] }, 'invalid patch format of setElementOrder list'],
  ];
  for (const [patch, message] of cases) {
    const e = patchError(() => smp({ retainKeysMap: { name: 'a' }, mergingList: [] }, patch));
    t.is(e.code, 400, message);
    t.is(e.reason, 'BadRequest');
    t.is(e.message, message);
  }
});

test('SMP: lists of lists are a 422; mixed element types a 500', (t) => {
  const lol = patchError(() => smp({ mergingIntList: [[1]] }, { mergingIntList: [[2]] }));
  t.is(lol.code, 422);
  t.is(lol.detail, 'lists of lists are not supported');
  const mixed = patchError(() => smp({ mergingIntList: [1] }, { mergingIntList: ['a'] }));
  t.is(mixed.code, 500);
  t.is(mixed.message, 'list element types are not identical: [[1] [a]]');
});

test('SMP: an unknown directive left in the result is an unknown field (422, strict decoding)', (t) => {
  const e = patchError(() =>
    applyPatch('strategic', 'Deployment', deploymentFixture(), {
      spec: { template: { spec: { $foo: 1 } } },
    }),
  );
  t.is(e.code, 422);
  t.is(e.reason, 'Invalid');
  t.is(e.detail, 'strict decoding error: unknown field "spec.template.spec.$foo"');
  t.is(
    e.message,
    ' "" is invalid: patch: Invalid value: "map[spec:map[template:map[spec:map[$foo:1]]]]": strict decoding error: unknown field "spec.template.spec.$foo"',
  );
  t.deepEqual(e.toStatus().details?.causes, [
    {
      reason: 'FieldValueInvalid',
      message:
        'Invalid value: "map[spec:map[template:map[spec:map[$foo:1]]]]": strict decoding error: unknown field "spec.template.spec.$foo"',
      field: 'patch',
    },
  ]);
});

test('SMP: a patch that is not an object is a 400; null changes nothing', (t) => {
  const e = patchError(() => applyPatch('strategic', 'Service', {}, [1]));
  t.is(e.code, 400);
  t.is(e.message, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
  t.deepEqual(applyPatch('strategic', 'Service', deepFreeze({ a: 1 }), null), { a: 1 });
});

// ---------------------------------------------------------------------------------------
// Strategic merge patch on Kubernetes kinds.

function deploymentFixture(): object {
  return deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      labels: { app: 'web' },
      finalizers: ['a.example.com/x'],
      ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u1' }],
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
      },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'app',
              image: 'nginx:1.25',
              ports: [{ containerPort: 80, protocol: 'TCP' }],
              env: [{ name: 'A', value: '1' }],
            },
            { name: 'sidecar', image: 'busybox:1.36', args: ['sleep', 'inf'] },
          ],
          volumes: [{ name: 'conf', configMap: { name: 'web-conf' } }],
          tolerations: [{ key: 'k1', operator: 'Exists' }],
        },
      },
    },
    status: {
      conditions: [
        { type: 'Available', status: 'True' },
        { type: 'Progressing', status: 'True' },
      ],
    },
  });
}

type Dep = {
  metadata: { finalizers?: string[]; ownerReferences?: object[]; labels?: object };
  spec: {
    replicas: number;
    strategy: object;
    template: {
      metadata: { annotations?: Record<string, string> };
      spec: {
        containers: { name: string; image: string; env?: object[]; ports?: object[] }[];
        volumes: object[];
        tolerations: object[];
      };
    };
  };
  status: { conditions: object[] };
};

test('kubectl apply (three-way patch) on a Deployment: replicas, an image by name, an env var by name', (t) => {
  const original = deploymentFixture();
  const snapshot = structuredClone(original);
  const patch = deepFreeze({
    metadata: {
      annotations: {
        'kubectl.kubernetes.io/last-applied-configuration': '{"kind":"Deployment"}\n',
      },
    },
    spec: {
      replicas: 3,
      template: {
        spec: {
          '$setElementOrder/containers': [{ name: 'app' }, { name: 'sidecar' }],
          containers: [
            {
              '$setElementOrder/env': [{ name: 'A' }, { name: 'NEW' }],
              env: [{ name: 'NEW', value: 'x' }],
              image: 'nginx:1.27',
              name: 'app',
            },
          ],
        },
      },
    },
  });
  const out = applyPatch('strategic', 'Deployment', original, patch) as Dep;
  t.is(out.spec.replicas, 3);
  t.deepEqual(out.spec.template.spec.containers, [
    {
      name: 'app',
      image: 'nginx:1.27',
      ports: [{ containerPort: 80, protocol: 'TCP' }],
      env: [
        { name: 'A', value: '1' },
        { name: 'NEW', value: 'x' },
      ],
    },
    { name: 'sidecar', image: 'busybox:1.36', args: ['sleep', 'inf'] },
  ]);
  t.is(
    (out.metadata as { annotations: Record<string, string> }).annotations[
      'kubectl.kubernetes.io/last-applied-configuration'
    ],
    '{"kind":"Deployment"}\n',
  );
  t.deepEqual(out.status, (snapshot as Dep).status);
  t.deepEqual(original, snapshot); // untouched (and frozen: a write would have thrown)
});

test('kubectl set image / rollout restart shaped patches on an extensions/v1beta1 Deployment', (t) => {
  const original = deepFreeze({
    ...structuredClone(deploymentFixture()),
    apiVersion: 'extensions/v1beta1',
  });
  const setImage = applyPatch('strategic', 'Deployment', original, {
    spec: { template: { spec: { containers: [{ image: 'busybox:1.37', name: 'sidecar' }] } } },
  }) as Dep;
  t.deepEqual(
    setImage.spec.template.spec.containers.map((c) => [c.name, c.image]),
    [
      ['app', 'nginx:1.25'],
      ['sidecar', 'busybox:1.37'],
    ],
  );
  const restart = applyPatch('strategic', 'Deployment', original, {
    spec: {
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } },
      },
    },
  }) as Dep;
  t.deepEqual(restart.spec.template.metadata.annotations, {
    'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z',
  });
  t.is(restart.spec.template.spec.containers.length, 2);
});

test('SMP Deployment: a container removed with $patch: delete, a port merged by containerPort', (t) => {
  const out = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'sidecar', $patch: 'delete' },
            { name: 'app', ports: [{ containerPort: 443 }, { containerPort: 80, name: 'http' }] },
          ],
        },
      },
    },
  }) as Dep;
  t.deepEqual(out.spec.template.spec.containers, [
    {
      name: 'app',
      image: 'nginx:1.25',
      ports: [{ containerPort: 443 }, { containerPort: 80, protocol: 'TCP', name: 'http' }],
      env: [{ name: 'A', value: '1' }],
    },
  ]);
});

test('SMP Deployment: strategy has retainKeys (Recreate drops rollingUpdate)', (t) => {
  const out = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } },
  }) as Dep;
  t.deepEqual(out.spec.strategy, { type: 'Recreate' });
  // Without the directive the map merges.
  const merged = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    spec: { strategy: { type: 'Recreate' } },
  }) as Dep;
  t.deepEqual(merged.spec.strategy, {
    type: 'Recreate',
    rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
  });
});

test('SMP PodSpec: volumes merge by name with retainKeys (a configMap volume becomes a secret)', (t) => {
  const out = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    spec: {
      template: {
        spec: {
          volumes: [
            { $retainKeys: ['name', 'secret'], name: 'conf', secret: { secretName: 's' } },
            { name: 'tmp', emptyDir: {} },
          ],
        },
      },
    },
  }) as Dep;
  t.deepEqual(out.spec.template.spec.volumes, [
    { name: 'conf', secret: { secretName: 's' } },
    { name: 'tmp', emptyDir: {} },
  ]);
});

test('SMP PodSpec: tolerations are atomic (replaced whole)', (t) => {
  const out = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    spec: { template: { spec: { tolerations: [{ key: 'k2', operator: 'Exists' }] } } },
  }) as Dep;
  t.deepEqual(out.spec.template.spec.tolerations, [{ key: 'k2', operator: 'Exists' }]);
});

test('SMP ObjectMeta: finalizers merge as a set, $deleteFromPrimitiveList removes; ownerReferences by uid', (t) => {
  const added = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    metadata: { finalizers: ['b.example.com/y', 'a.example.com/x'] },
  }) as Dep;
  t.deepEqual(added.metadata.finalizers, ['b.example.com/y', 'a.example.com/x']);
  const removed = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example.com/x'] },
  }) as Dep;
  t.deepEqual(removed.metadata.finalizers, []);
  const owners = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    metadata: {
      ownerReferences: [
        { uid: 'u1', controller: true },
        { uid: 'u2', kind: 'Secret', name: 's' },
      ],
    },
  }) as Dep;
  t.deepEqual(owners.metadata.ownerReferences, [
    { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u1', controller: true },
    { uid: 'u2', kind: 'Secret', name: 's' },
  ]);
  const labels = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    metadata: { labels: { app: null, tier: 'front' } },
  }) as Dep;
  t.deepEqual(labels.metadata.labels, { tier: 'front' });
});

test('SMP status: Deployment conditions merge by type', (t) => {
  const out = applyPatch('strategic', 'Deployment', deploymentFixture(), {
    status: { conditions: [{ type: 'Progressing', status: 'False', reason: 'Stuck' }] },
  }) as Dep;
  t.deepEqual(out.status.conditions, [
    { type: 'Available', status: 'True' },
    { type: 'Progressing', status: 'False', reason: 'Stuck' },
  ]);
});

test('SMP Service: ports merge by port', (t) => {
  const svc = deepFreeze({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's' },
    spec: {
      selector: { app: 'web' },
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
      ],
    },
  });
  const out = applyPatch('strategic', 'Service', svc, {
    spec: {
      ports: [
        { port: 80, targetPort: 9090 },
        { port: 8000, name: 'alt' },
      ],
    },
  }) as { spec: { ports: object[] } };
  // Without $setElementOrder the patch's items come first, in its order; a live item
  // goes before the patch item it preceded in the live list (443 preceded none).
  t.deepEqual(out.spec.ports, [
    { name: 'http', port: 80, targetPort: 9090, protocol: 'TCP' },
    { port: 8000, name: 'alt' },
    { name: 'https', port: 443, targetPort: 8443, protocol: 'TCP' },
  ]);
  // A JSON merge patch replaces the list.
  const replaced = applyPatch('merge', 'Service', svc, { spec: { ports: [{ port: 8000 }] } }) as {
    spec: { ports: object[] };
  };
  t.deepEqual(replaced.spec.ports, [{ port: 8000 }]);
});

test('SMP Node: addresses and conditions merge by type; Endpoints subsets and Ingress rules are replaced', (t) => {
  const node = deepFreeze({
    status: {
      addresses: [
        { type: 'InternalIP', address: '10.0.0.1' },
        { type: 'Hostname', address: 'n1' },
      ],
    },
  });
  const n = applyPatch('strategic', 'Node', node, {
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] },
  }) as { status: { addresses: object[] } };
  t.deepEqual(n.status.addresses, [
    { type: 'InternalIP', address: '10.0.0.2' },
    { type: 'Hostname', address: 'n1' },
  ]);
  const ep = applyPatch(
    'strategic',
    'Endpoints',
    deepFreeze({
      subsets: [{ addresses: [{ ip: '10.1.0.1' }] }, { addresses: [{ ip: '10.1.0.2' }] }],
    }),
    { subsets: [{ addresses: [{ ip: '10.1.0.3' }] }] },
  );
  t.deepEqual(ep, { subsets: [{ addresses: [{ ip: '10.1.0.3' }] }] });
  const ing = applyPatch(
    'strategic',
    'Ingress',
    deepFreeze({ spec: { rules: [{ host: 'a' }, { host: 'b' }] } }),
    { spec: { rules: [{ host: 'c' }] } },
  );
  t.deepEqual(ing, { spec: { rules: [{ host: 'c' }] } });
});

test('SMP: a kind without an entry merges maps and replaces lists', (t) => {
  const out = applyPatch('strategic', 'Widget', deepFreeze({ a: { b: 1, c: [1, 2] } }), {
    a: { c: [3], d: 4 },
  });
  t.deepEqual(out, { a: { b: 1, c: [3], d: 4 } });
});

test('the merge-key table: real struct tags at real paths', (t) => {
  t.deepEqual(patchMetaAt('Deployment', 'spec.template.spec.containers'), {
    strategies: ['merge'],
    mergeKey: 'name',
    type: 'Container',
  });
  t.is(patchMetaAt('Pod', 'spec.containers.ports')?.mergeKey, 'containerPort');
  t.is(patchMetaAt('Pod', 'spec.initContainers.volumeMounts')?.mergeKey, 'mountPath');
  t.is(patchMetaAt('Pod', 'spec.ephemeralContainers.volumeDevices')?.mergeKey, 'devicePath');
  t.deepEqual(patchMetaAt('ReplicaSet', 'spec.template.spec.volumes')?.strategies, [
    'merge',
    'retainKeys',
  ]);
  t.is(patchMetaAt('Pod', 'spec.hostAliases')?.mergeKey, 'ip');
  t.is(patchMetaAt('Pod', 'spec.topologySpreadConstraints')?.mergeKey, 'topologyKey');
  t.is(patchMetaAt('Pod', 'status.podIPs')?.mergeKey, 'ip');
  t.is(patchMetaAt('Service', 'spec.ports')?.mergeKey, 'port');
  t.is(patchMetaAt('Node', 'status.addresses')?.mergeKey, 'type');
  t.deepEqual(patchMetaAt('Node', 'spec.podCIDRs'), { strategies: ['merge'] });
  t.deepEqual(patchMetaAt('Deployment', 'spec.strategy'), { strategies: ['retainKeys'] });
  t.deepEqual(patchMetaAt('PodDisruptionBudget', 'spec.selector'), { strategies: ['replace'] });
  for (const [kind, path] of [
    ['Pod', 'spec.tolerations'],
    ['Pod', 'status.containerStatuses'],
    ['Endpoints', 'subsets'],
    ['EndpointSlice', 'endpoints'],
    ['EndpointSlice', 'ports'],
    ['Ingress', 'spec.rules'],
    ['Ingress', 'spec.tls'],
    ['Service', 'status.loadBalancer.ingress'],
    ['Node', 'spec.taints'],
  ] as const) {
    t.is(patchMetaAt(kind, path), undefined, `${kind} ${path} is atomic`);
  }
  const table = patchMetaTable('Deployment');
  t.deepEqual(table['metadata.ownerReferences'], { strategy: 'merge', mergeKey: 'uid' });
  t.deepEqual(table['spec.template.spec.containers.env'], { strategy: 'merge', mergeKey: 'name' });
  t.deepEqual(table['status.conditions'], { strategy: 'merge', mergeKey: 'type' });
  t.is(table['spec.template.spec.tolerations'], undefined);
});

// ---------------------------------------------------------------------------------------
// RFC 6902 JSON patch.

// RFC 6902 appendix A (A.13, a document with a duplicate member, cannot be parsed JSON).
const RFC6902: [string, unknown, unknown[], unknown | Error][] = [
  [
    'A.1 adding an object member',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz', value: 'qux' }],
    { baz: 'qux', foo: 'bar' },
  ],
  [
    'A.2 adding an array element',
    { foo: ['bar', 'baz'] },
    [{ op: 'add', path: '/foo/1', value: 'qux' }],
    { foo: ['bar', 'qux', 'baz'] },
  ],
  [
    'A.3 removing an object member',
    { baz: 'qux', foo: 'bar' },
    [{ op: 'remove', path: '/baz' }],
    { foo: 'bar' },
  ],
  [
    'A.4 removing an array element',
    { foo: ['bar', 'qux', 'baz'] },
    [{ op: 'remove', path: '/foo/1' }],
    { foo: ['bar', 'baz'] },
  ],
  [
    'A.5 replacing a value',
    { baz: 'qux', foo: 'bar' },
    [{ op: 'replace', path: '/baz', value: 'boo' }],
    { baz: 'boo', foo: 'bar' },
  ],
  [
    'A.6 moving a value',
    { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
    [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
    { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
  ],
  [
    'A.7 moving an array element',
    { foo: ['all', 'grass', 'cows', 'eat'] },
    [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
    { foo: ['all', 'cows', 'eat', 'grass'] },
  ],
  [
    'A.8 testing a value: success',
    { baz: 'qux', foo: ['a', 2, 'c'] },
    [
      { op: 'test', path: '/baz', value: 'qux' },
      { op: 'test', path: '/foo/1', value: 2 },
    ],
    { baz: 'qux', foo: ['a', 2, 'c'] },
  ],
  [
    'A.9 testing a value: error',
    { baz: 'qux' },
    [{ op: 'test', path: '/baz', value: 'bar' }],
    new Error('testing value /baz failed: test failed'),
  ],
  [
    'A.10 adding a nested member object',
    { foo: 'bar' },
    [{ op: 'add', path: '/child', value: { grandchild: {} } }],
    { foo: 'bar', child: { grandchild: {} } },
  ],
  [
    'A.11 ignoring unrecognized elements',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
    { foo: 'bar', baz: 'qux' },
  ],
  [
    'A.12 adding to a nonexistent target',
    { foo: 'bar' },
    [{ op: 'add', path: '/baz/bat', value: 'qux' }],
    new Error('add operation does not apply: doc is missing path: "/baz/bat": missing value'),
  ],
  [
    'A.14 ~ escape ordering',
    { '/': 9, '~1': 10 },
    [{ op: 'test', path: '/~01', value: 10 }],
    { '/': 9, '~1': 10 },
  ],
  [
    'A.15 comparing strings and numbers',
    { '/': 9, '~1': 10 },
    [{ op: 'test', path: '/~01', value: '10' }],
    new Error('testing value /~01 failed: test failed'),
  ],
  [
    'A.16 adding an array value',
    { foo: ['bar'] },
    [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
    { foo: ['bar', ['abc', 'def']] },
  ],
];

for (const [name, doc, patch, want] of RFC6902) {
  test(`JSON patch RFC 6902 ${name}`, (t) => {
    if (want instanceof Error) {
      const e = patchError(() => applyPatch('json', 'ConfigMap', deepFreeze(doc as object), patch));
      t.is(e.code, 422);
      t.is(e.reason, 'Invalid');
      t.is(e.message, 'the server rejected our request due to an error in our request');
      t.is(e.detail, want.message);
      t.deepEqual(e.toStatus(), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server rejected our request due to an error in our request',
        reason: 'Invalid',
        details: {},
        code: 422,
      });
    } else {
      t.deepEqual(
        applyPatch('json', 'ConfigMap', deepFreeze(doc as object), deepFreeze(patch)),
        want,
      );
    }
  });
}

test('JSON patch: bad paths and targets are errors', (t) => {
  const doc = deepFreeze({ a: { b: [1, 2] } });
  const detail = (ops: unknown[]): string =>
    patchError(() => applyPatch('json', 'X', doc, ops)).detail;
  t.is(
    detail([{ op: 'remove', path: '/a/c' }]),
    "error in remove for path: '/a/c': Unable to remove nonexistent key: c: missing value",
  );
  t.is(
    detail([{ op: 'replace', path: '/a/c', value: 1 }]),
    'replace operation does not apply: doc is missing key: /a/c: missing value',
  );
  t.is(
    detail([{ op: 'add', path: '/a/b/3', value: 1 }]),
    "error in add for path: '/a/b/3': Unable to access invalid index: 3: invalid index referenced",
  );
  t.is(
    detail([{ op: 'add', path: '/a/b/01', value: 1 }]),
    `error in add for path: '/a/b/01': value was not a proper array index: '01': strconv.Atoi: parsing "01": invalid syntax`,
  );
  t.is(
    detail([{ op: 'add', path: 'a', value: 1 }]),
    'add operation does not apply: doc is missing path: "a": missing value',
  );
  t.is(
    detail([{ op: 'move', from: '/a', path: '/a/x' }]),
    'move operation does not apply: doc is missing destination path: /a/x: missing value',
  );
  t.is(
    detail([{ op: 'copy', from: '/nope', path: '/x' }]),
    'copy operation does not apply: doc is missing from path: /nope: missing value',
  );
  t.is(
    detail([{ op: 'test', path: '/a/zz', value: null }]),
    'testing value /a/zz failed: test failed',
  );
  t.is(
    detail([{ op: 'add', path: '/x' }]),
    'add operation failed: operation, missing value field: missing value',
  );
  t.is(detail([{ op: 'frob', path: '/x' }]), 'Unexpected kind: frob');
  t.is(detail([{ path: '/x' }]), 'Unexpected kind: unknown');
  t.is(
    detail([{ op: 'remove' }]),
    'remove operation failed to decode path: operation missing path field: missing value',
  );
  // The failed patch changes nothing.
  t.deepEqual(doc, { a: { b: [1, 2] } });
});

test('JSON patch: - appends, negative indices count from the end (the server extension), ~1 escapes', (t) => {
  const doc = deepFreeze({ l: [1, 2, 3], 'a/b': { '~': 0 } });
  t.deepEqual(
    applyJsonPatch(doc, [
      { op: 'add', path: '/l/-', value: 4 },
      { op: 'remove', path: '/l/-1' },
      { op: 'replace', path: '/l/-3', value: 'one' },
      { op: 'copy', from: '/a~1b/~0', path: '/zero' },
    ]),
    { l: ['one', 2, 3], 'a/b': { '~': 0 }, zero: 0 },
  );
});

test('JSON patch: not a list is a 400, null is an empty patch', (t) => {
  const e = patchError(() => applyPatch('json', 'X', {}, { op: 'add' }));
  t.is(e.code, 400);
  t.is(e.message, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const op = patchError(() => applyPatch('json', 'X', {}, ['add']));
  t.is(op.message, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  t.deepEqual(applyPatch('json', 'X', deepFreeze({ a: 1 }), null), { a: 1 });
});

test('JSON patch: a result that is not an object is Invalid', (t) => {
  const e = patchError(() =>
    applyPatch('json', 'X', {}, [{ op: 'replace', path: '', value: [1] }]),
  );
  t.is(e.code, 422);
  t.is(e.reason, 'Invalid');
  t.regex(
    e.message,
    /^ "" is invalid: patch: Invalid value: "\[1\]": json: cannot unmarshal array/,
  );
});

test('JSON patch: copies are bounded (3 MiB accumulated, as --json-patch-max-copy-bytes)', (t) => {
  const big = 'x'.repeat(1024 * 1024);
  const ops = Array.from({ length: 4 }, (_, i) => ({ op: 'copy', from: '/s', path: `/c${i}` }));
  const e = patchError(() => applyPatch('json', 'X', { s: big }, ops));
  t.is(e.code, 422);
  t.regex(
    e.detail,
    /^Unable to complete the copy, the accumulated size increase of copy is \d+, exceeding the limit 3145728$/,
  );
  t.notThrows(() => applyPatch('json', 'X', { s: big }, ops.slice(0, 2)));
});

// ---------------------------------------------------------------------------------------
// RFC 7386 merge patch.

// RFC 7386 appendix A, every row.
const RFC7386: [unknown, unknown, unknown][] = [
  [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
  [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
  [{ a: 'b' }, { a: null }, {}],
  [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
  [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
  [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
  [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
  [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
  [
    ['a', 'b'],
    ['c', 'd'],
    ['c', 'd'],
  ],
  [{ a: 'b' }, ['c'], ['c']],
  [{ a: 'foo' }, null, null],
  [{ a: 'foo' }, 'bar', 'bar'],
  [{ e: null }, { a: 1 }, { e: null, a: 1 }],
  [[1, 2], { a: 'b', c: null }, { a: 'b' }],
  [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
];

RFC7386.forEach(([target, patch, want], i) => {
  test(`merge patch RFC 7386 appendix A row ${i + 1}`, (t) => {
    t.deepEqual(mergePatch(deepFreeze(target), deepFreeze(patch)), want);
  });
});

test('merge patch as the API server applies it', (t) => {
  const cm = deepFreeze({ metadata: { name: 'c', labels: { a: '1', b: '2' } }, data: { k: 'v' } });
  t.deepEqual(applyPatch('merge', 'ConfigMap', cm, { metadata: { labels: { a: null, c: '3' } } }), {
    metadata: { name: 'c', labels: { b: '2', c: '3' } },
    data: { k: 'v' },
  });
  // Nulls inside objects in a list are dropped too (evanphx/json-patch v4); the RFC keeps them.
  t.deepEqual(applyPatch('merge', 'X', {}, { l: [{ a: null, b: 1 }] }), { l: [{ b: 1 }] });
  t.deepEqual(mergePatch({}, { l: [{ a: null, b: 1 }] }), { l: [{ a: null, b: 1 }] });
  for (const p of [null, 'x', 1, true]) {
    const e = patchError(() => applyPatch('merge', 'X', cm, p));
    t.is(e.code, 400);
    t.is(e.message, 'Invalid JSON Patch');
  }
  t.is(patchError(() => applyPatch('merge', 'X', cm, [1])).code, 422);
});

// ---------------------------------------------------------------------------------------
// Content types, bounds, immutability.

test('patchTypeOf: the three content types, parameters dropped, anything else unsupported', (t) => {
  t.is(patchTypeOf('application/json-patch+json'), 'json');
  t.is(patchTypeOf('application/merge-patch+json; charset=utf-8'), 'merge');
  t.is(patchTypeOf('application/strategic-merge-patch+json'), 'strategic');
  t.is(patchTypeOf('application/apply-patch+yaml'), undefined);
  t.is(patchTypeOf('application/json'), undefined);
  t.is(patchTypeOf('Application/JSON-patch+json'), undefined);
  t.is(patchTypeOf('toString'), undefined);
  const e = unsupportedPatchType();
  t.is(e.code, 415);
  t.is(e.reason, 'UnsupportedMediaType');
  t.is(
    e.message,
    'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json',
  );
});

function nested(depth: number): object {
  let o: object = { leaf: 1 };
  for (let i = 1; i < depth; i++) o = { n: o };
  return o;
}

test('bounds: patches nested deeper than 100 levels are refused', (t) => {
  t.is(MAX_DEPTH, 100);
  for (const type of ['merge', 'strategic'] as PatchType[]) {
    t.notThrows(() => applyPatch(type, 'ConfigMap', {}, nested(100)));
    const e = patchError(() => applyPatch(type, 'ConfigMap', {}, nested(101)));
    t.is(e.code, 400, type);
    t.is(e.message, 'the patch is nested more than 100 levels deep');
  }
  const e = patchError(() =>
    applyPatch('json', 'ConfigMap', {}, [{ op: 'add', path: '/x', value: nested(99) }]),
  );
  t.is(e.code, 400);
});

test('bounds: more than 10,000 operations are refused (413)', (t) => {
  t.is(MAX_OPERATIONS, 10_000);
  const ops = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ op: 'add', path: `/k${i}`, value: i }));
  t.notThrows(() => applyPatch('json', 'ConfigMap', {}, ops(10_000)));
  const e = patchError(() => applyPatch('json', 'ConfigMap', {}, ops(10_001)));
  t.is(e.code, 413);
  t.is(e.reason, 'RequestEntityTooLarge');
  t.is(
    e.message,
    'Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001',
  );
  const keys = (n: number) => ({
    data: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])),
  });
  t.notThrows(() => applyPatch('strategic', 'ConfigMap', {}, keys(9_999)));
  t.is(patchError(() => applyPatch('merge', 'ConfigMap', {}, keys(10_000))).code, 413);
  t.is(patchError(() => applyPatch('strategic', 'ConfigMap', {}, keys(10_000))).code, 413);
});

test('the original and the patch are never modified (both deep-frozen)', (t) => {
  const original = deploymentFixture();
  const before = structuredClone(original);
  const patches: [PatchType, unknown][] = [
    [
      'json',
      [
        { op: 'replace', path: '/spec/replicas', value: 9 },
        { op: 'remove', path: '/spec/template/spec/containers/0/env' },
      ],
    ],
    ['merge', { spec: { replicas: 9, template: { spec: { containers: [] } } } }],
    [
      'strategic',
      {
        metadata: { '$deleteFromPrimitiveList/finalizers': ['a.example.com/x'] },
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'app' }],
              containers: [
                { name: 'app', $patch: 'delete' },
                { name: 'sidecar', image: 'x' },
              ],
            },
          },
        },
      },
    ],
  ];
  for (const [type, patch] of patches) {
    const p = deepFreeze(structuredClone(patch));
    const out = applyPatch(type, 'Deployment', original, p);
    t.notDeepEqual(out, before, type);
    t.deepEqual(p, patch, type);
  }
  t.deepEqual(original, before);
  // A $patch: replace result does not share structure with the patch either.
  const out = applyPatch(
    'strategic',
    'Deployment',
    original,
    deepFreeze({ spec: { $patch: 'replace', replicas: 1 } }),
  ) as { spec: { replicas: number } };
  out.spec.replicas = 2;
  t.is(out.spec.replicas, 2);
});

test("goSliceStable is Go's sort.SliceStable: stable, and reverses under an always-true less", (t) => {
  const reversed = ['a', 'b', 'c'];
  goSliceStable(reversed, () => true); // insertion sort swaps every pair
  t.deepEqual(reversed, ['c', 'b', 'a']);
  // Past 20 elements SymMerge joins the insertion-sorted blocks; with a proper order it
  // agrees with any stable sort.
  const items = Array.from({ length: 97 }, (_, i) => ({ k: (i * 37) % 11, i }));
  const mine = items.slice();
  goSliceStable(mine, (a, b) => a.k < b.k);
  t.deepEqual(
    mine,
    items.slice().sort((a, b) => a.k - b.k),
  );
});
