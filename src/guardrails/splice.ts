/**
 * A string value replaced inside a JSON text, the rest of the text as it was: cheaper than
 * parsing and serializing the whole again, and every other byte stays the writer's. A key is
 * found by its quotes: in valid JSON, a quote that no backslash precedes, the name, a quote
 * and a colon can only be that key (a quote inside a string is always escaped). The value
 * must be there exactly once, else the caller serializes.
 */

/** `json` with the one string value `from` of a key `key` (a plain name) replaced by `to`;
 * undefined when no such value, or more than one, is there. */
export function spliceString(
  json: string,
  key: string,
  from: string,
  to: string,
): string | undefined {
  const name = `"${key}"`;
  let found: [start: number, end: number] | undefined;
  for (let at = json.indexOf(name); at >= 0; at = json.indexOf(name, at + name.length)) {
    if (at > 0 && json.charCodeAt(at - 1) === BACKSLASH) continue;
    const start = valueStart(json, at + name.length);
    if (start < 0) continue;
    const end = stringEnd(json, start);
    if (end < 0 || decoded(json.slice(start, end)) !== from) continue;
    if (found) return undefined;
    found = [start, end];
  }
  if (!found) return undefined;
  return `${json.slice(0, found[0])}${JSON.stringify(to).slice(1, -1)}${json.slice(found[1])}`;
}

const BACKSLASH = 92;
const QUOTE = 34;
const COLON = 58;

const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

/** After a key at `i`: the index just inside its value's opening quote, or -1 (not a key, or
 * not a string value). */
function valueStart(json: string, i: number): number {
  while (isSpace(json.charCodeAt(i))) i++;
  if (json.charCodeAt(i++) !== COLON) return -1;
  while (isSpace(json.charCodeAt(i))) i++;
  return json.charCodeAt(i) === QUOTE ? i + 1 : -1;
}

/** The index of the quote that closes the string whose contents start at `i`, or -1. */
function stringEnd(json: string, i: number): number {
  for (let q = json.indexOf('"', i); q >= 0; q = json.indexOf('"', q + 1)) {
    let slashes = 0;
    while (json.charCodeAt(q - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return q;
  }
  return -1;
}

/** A JSON string's contents (without quotes) as text. */
function decoded(raw: string): string | undefined {
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}
