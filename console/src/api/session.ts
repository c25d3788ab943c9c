/** Console sign-in: the admin token exchanged for the `gw_console` cookie (HttpOnly). */
import { api } from './client.ts';
import type { Session } from './types.ts';

/** The current session, or null when there is none (401). */
export async function currentSession(): Promise<Session | null> {
  try {
    return await api<Session>('/admin/session', { quiet401: true });
  } catch (err) {
    if ((err as { status?: number }).status === 401) return null;
    throw err;
  }
}

/** Signs in; the token goes in this one request's body and is kept nowhere. */
export function signIn(token: string): Promise<Session> {
  return api<Session>('/admin/session', { method: 'POST', body: { token }, quiet401: true });
}

export function signOut(): Promise<void> {
  return api<void>('/admin/session', { method: 'DELETE', quiet401: true });
}

/**
 * The key the operator last created, for the playground: in this page's memory only (never
 * in localStorage or sessionStorage), gone on reload.
 */
let lastCreatedKey: string | undefined;
export const rememberCreatedKey = (key: string) => {
  lastCreatedKey = key;
};
export const createdKey = (): string | undefined => lastCreatedKey;
