import { z } from 'zod';
import { promptReferenceSchema } from '../templates/schema.ts';

/**
 * The Responses API request (https://platform.openai.com/docs/api-reference/responses/create),
 * validated on what the gateway reads or translates. Loose: fields it does not know pass
 * through to OpenAI targets as they came.
 */
const contentPart = z.looseObject({ type: z.string() });

export const inputItemSchema = z.union([
  z.looseObject({
    type: z.literal('message').optional(),
    role: z.enum(['user', 'assistant', 'system', 'developer']),
    content: z.union([z.string(), z.array(contentPart)]),
  }),
  z.looseObject({
    type: z.literal('function_call'),
    call_id: z.string().min(1),
    name: z.string().min(1),
    arguments: z.string(),
  }),
  z.looseObject({
    type: z.literal('function_call_output'),
    call_id: z.string().min(1),
    output: z.union([z.string(), z.array(contentPart)]),
  }),
  z.looseObject({ type: z.enum(['reasoning', 'item_reference']) }),
]);

const functionTool = z.looseObject({
  type: z.literal('function'),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

export const responsesRequestSchema = z.looseObject({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(inputItemSchema).min(1)]),
  instructions: z.string().nullish(),
  tools: z.array(z.union([functionTool, z.looseObject({ type: z.string() })])).nullish(),
  tool_choice: z
    .union([
      z.enum(['auto', 'none', 'required']),
      z.looseObject({ type: z.literal('function'), name: z.string().min(1) }),
      z.looseObject({ type: z.string() }),
    ])
    .nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  max_output_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  stream: z.boolean().nullish(),
  store: z.boolean().nullish(),
  previous_response_id: z.string().min(1).max(200).nullish(),
  text: z
    .looseObject({
      format: z
        .union([
          z.looseObject({
            type: z.literal('json_schema'),
            name: z.string().min(1),
            schema: z.record(z.string(), z.unknown()),
            strict: z.boolean().nullish(),
            description: z.string().nullish(),
          }),
          z.looseObject({ type: z.enum(['text', 'json_object']) }),
        ])
        .nullish(),
    })
    .nullish(),
  reasoning: z
    .looseObject({ effort: z.enum(['minimal', 'low', 'medium', 'high']).nullish() })
    .nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  user: z.string().nullish(),
});

/** What `POST /v1/responses` accepts: `input` may be left out when `prompt` names a prompt
 * template (src/templates), whose messages come before the request's own input and whose
 * instructions before its own `instructions`. */
export const responsesCreateSchema = responsesRequestSchema
  .extend({
    input: responsesRequestSchema.shape.input.optional(),
    prompt: promptReferenceSchema.nullish(),
  })
  .refine((req) => req.input !== undefined || (req.prompt ?? undefined) !== undefined, {
    message: 'required unless `prompt` names a template',
    path: ['input'],
  });

export type ResponsesRequest = z.output<typeof responsesRequestSchema>;
export type ResponsesCreateRequest = z.output<typeof responsesCreateSchema>;
export type InputItem = z.output<typeof inputItemSchema>;
