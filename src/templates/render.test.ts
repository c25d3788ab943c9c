import { describe, expect, it } from 'vitest';
import { compileVersion, missingVariables, renderVersion, versionProblem } from './render.ts';
import { type TemplateVersion, templateVersionInputSchema } from './schema.ts';

function version(input: unknown): TemplateVersion {
  return {
    version: 1,
    createdAt: '2026-12-02T00:00:00.000Z',
    createdBy: 'test',
    ...templateVersionInputSchema.parse(input),
  };
}

describe('versionProblem', () => {
  const ok = (content: string, names: string[] = []) =>
    versionProblem(
      version({
        messages: [{ role: 'user', content }],
        variables: names.map((name) => ({ name })),
      }),
    );

  it('accepts declared names in values, sections, inverted sections and comments', () => {
    expect(
      ok('{{a}} {{{b}}} {{&c}} {{#d}}{{.}}{{/d}}{{^e}}none{{/e}}{{! note }}', [
        'a',
        'b',
        'c',
        'd',
        'e',
      ]),
    ).toBeUndefined();
  });

  it('names the field and the reason: undeclared names (nested too), partials, bad syntax', () => {
    expect(ok('Hi {{who}}')).toEqual({
      param: 'version.messages[0].content',
      reason: "uses the variable 'who', which the version does not declare",
    });
    expect(ok('{{#list}}{{inner}}{{/list}}', ['list'])?.reason).toContain("'inner'");
    expect(ok('{{> partial}}', ['partial'])?.reason).toContain('partials');
    expect(ok('{{#open}} never closed', ['open'])?.reason).toContain(
      'not a valid Mustache template',
    );
    expect(ok('{{.}}')?.reason).toContain('only inside a section');
    // Prototype names are names like any other: undeclared, refused.
    expect(ok('{{constructor}}')?.reason).toContain("'constructor'");
    expect(ok('{{a.b}}', ['a'])?.reason).toContain("'a.b'");
  });

  it('checks instructions first and counts messages', () => {
    const problem = versionProblem(
      version({
        instructions: '{{x}}',
        messages: [
          { role: 'user', content: 'fine' },
          { role: 'user', content: '{{y}}' },
        ],
      }),
      '',
    );
    expect(problem?.param).toBe('instructions');
    const second = versionProblem(
      version({
        messages: [
          { role: 'user', content: 'fine' },
          { role: 'user', content: '{{y}}' },
        ],
      }),
      '',
    );
    expect(second?.param).toBe('messages[1].content');
  });
});

describe('missingVariables and renderVersion', () => {
  const compiled = compileVersion(
    version({
      instructions: 'Speak as {{persona}}.',
      messages: [
        { role: 'system', content: 'Rules: {{rules}}{{^strict}} (lenient){{/strict}}' },
        { role: 'user', content: '{{#items}}- {{.}}\n{{/items}}Total: {{count}}' },
      ],
      variables: [
        { name: 'persona' },
        { name: 'rules' },
        { name: 'items', required: false },
        { name: 'count' },
        { name: 'strict', required: false },
      ],
    }),
  );

  it('names every required variable not given, in declaration order', () => {
    expect(missingVariables(compiled, { rules: 'r' })).toEqual(['persona', 'count']);
    expect(missingVariables(compiled, { persona: 'p', rules: 'r', count: 0 })).toEqual([]);
  });

  it('inserts values without HTML escaping, loops lists, and leaves optional ones empty', () => {
    const out = renderVersion(compiled, {
      persona: '<b>Tom & "Jerry"</b>',
      rules: "don't",
      count: 2,
      items: ['a<', 'b&'],
    });
    expect(out).toEqual({
      instructions: 'Speak as <b>Tom & "Jerry"</b>.',
      messages: [
        { role: 'system', content: "Rules: don't (lenient)" },
        { role: 'user', content: '- a<\n- b&\nTotal: 2' },
      ],
    });
    expect(
      renderVersion(compiled, { persona: 'p', rules: 'r', count: 1, strict: true }).messages[0]!
        .content,
    ).toBe('Rules: r');
  });

  it('sees only declared variables, and values are text, never templates or code', () => {
    const out = renderVersion(compiled, {
      persona: '{{rules}}',
      rules: 'r',
      count: 1,
      undeclared: 'x',
    });
    expect(out.instructions).toBe('Speak as {{rules}}.');
    const proto = compileVersion(
      version({
        messages: [{ role: 'user', content: '[{{constructor}}]' }],
        variables: [{ name: 'constructor', required: false }],
      }),
    );
    expect(renderVersion(proto, {}).messages[0]!.content).toBe('[]');
  });
});
