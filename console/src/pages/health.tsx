/** Health: providers (circuits, probe verdicts) and regions (origins, pools), /admin/health. */
import { api } from '../api/client.ts';
import { Load, useLoad } from '../components/state.tsx';

export function HealthPage() {
  const loaded = useLoad((signal) => api<unknown>('/admin/health', { signal }), []);
  return (
    <section>
      <h1>Health</h1>
      <Load loaded={loaded} what="health">
        {(health) => <pre>{JSON.stringify(health, null, 2)}</pre>}
      </Load>
    </section>
  );
}
