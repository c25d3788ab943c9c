import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import {
  COUNT_TOKENS_PATH,
  countTokensHandler,
  MESSAGES_PATH,
  messagesHandler,
} from '../anthropic/index.ts';
import { apiKeyAuth } from '../auth/index.ts';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { proxy } from '../proxy/index.ts';
import { REALTIME_PATH, realtimeHandler } from '../realtime/index.ts';
import {
  createResponseHandler,
  deleteResponseHandler,
  getResponseHandler,
  inputItemsHandler,
  RESPONSES_PATH,
} from '../responses/index.ts';
import {
  chatCreateSchema,
  completionRequestSchema,
  embeddingRequestSchema,
} from '../schemas/openai.ts';
import { renderedChatMessages, renderPrompt } from '../templates/index.ts';
import { allowOnly } from './method.ts';
import { keyMayUse, parseBody, resolveModel } from './parse.ts';

/** The OpenAI-compatible API under /v1. */
export function v1Routes(maxBodyBytes: number): Hono<AppEnv> {
  const v1 = new Hono<AppEnv>();

  v1.use(async function attemptsHeader(c, next) {
    c.header('x-gateway-attempts', '0');
    await next();
  });
  v1.use(apiKeyAuth());

  v1.post(
    '*',
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: () => {
        throw errors.bodyTooLarge(maxBodyBytes);
      },
    }),
  );

  v1.post('/chat/completions', async (c) => {
    const { prompt, ...request } = await parseBody(c, chatCreateSchema);
    const model = resolveModel(c, request.model, 'chat', '/v1/chat/completions');
    const rendered = prompt ? renderedChatMessages(await renderPrompt(c, prompt)) : [];
    const body = { ...request, messages: [...rendered, ...(request.messages ?? [])] };
    return proxy(c, { endpoint: 'chat/completions', body, model });
  });

  /** Anthropic-shaped clients (@anthropic-ai/sdk): src/anthropic. */
  v1.post(MESSAGES_PATH.slice('/v1'.length), messagesHandler);
  v1.post(COUNT_TOKENS_PATH.slice('/v1'.length), countTokensHandler);

  /** The Responses API: src/responses. */
  v1.post(RESPONSES_PATH.slice('/v1'.length), createResponseHandler);
  v1.get('/responses/:id', getResponseHandler);
  v1.delete('/responses/:id', deleteResponseHandler);
  v1.get('/responses/:id/input_items', inputItemsHandler);

  /** Realtime over a WebSocket: src/realtime. */
  v1.get(REALTIME_PATH.slice('/v1'.length), realtimeHandler);

  v1.post('/completions', async (c) => {
    const body = await parseBody(c, completionRequestSchema);
    const model = resolveModel(c, body.model, 'chat', '/v1/completions', 'completions');
    return proxy(c, { endpoint: 'completions', body, model });
  });

  v1.post('/embeddings', async (c) => {
    const body = await parseBody(c, embeddingRequestSchema);
    const model = resolveModel(c, body.model, 'embedding', '/v1/embeddings');
    if (body.dimensions !== undefined && body.dimensions > model.maxDimensions) {
      throw errors.invalidField(
        'dimensions',
        `at most ${model.maxDimensions} for the model '${body.model}'`,
      );
    }
    return proxy(c, { endpoint: 'embeddings', body, model });
  });

  v1.get('/models', (c) =>
    c.json({
      object: 'list',
      data: Object.entries(c.get('deps').config.models)
        .filter(([id]) => keyMayUse(c, id))
        .map(([id, model]) => ({
          id,
          object: 'model',
          created: 0,
          owned_by: model.ownedBy,
        })),
    }),
  );

  v1.get('/models/:model{.+}', (c) => {
    const id = c.req.param('model');
    const model = Object.hasOwn(c.get('deps').config.models, id)
      ? c.get('deps').config.models[id]
      : undefined;
    // A model the key may not use is not there for it, as in the list.
    if (!model || !keyMayUse(c, id)) throw errors.modelNotFound(id);
    return c.json({ id, object: 'model', created: 0, owned_by: model.ownedBy });
  });

  for (const path of [
    '/chat/completions',
    '/completions',
    '/embeddings',
    MESSAGES_PATH.slice('/v1'.length),
    COUNT_TOKENS_PATH.slice('/v1'.length),
    RESPONSES_PATH.slice('/v1'.length),
  ]) {
    allowOnly(v1, path, 'POST');
  }
  allowOnly(v1, '/responses/:id', 'GET', 'DELETE');
  allowOnly(v1, '/responses/:id/input_items', 'GET');
  allowOnly(v1, REALTIME_PATH.slice('/v1'.length), 'GET');
  allowOnly(v1, '/models', 'GET');
  allowOnly(v1, '/models/:model{.+}', 'GET');

  return v1;
}
