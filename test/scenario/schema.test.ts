// The JSON Schema in scenarios/scenario.schema.json describes the format the parser takes:
// every scenario in the repository validates, and so does not a broken one.
import test from 'ava';
import { Ajv } from 'ajv';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const schema = JSON.parse(readFileSync('scenarios/scenario.schema.json', 'utf8')) as object;
const validate = new Ajv({ allErrors: true }).compile(schema);

function scenarioFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return f === 'manifests' ? [] : scenarioFiles(p);
    return f.endsWith('.yaml') ? [p] : [];
  });
}

const files = scenarioFiles('scenarios');

test('there are scenarios to check', (t) => {
  t.true(files.length >= 10);
});

for (const file of files) {
  test(`${file} validates against the scenario schema`, (t) => {
    const ok = validate(parse(readFileSync(file, 'utf8')));
    t.true(ok, JSON.stringify(validate.errors, null, 2));
  });
}

test('the schema rejects what the parser rejects', (t) => {
  t.false(validate({ title: 't', steps: [{ run: 'x', repat: 2 }] }));
  t.false(validate({ title: 't', steps: [{ wait: 'soon' }] }));
  t.false(validate({ steps: [] }));
  t.false(validate({ title: 't', proxyMode: 'kernelspace', steps: [] }));
  t.true(validate({ title: 't', steps: ['kubectl get svc', { wait: '5s' }] }));
});
