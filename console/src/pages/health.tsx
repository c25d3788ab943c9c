/**
 * Health (`GET /admin/health`): providers with their circuits and the cron probe's last
 * verdicts; regions with their origin's readiness and pools (endpoints, queue depth, KV-cache
 * use, ejected endpoints).
 */
import { api } from '../api/client.ts';
import type { HealthDocument, ProbeVerdict, RegionHealth } from '../api/types.ts';
import { Empty, Load, useLoad } from '../components/state.tsx';
import { Head } from '../components/table.tsx';
import { count, ms, percent, time } from '../lib/format.ts';

export function HealthPage() {
  const loaded = useLoad((signal) => api<HealthDocument>('/admin/health', { signal }), []);
  return (
    <section>
      <h1>Health</h1>
      <div class="buttons">
        <button type="button" onClick={loaded.reload}>
          Refresh
        </button>
        {loaded.data && <span class="hint">As of {time(loaded.data.generatedAt)}</span>}
      </div>
      <Load loaded={loaded} what="health">
        {(health) => (
          <>
            {health.error && (
              <p class="state error" role="alert">
                {health.error}
              </p>
            )}
            <h2>Providers</h2>
            <Providers health={health} />
            <h2>Regions</h2>
            {health.regions.length === 0 ? (
              <Empty>No regions in the config.</Empty>
            ) : (
              health.regions.map((r) => <Region key={r.name} region={r} />)
            )}
          </>
        )}
      </Load>
    </section>
  );
}

function verdict(probes: ProbeVerdict[]): string {
  const last = probes[0];
  if (!last) return 'not probed yet';
  const how = last.ok ? 'ok' : `failed (${last.error ?? last.status ?? 'no answer'})`;
  return `${how}, ${ms(last.latencyMs)}, ${time(last.at)}`;
}

const history = (probes: ProbeVerdict[]) => probes.map((p) => (p.ok ? '✓' : '✗')).join(' ');

function Providers({ health }: { health: HealthDocument }) {
  if (health.providers.length === 0) return <Empty>No providers in the config.</Empty>;
  return (
    <div class="table-wrap">
      <table aria-label="Providers">
        <Head
          columns={[
            'Provider',
            'Kind',
            'Region / zones',
            'State',
            'Circuit',
            'Last probe',
            'Recent probes',
          ]}
        />
        <tbody>
          {health.providers.map((p) => (
            <tr key={p.name} class={p.healthy ? undefined : 'failed'}>
              <th scope="row">{p.name}</th>
              <td>{p.kind}</td>
              <td>
                {p.region ?? 'global'} / {p.zones.join(', ') || '–'}
              </td>
              <td>{p.healthy ? 'healthy' : 'unhealthy'}</td>
              <td>
                {p.circuit.state}
                {p.circuit.state === 'open' && p.circuit.until && ` until ${time(p.circuit.until)}`}
              </td>
              <td>{verdict(p.probes)}</td>
              <td aria-label="newest first">{history(p.probes)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Region({ region }: { region: RegionHealth }) {
  return (
    <article class="region" aria-label={`Region ${region.name}`}>
      <h3>
        {region.name} <span class="hint">zone {region.zone}</span>{' '}
        <span class={`badge ${region.readiness === 'ready' ? 'active' : 'disabled'}`}>
          {region.origin ? region.readiness : 'no origin'}
        </span>
      </h3>
      {region.origin && (
        <p>
          Origin <code>{region.origin}</code>; readiness probe: {verdict(region.probes)}
        </p>
      )}
      {region.error && (
        <p class="state error" role="alert">
          The origin could not be read: {region.error}. Check that it runs and that an `origin`
          provider of this region has its signing key.
        </p>
      )}
      {region.pools.map((pool) => (
        <div key={pool.name} class="table-wrap">
          <table aria-label={`Pool ${pool.name} in ${region.name}`}>
            <caption>
              Pool {pool.name} ({pool.engine}: {pool.models.join(', ')}): queue{' '}
              {count(pool.queueDepth)}, in flight {count(pool.inflight)}
            </caption>
            <Head columns={['Endpoint', 'State', 'In flight', 'Running / waiting', 'KV cache']} />
            <tbody>
              {pool.endpoints.map((e) => (
                <tr key={e.id} class={e.healthy && !e.ejected ? undefined : 'failed'}>
                  <th scope="row">{e.id}</th>
                  <td>
                    {e.ejected
                      ? `ejected${e.ejectedUntil ? ` until ${time(e.ejectedUntil)}` : ''}`
                      : e.healthy
                        ? 'healthy'
                        : 'unhealthy'}
                  </td>
                  <td>{count(e.inflight)}</td>
                  <td>
                    {count(e.running)} / {count(e.waiting)}
                  </td>
                  <td>{percent(e.kvCacheUsage)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </article>
  );
}
