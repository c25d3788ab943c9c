import type { Env, Hono } from 'hono';
import { errors } from '../errors.ts';

/**
 * Answers every other method on a known path with 405 and `allow` (instead of the 404 of an
 * unknown route). Register after the path's real handlers: Hono tries routes in order.
 */
export function allowOnly<E extends Env>(app: Hono<E>, path: string, ...methods: string[]): void {
  app.all(path, (c) => {
    throw errors.methodNotAllowed(c.req.method, c.req.path, methods);
  });
}
