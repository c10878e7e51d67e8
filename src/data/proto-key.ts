/**
 * Find an own "__proto__" key in parsed JSON. JSON.parse makes it an ordinary
 * own property, but schema parsers and object copies drop it or turn it into a
 * prototype change, so a document could be checked without bytes it carries.
 * Untrusted JSON with such a key is refused at the edge.
 */
export function findProtoKey(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null || depth > 256) return undefined;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return path ? `${path}.__proto__` : '__proto__';
  for (const [k, v] of Object.entries(value)) {
    const found = findProtoKey(v, path ? `${path}.${k}` : k, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Whether JSON text can hold a "__proto__" key at all: JSON spells a key's
 * characters literally or as \u escapes, so text with neither "__proto__" nor
 * "\u" has none, and the walk over the parsed value can be skipped.
 */
export function mayHaveProtoKey(jsonText: string): boolean {
  return jsonText.includes('__proto__') || jsonText.includes('\\u');
}
