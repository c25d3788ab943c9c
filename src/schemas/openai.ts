import { z } from 'zod';
import { promptReferenceSchema } from '../templates/schema.ts';

/**
 * OpenAI request bodies, validated on the fields the gateway relies on. Objects are loose:
 * fields we do not know (new OpenAI parameters, provider extensions such as vLLM's
 * `guided_json`) pass through to the upstream untouched.
 */

const streamOptions = z.looseObject({ include_usage: z.boolean().optional() }).nullish();

const sampling = {
  stream: z.boolean().nullish(),
  stream_options: streamOptions,
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  n: z.number().int().min(1).max(128).nullish(),
  /** OpenAI's bounds: 0-20 log probabilities per token, best_of up to 20. */
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  best_of: z.number().int().min(1).max(20).nullish(),
  seed: z.number().int().nullish(),
};

const contentPart = z.looseObject({ type: z.string() });

export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(contentPart), z.null()]).optional(),
});

export const chatRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(chatMessageSchema).min(1),
  max_completion_tokens: z.number().int().positive().nullish(),
  ...sampling,
});

/** What `POST /v1/chat/completions` accepts: the request, whose `messages` may be left out
 * when it names a prompt template (`prompt`, a gateway extension: src/templates), whose
 * rendered messages come before the request's own. */
export const chatCreateSchema = chatRequestSchema
  .extend({
    messages: z.array(chatMessageSchema).min(1).optional(),
    prompt: promptReferenceSchema.optional(),
  })
  .refine((body) => body.messages !== undefined || body.prompt !== undefined, {
    message: 'required unless `prompt` names a template',
    path: ['messages'],
  });

const tokens = z.array(z.number().int());

export const completionRequestSchema = z.looseObject({
  model: z.string().min(1),
  prompt: z.union([z.string(), z.array(z.string()), tokens, z.array(tokens)]),
  ...sampling,
});

/** OpenAI's own bound on inputs per embeddings request. */
const MAX_EMBEDDING_INPUTS = 2_048;

export const embeddingRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([
    z.string(),
    z.array(z.string()).min(1).max(MAX_EMBEDDING_INPUTS),
    tokens.min(1),
    z.array(tokens).min(1).max(MAX_EMBEDDING_INPUTS),
  ]),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
});

export type ChatRequest = z.output<typeof chatRequestSchema>;
export type CompletionRequest = z.output<typeof completionRequestSchema>;
export type EmbeddingRequest = z.output<typeof embeddingRequestSchema>;
export type ChatMessage = z.output<typeof chatMessageSchema>;

/** The three proxied endpoints, named by their path under /v1. */
export type Endpoint = 'chat/completions' | 'completions' | 'embeddings';
