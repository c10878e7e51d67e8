/**
 * JSON text → value, refusing duplicate object keys. JSON.parse keeps the last
 * of two equal keys while other readers keep the first, so a document with
 * duplicates can show one value and sign another: whoever signs must parse
 * with this. Keys are compared after unescaping (`"a"` and `"\u0061"` are the
 * same key). Syntax errors are JSON.parse's own.
 */
import { EncumberError } from '../errors.ts';

type Frame = { kind: 'object'; keys: Set<string>; expectKey: boolean; key?: string } | { kind: 'array'; index: number };

function pathOf(stack: Frame[]): string {
  let p = '$';
  for (const f of stack.slice(0, -1)) p += f.kind === 'object' ? `.${f.key}` : `[${f.index}]`;
  return p;
}

export function parseJsonStrict(text: string): unknown {
  const value: unknown = JSON.parse(text);
  // The text is valid JSON: a scanner that knows strings and brackets suffices.
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack.at(-1);
      if (top?.kind === 'object' && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          throw new EncumberError('InvalidDataModel', `duplicate key ${JSON.stringify(key)} in the object at ${pathOf(stack)}`, { path: pathOf(stack) });
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') stack.push({ kind: 'object', keys: new Set(), expectKey: true });
    else if (c === '[') stack.push({ kind: 'array', index: 0 });
    else if (c === '}' || c === ']') stack.pop();
    else if (c === ',') {
      const top = stack.at(-1);
      if (top?.kind === 'object') top.expectKey = true;
      else if (top) top.index++;
    }
  }
  return value;
}
