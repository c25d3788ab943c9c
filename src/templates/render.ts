/**
 * Rendering prompt templates with Mustache (mustache.js: logic-less, no eval, runs in
 * workerd). Pure: compile a version once (its parsed tokens), check it at creation (syntax,
 * no partials, every name declared), name the missing variables of a request, render.
 * Values are inserted as they are: HTML escaping is off (a prompt is not HTML). Templates
 * cannot execute code: values are strings, numbers, booleans or lists of them (never
 * functions), names are declared identifiers, and the view has no prototype to reach into.
 */
import Mustache from 'mustache';
import type { TemplateVersion, TemplateVersionInput, VariableValue } from './schema.ts';

type Tokens = ReturnType<Mustache.Writer['parse']>;

/** A writer without mustache's own template cache (unbounded, keyed by the text): compiled
 * versions are cached by the caller, per (template, version). */
const writer = new Mustache.Writer();
(writer as { templateCache?: unknown }).templateCache = undefined;

const RENDER_CONFIG = { escape: (value: unknown) => String(value) };

export interface CompiledVersion {
  version: number;
  instructions: Tokens | undefined;
  instructionsText: string | undefined;
  messages: { role: string; tokens: Tokens; text: string }[];
  required: string[];
  declared: Set<string>;
}

export interface RenderedVersion {
  instructions: string | undefined;
  messages: { role: string; content: string }[];
}

export interface TemplateProblem {
  param: string;
  reason: string;
}

/** Parses every template string of a version; throws what mustache throws on bad syntax. */
export function compileVersion(version: TemplateVersion): CompiledVersion {
  return {
    version: version.version,
    instructions:
      version.instructions === undefined ? undefined : writer.parse(version.instructions),
    instructionsText: version.instructions,
    messages: version.messages.map((m) => ({
      role: m.role,
      tokens: writer.parse(m.content),
      text: m.content,
    })),
    required: version.variables.filter((v) => v.required).map((v) => v.name),
    declared: new Set(version.variables.map((v) => v.name)),
  };
}

/** Why a version cannot be stored (the first problem, naming the field), or undefined. */
export function versionProblem(
  version: TemplateVersionInput,
  prefix = 'version',
): TemplateProblem | undefined {
  const declared = new Set(version.variables.map((v) => v.name));
  const at = (path: string) => (prefix ? `${prefix}.${path}` : path);
  const texts: [string, string][] = [
    ...(version.instructions === undefined
      ? []
      : ([[at('instructions'), version.instructions]] as [string, string][])),
    ...version.messages.map((m, i): [string, string] => [at(`messages[${i}].content`), m.content]),
  ];
  for (const [param, text] of texts) {
    let tokens: Tokens;
    try {
      tokens = writer.parse(text);
    } catch (err) {
      return { param, reason: `not a valid Mustache template (${(err as Error).message})` };
    }
    const problem = tokensProblem(tokens, declared, 0);
    if (problem) return { param, reason: problem };
  }
  return undefined;
}

function tokensProblem(tokens: Tokens, declared: Set<string>, depth: number): string | undefined {
  for (const token of tokens) {
    const [symbol, name] = token as unknown as [string, string];
    if (symbol === 'text' || symbol === '!' || symbol === '=') continue;
    if (symbol === '>') return `partials ({{> ${name}}}) are not supported`;
    if (name === '.') {
      if (depth === 0) return '{{.}} only inside a section over a list';
      continue;
    }
    if (!declared.has(name)) {
      return `uses the variable '${name}', which the version does not declare`;
    }
    const children = (token as unknown as unknown[])[4];
    if ((symbol === '#' || symbol === '^') && Array.isArray(children)) {
      const problem = tokensProblem(children as Tokens, declared, depth + 1);
      if (problem) return problem;
    }
  }
  return undefined;
}

/** The required variables the request does not give, in declaration order. */
export function missingVariables(
  compiled: CompiledVersion,
  variables: Record<string, VariableValue>,
): string[] {
  return compiled.required.filter((name) => !Object.hasOwn(variables, name));
}

/** Renders a compiled version; only declared variables are visible to it. */
export function renderVersion(
  compiled: CompiledVersion,
  variables: Record<string, VariableValue>,
): RenderedVersion {
  const view: Record<string, VariableValue> = Object.create(null);
  for (const name of compiled.declared) {
    if (Object.hasOwn(variables, name)) view[name] = variables[name]!;
  }
  const context = new Mustache.Context(view);
  const render = (tokens: Tokens, text: string) =>
    writer.renderTokens(tokens, context, undefined, text, RENDER_CONFIG);
  return {
    instructions:
      compiled.instructions === undefined
        ? undefined
        : render(compiled.instructions, compiled.instructionsText!),
    messages: compiled.messages.map((m) => ({ role: m.role, content: render(m.tokens, m.text) })),
  };
}
