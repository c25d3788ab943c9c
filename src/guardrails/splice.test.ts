import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { spliceString } from './splice.ts';

describe('spliceString', () => {
  it('replaces the value in place, every other byte as written', () => {
    const json = '{"id":"c1", "choices":[{"delta":{"content" : "Hi jane"}}],"x":1.50}';
    expect(spliceString(json, 'content', 'Hi jane', 'Hi [EMAIL] "ok"\n')).toBe(
      '{"id":"c1", "choices":[{"delta":{"content" : "Hi [EMAIL] \\"ok\\"\\n"}}],"x":1.50}',
    );
  });

  it('matches the value as text, whatever its escapes', () => {
    const json = '{"content":"caf\\u00e9 \\"a\\""}';
    expect(JSON.parse(spliceString(json, 'content', 'café "a"', 'b')!)).toEqual({ content: 'b' });
  });

  it('is undefined unless the value is there exactly once as that key', () => {
    // the key's name inside another string is not the key
    expect(spliceString('{"a":"\\"content\\":\\"x\\"","content":"y"}', 'content', 'x', 'z')).toBe(
      undefined,
    );
    expect(spliceString('{"a":"say \\"content":"x"}', 'content', 'x', 'z')).toBe(undefined);
    const two = '{"choices":[{"content":"x"},{"content":"x"}]}';
    expect(spliceString(two, 'content', 'x', 'z')).toBe(undefined);
    expect(spliceString('{"content":"x"}', 'text', 'x', 'z')).toBe(undefined);
    expect(spliceString('{"content":null}', 'content', 'x', 'z')).toBe(undefined);
  });

  it('gives what parsing, setting and serializing gives, or undefined when ambiguous', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (other, from, to) => {
        const value = { a: { content: other, text: from }, nested: { content: from, n: 1 } };
        const spliced = spliceString(JSON.stringify(value), 'content', from, to);
        if (other === from) expect(spliced).toBeUndefined();
        else expect(JSON.parse(spliced!)).toEqual({ ...value, nested: { content: to, n: 1 } });
      }),
    );
  });
});
