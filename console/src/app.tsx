/** The console shell. Sign-in and the pages (issue #16) are not built yet. */
export function App() {
  return (
    <main>
      <h1>Edge LLM gateway console</h1>
      <p>
        The console is being built. The admin API is at <code>/admin</code> (keys, usage, request
        log, audit).
      </p>
    </main>
  );
}
