import { z } from 'zod';
import { promptReferenceSchema } from '../templates/schema.ts';

/**
 * Anthropic Messages request (https://docs.anthropic.com/en/api/messages), validated on the
 * fields the translation relies on. Loose: unknown fields are accepted (and dropped, see
 * ./request.ts).
 */
const block = z.looseObject({ type: z.string() });

export const anthropicMessageSchema = z.looseObject({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string(), z.array(block)]),
});

export const anthropicRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(anthropicMessageSchema).min(1),
  system: z.union([z.string(), z.array(block)]).optional(),
  stream: z.boolean().optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  top_k: z.number().int().positive().optional(),
  stop_sequences: z.array(z.string()).optional(),
  tools: z
    .array(z.looseObject({ name: z.string().min(1), input_schema: z.looseObject({}).optional() }))
    .optional(),
  tool_choice: z.looseObject({ type: z.enum(['auto', 'any', 'tool', 'none']) }).optional(),
  metadata: z.looseObject({ user_id: z.string().nullish() }).optional(),
});

export type AnthropicRequest = z.output<typeof anthropicRequestSchema>;

/** What `POST /v1/messages` accepts: `messages` may be left out when `prompt` (a gateway
 * extension, as on chat completions) names a prompt template (src/templates). */
export const messagesCreateSchema = anthropicRequestSchema
  .extend({
    messages: anthropicRequestSchema.shape.messages.optional(),
    prompt: promptReferenceSchema.optional(),
  })
  .refine((req) => req.messages !== undefined || req.prompt !== undefined, {
    message: 'required unless `prompt` names a template',
    path: ['messages'],
  });

export type MessagesCreateRequest = z.output<typeof messagesCreateSchema>;

/** `POST /v1/messages/count_tokens`: the same request without `max_tokens`. */
export const countTokensRequestSchema = anthropicRequestSchema.extend({
  max_tokens: z.number().int().positive().optional(),
});
