/** parseJsonStrict: JSON.parse's value, and duplicate keys refused wherever they are. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJsonStrict } from '../../src/data/strict-json.ts';

const cases: { comment: string; text: string; duplicate?: string }[] = [
  { comment: 'plain object', text: '{"a":1,"b":[{"a":2},{"a":3}],"c":{"d":"}\\"{"}}' },
  { comment: 'duplicate at the top', text: '{"text":"shown","text":"signed"}', duplicate: '$' },
  { comment: 'duplicate in a nested object', text: '{"record":{"$type":"x","text":"a","text":"b"}}', duplicate: '$.record' },
  { comment: 'duplicate inside an array element', text: '{"l":[{"k":1},{"k":1,"k":2}]}', duplicate: '$.l[1]' },
  { comment: 'equal after unescaping', text: '{"a":1,"\\u0061":2}', duplicate: '$' },
  { comment: 'same key in sibling objects is fine', text: '[{"a":1},{"a":1}]' },
  { comment: 'strings that look like structure', text: '{"a":"{\\"a\\":1,\\"a\\":2}","b":"[,]"}' },
];

for (const c of cases) {
  test(`parseJsonStrict: ${c.comment}`, () => {
    if (c.duplicate === undefined) {
      assert.deepEqual(parseJsonStrict(c.text), JSON.parse(c.text));
      return;
    }
    assert.throws(() => parseJsonStrict(c.text), (e: { code?: string; path?: string }) => e.code === 'InvalidDataModel' && e.path === c.duplicate);
  });
}

test('parseJsonStrict: syntax errors are still errors', () => {
  assert.throws(() => parseJsonStrict('{"a":'), SyntaxError);
});
