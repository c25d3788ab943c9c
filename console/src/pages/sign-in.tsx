/** Sign-in with an admin token: exchanged for the session cookie, kept nowhere else. */
import { useState } from 'preact/hooks';
import { signIn } from '../api/session.ts';
import type { Session } from '../api/types.ts';
import { ErrorNote } from '../components/state.tsx';

export function SignInPage({
  notice,
  onSignedIn,
}: {
  notice?: string | undefined;
  onSignedIn: (session: Session) => void;
}) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(token);
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>Gateway console</h1>
      {notice && <p role="status">{notice}</p>}
      <form onSubmit={submit}>
        <label for="token">Admin token</label>
        <input
          id="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
        />
        <p class="hint">
          A token from the config's <code>admin.tokens</code> (or a tenant-scoped one). `npm run
          dev` prints its admin token.
        </p>
        <button type="submit" disabled={busy || !token}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {error !== undefined && <ErrorNote error={error} />}
    </main>
  );
}
