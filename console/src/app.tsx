/**
 * The operator console: sign-in, then the pages (hash routes under /console/#/...), all on
 * the admin API with the session cookie. Values from the gateway are rendered as text.
 */
import { useEffect, useState } from 'preact/hooks';
import { Link, Route, Router, Switch, useLocation } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { whenUnauthorized } from './api/client.ts';
import { currentSession, signOut } from './api/session.ts';
import type { Session } from './api/types.ts';
import { ErrorNote, Loading } from './components/state.tsx';
import { AuditPage } from './pages/audit.tsx';
import { HealthPage } from './pages/health.tsx';
import { KeysPage } from './pages/keys.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { PlaygroundPage } from './pages/playground.tsx';
import { RequestDetailPage } from './pages/request-detail.tsx';
import { RequestsPage } from './pages/requests.tsx';
import { SignInPage } from './pages/sign-in.tsx';

type SessionState =
  | { state: 'checking' }
  | { state: 'signed-out'; reason?: string }
  | { state: 'signed-in'; session: Session }
  | { state: 'failed'; error: unknown };

export function App() {
  const [session, setSession] = useState<SessionState>({ state: 'checking' });
  const check = () => {
    setSession({ state: 'checking' });
    currentSession().then(
      (s) => setSession(s ? { state: 'signed-in', session: s } : { state: 'signed-out' }),
      (error) => setSession({ state: 'failed', error }),
    );
  };
  useEffect(() => {
    check();
    whenUnauthorized(() =>
      setSession({ state: 'signed-out', reason: 'Your session has ended: sign in again.' }),
    );
    return () => whenUnauthorized(undefined);
  }, []);

  if (session.state === 'checking') return <Loading what="the console" />;
  if (session.state === 'failed')
    return (
      <main>
        <ErrorNote error={session.error} onRetry={check} />
      </main>
    );
  if (session.state === 'signed-out')
    return (
      <SignInPage
        notice={session.reason}
        onSignedIn={(s) => setSession({ state: 'signed-in', session: s })}
      />
    );
  return (
    <Router hook={useHashLocation}>
      <Shell
        session={session.session}
        onSignedOut={() => setSession({ state: 'signed-out', reason: 'Signed out.' })}
      />
    </Router>
  );
}

const PAGES = [
  { path: '/', label: 'Overview', admin: false },
  { path: '/requests', label: 'Requests', admin: false },
  { path: '/keys', label: 'Keys', admin: true },
  { path: '/health', label: 'Health', admin: true },
  { path: '/playground', label: 'Playground', admin: false },
  { path: '/audit', label: 'Audit', admin: true },
];

function Shell({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const [location] = useLocation();
  const [signingOut, setSigningOut] = useState<unknown>(undefined);
  // A tenant-scoped token reads the request log and usage of its tenant, nothing else.
  const pages = PAGES.filter((p) => !(p.admin && session.tenant !== null));
  const current = (path: string) =>
    path === '/' ? location === '/' : location === path || location.startsWith(`${path}/`);
  const out = () =>
    signOut().then(onSignedOut, (error) => setSigningOut(error ?? new Error('sign-out failed')));
  return (
    <div class="shell">
      <header>
        <span class="brand">Gateway console</span>
        <nav aria-label="Pages">
          {pages.map((p) => (
            <Link key={p.path} href={p.path} aria-current={current(p.path) ? 'page' : undefined}>
              {p.label}
            </Link>
          ))}
        </nav>
        <span class="who">
          {session.actor}
          {session.tenant !== null && ` (tenant ${session.tenant})`}
        </span>
        <button type="button" onClick={out}>
          Sign out
        </button>
      </header>
      <main>
        {signingOut !== undefined && <ErrorNote error={signingOut} />}
        <Switch>
          <Route path="/">
            <OverviewPage scope={session.tenant} />
          </Route>
          <Route path="/requests">
            <RequestsPage scope={session.tenant} />
          </Route>
          <Route path="/requests/:id">{(params) => <RequestDetailPage id={params.id} />}</Route>
          <Route path="/keys">
            <KeysPage />
          </Route>
          <Route path="/health">
            <HealthPage />
          </Route>
          <Route path="/playground">
            <PlaygroundPage />
          </Route>
          <Route path="/audit">
            <AuditPage />
          </Route>
          <Route>
            <p>
              No such page. <Link href="/">Go to the overview</Link>.
            </p>
          </Route>
        </Switch>
      </main>
    </div>
  );
}
