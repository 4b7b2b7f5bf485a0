/**
 * JSON with object keys sorted (undefined fields left out), so that two payloads holding the same
 * values compare and hash alike whatever order their fields came in: the store's jsonb keeps keys in
 * an order of its own, and a department's records arrive in any.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  // Built by concatenation, not entries/filter/map/join: the channel keys every delivered record with it.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += `${i > 0 ? ',' : ''}${canonicalJson(value[i]) ?? ''}`;
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = sortedInPlace(Object.keys(object));
  let out = '{';
  for (const key of keys) {
    const item = object[key];
    if (item === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(key)}:${canonicalJson(item)}`;
  }
  return `${out}}`;
}

/**
 * Keys in UTF-16 code unit order (as `<` and the default sort compare strings). A record has a
 * handful: sorted by insertion, which allocates nothing where `Array.prototype.sort` allocates its
 * work space on every call; many keys go to the default sort.
 */
function sortedInPlace(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}
