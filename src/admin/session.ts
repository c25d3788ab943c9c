import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../context.ts';
import { errors } from '../errors.ts';
import { allowOnly } from '../routes/method.ts';
import { parseBody } from '../routes/parse.ts';
import { callerForToken, failedAuthGuard, requireSameOrigin } from './access.ts';
import {
  type ConsoleSession,
  clearSession,
  hasSessionCookie,
  readSession,
  writeSession,
} from './session-cookie.ts';

const signInSchema = z.object({ token: z.string().min(1) });

/**
 * The operator console's sign-in: `POST /admin/session` exchanges an admin (or
 * tenant-scoped admin) token for the session cookie (./session-cookie.ts); a wrong token is a
 * 401 counted toward `admin.failedAuthPerMinute`. `GET` tells who the cookie is, `DELETE`
 * clears it. Mounted before the rest of /admin: signing in needs no credential yet.
 */
export function sessionRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/session', async (c) => {
    const guard = await failedAuthGuard(c);
    const { token } = await parseBody(c, signInSchema);
    const caller = await callerForToken(token, c.var.deps.config);
    if (!caller) {
      await guard.countFailure();
      throw errors.adminUnauthorized();
    }
    const session: ConsoleSession = {
      actor: caller.actor,
      tenant: caller.tenant,
      expiresAt: Date.now() + c.var.deps.config.admin.sessionTtlSeconds * 1000,
    };
    await writeSession(c, session);
    return c.json(sessionBody(session));
  });

  app.get('/session', async (c) => {
    const session = await readSession(c);
    if (!session) throw errors.adminUnauthorized();
    return c.json(sessionBody(session));
  });

  app.delete('/session', (c) => {
    if (hasSessionCookie(c)) requireSameOrigin(c);
    clearSession(c);
    return c.body(null, 204);
  });

  allowOnly(app, '/session', 'GET', 'POST', 'DELETE');
  return app;
}

function sessionBody(session: ConsoleSession) {
  return {
    actor: session.actor,
    tenant: session.tenant,
    expiresAt: new Date(session.expiresAt).toISOString(),
  };
}
