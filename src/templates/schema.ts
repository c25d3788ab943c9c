import { z } from 'zod';

/**
 * Prompt templates: what the admin API accepts and what a request names. A template has an id,
 * a tenant (or none: global, usable by every tenant), numbered immutable versions and a
 * `production` pointer. A version is messages and/or `instructions` (Mustache template
 * strings) and the variables they may use, declared.
 */

/** Variable names: identifiers only (no dotted paths into values, no `.` lookups beyond a
 * section's current item), so a template can only ever read what the request gave. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Ids chosen by the operator (or made by the gateway): safe in a Redis key and a URL path. */
export const TEMPLATE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export const MAX_TEMPLATE_CHARS = 100_000;

const templateText = z.string().max(MAX_TEMPLATE_CHARS);

export const templateMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    /** A Mustache template: `{{name}}` (not HTML-escaped: prompts are not HTML),
     * `{{#list}}…{{/list}}`, `{{^flag}}…{{/flag}}`; no partials. */
    content: templateText,
  })
  .strict();

export const templateVariableSchema = z
  .object({
    name: z.string().regex(VARIABLE_NAME, 'an identifier: letters, digits, _ (at most 64)'),
    /** Default true: a request that does not give it is refused with a 400 naming it. An
     * optional variable that is not given renders as nothing. */
    required: z.boolean().default(true),
    description: z.string().max(1_000).optional(),
  })
  .strict();

export const templateVersionInputSchema = z
  .object({
    /** Sent before the request's own messages (chat) or input (Responses). Default none. */
    messages: z.array(templateMessageSchema).max(100).default([]),
    /** Responses-style instructions: the Responses `instructions`; on chat completions a
     * system message before the template's messages. Default none. */
    instructions: templateText.optional(),
    /** Every variable the template uses, declared. Default none. */
    variables: z.array(templateVariableSchema).max(100).default([]),
  })
  .strict()
  .refine((v) => v.messages.length > 0 || v.instructions !== undefined, {
    message: 'a version needs messages or instructions',
    path: ['messages'],
  })
  .refine((v) => new Set(v.variables.map((x) => x.name)).size === v.variables.length, {
    message: 'each variable is declared once',
    path: ['variables'],
  });

export const createTemplateSchema = z
  .object({
    /** Default: made by the gateway (`pmpt_` + 32 hex characters). */
    id: z
      .string()
      .regex(TEMPLATE_ID, 'letters, digits, _ . - (at most 128, starting with a letter or digit)')
      .optional(),
    /** The tenant whose keys may use it; null (the default) for a global template that every
     * tenant's keys may use. */
    tenant: z.string().min(1).max(200).nullable().default(null),
    description: z.string().max(1_000).default(''),
    /** Version 1. */
    version: templateVersionInputSchema,
  })
  .strict();

export const setProductionSchema = z.object({ version: z.number().int().positive() }).strict();

const scalar = z.union([z.string(), z.number(), z.boolean()]);
/** The Responses API's own variable form: an `input_text` part stands for its text. */
const inputText = z
  .looseObject({ type: z.literal('input_text'), text: z.string() })
  .transform((part) => part.text);

export const variableValueSchema = z.union([
  scalar,
  inputText,
  z.array(z.union([scalar, inputText])).max(100),
]);

/** What a request names: `prompt: {id, version?, variables?}` (chat completions: a gateway
 * extension; the Responses API: its own `prompt` parameter, where versions are strings). */
export const promptReferenceSchema = z
  .object({
    id: z.string().min(1).max(128),
    /** Default: the template's production version. */
    version: z
      .union([
        z.number().int().positive(),
        z
          .string()
          .regex(/^[1-9][0-9]{0,8}$/)
          .transform(Number),
      ])
      .nullish(),
    variables: z.record(z.string(), variableValueSchema).default({}),
  })
  .strict();

export type TemplateMessage = z.output<typeof templateMessageSchema>;
export type TemplateVariable = z.output<typeof templateVariableSchema>;
export type TemplateVersionInput = z.output<typeof templateVersionInputSchema>;
export type CreateTemplateInput = z.output<typeof createTemplateSchema>;
export type PromptReference = z.output<typeof promptReferenceSchema>;
export type VariableValue = z.output<typeof variableValueSchema>;

/** One stored, immutable version. */
export interface TemplateVersion extends TemplateVersionInput {
  version: number;
  createdAt: string;
  createdBy: string;
}

/** A template as the admin API shows it. */
export interface TemplateRecord {
  id: string;
  tenant: string | null;
  description: string;
  /** The version `prompt: {id}` without a version renders. */
  production: number;
  /** The newest version's number (versions are 1..latest). */
  latest: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
}
