/**
 * The request log: the query API's filters, server-side keyset pages (older / newer), each
 * row linking to its detail. The time window is fixed when the filters are applied, so
 * paging does not shift while new requests arrive.
 */
import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { api, query } from '../api/client.ts';
import type { RequestPage } from '../api/types.ts';
import { Empty, Load, useLoad } from '../components/state.tsx';
import { Head } from '../components/table.tsx';
import { count, ms, time, usd } from '../lib/format.ts';
import { currentCursor, hasNewer, newer, newest, older, pageNumber } from '../lib/pages.ts';

const HOUR = 3_600_000;
const WINDOWS = [
  { id: '1h', label: 'Last hour', ms: HOUR },
  { id: '24h', label: 'Last 24 hours', ms: 24 * HOUR },
  { id: '7d', label: 'Last 7 days', ms: 7 * 24 * HOUR },
  { id: '31d', label: 'Last 31 days', ms: 31 * 24 * HOUR },
] as const;

const TEXT_FILTERS = [
  { name: 'tenant', label: 'Tenant' },
  { name: 'key', label: 'Key id' },
  { name: 'model', label: 'Model' },
  { name: 'provider', label: 'Provider' },
  { name: 'region', label: 'Region' },
  { name: 'status', label: 'Status (429 or 5xx)' },
  { name: 'error_code', label: 'Error code' },
  { name: 'min_latency_ms', label: 'Min latency (ms)' },
] as const;

type Filters = Record<(typeof TEXT_FILTERS)[number]['name'] | 'cache' | 'window', string>;

const noFilters = (): Filters => ({
  tenant: '',
  key: '',
  model: '',
  provider: '',
  region: '',
  status: '',
  error_code: '',
  min_latency_ms: '',
  cache: '',
  window: '24h',
});

/** The query of the filters as applied: the window turned into from/to at that moment. */
function applied(filters: Filters, now = Date.now()): Record<string, string> {
  const { window, ...rest } = filters;
  const span = WINDOWS.find((w) => w.id === window)!.ms;
  return {
    ...Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, v.trim()])),
    from: new Date(now - span).toISOString(),
    to: new Date(now + 1).toISOString(),
  };
}

export function RequestsPage({ scope }: { scope: string | null }) {
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [active, setActive] = useState(() => applied(noFilters()));
  const [trail, setTrail] = useState(newest);
  const loaded = useLoad(
    (signal) =>
      api<RequestPage>(
        `/admin/requests${query({ ...active, limit: 25, cursor: currentCursor(trail) })}`,
        { signal },
      ),
    [active, trail],
  );
  const set = (name: keyof Filters, value: string) => setDraft((d) => ({ ...d, [name]: value }));
  const apply = (e: Event) => {
    e.preventDefault();
    setActive(applied(draft));
    setTrail(newest());
  };
  return (
    <section>
      <h1>Requests</h1>
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <label>
          Time
          <select value={draft.window} onChange={(e) => set('window', e.currentTarget.value)}>
            {WINDOWS.map((w) => (
              <option key={w.id} value={w.id}>
                {w.label}
              </option>
            ))}
          </select>
        </label>
        {TEXT_FILTERS.filter((f) => !(scope && f.name === 'tenant')).map((f) => (
          <label key={f.name}>
            {f.label}
            <input
              name={f.name}
              value={draft[f.name]}
              onInput={(e) => set(f.name, e.currentTarget.value)}
            />
          </label>
        ))}
        <label>
          Cache
          <select value={draft.cache} onChange={(e) => set('cache', e.currentTarget.value)}>
            <option value="">any</option>
            <option value="HIT">HIT</option>
            <option value="MISS">MISS</option>
            <option value="BYPASS">BYPASS</option>
          </select>
        </label>
        <div class="buttons">
          <button type="submit">Apply (newest first)</button>
          <button
            type="button"
            onClick={() => {
              setDraft(noFilters());
              setActive(applied(noFilters()));
              setTrail(newest());
            }}
          >
            Clear
          </button>
        </div>
      </form>
      <Load loaded={loaded} what="the request log">
        {(page) => (
          <>
            {page.data.length === 0 ? (
              <Empty>
                No requests match. Widen the time range or clear filters; a request just sent
                appears once the usage consumer has written it (Apply again to look).
              </Empty>
            ) : (
              <RequestTable page={page} />
            )}
            <nav class="pager" aria-label="Pages">
              <button
                type="button"
                disabled={!hasNewer(trail)}
                onClick={() => setTrail((t) => newer(t))}
              >
                ← Newer
              </button>
              <span>Page {pageNumber(trail)}</span>
              <button
                type="button"
                disabled={!page.next_cursor}
                onClick={() => setTrail((t) => older(t, page.next_cursor))}
              >
                Older →
              </button>
            </nav>
          </>
        )}
      </Load>
    </section>
  );
}

function RequestTable({ page }: { page: RequestPage }) {
  return (
    <div class="table-wrap">
      <table aria-label="Request log">
        <Head
          columns={[
            'Time',
            'Status',
            'Endpoint',
            'Model',
            'Provider',
            'Region',
            'Tenant',
            'Key',
            'Tokens in/out',
            'Cost',
            'Latency',
            'Cache',
          ]}
        />
        <tbody>
          {page.data.map((r) => (
            <tr key={r.id} class={r.status >= 400 ? 'failed' : undefined}>
              <td>
                <Link href={`/requests/${r.id}`}>{time(r.at)}</Link>
              </td>
              <td>
                {r.status}
                {r.error_code && <span class="code"> {r.error_code}</span>}
              </td>
              <td>
                {r.method} {r.endpoint}
              </td>
              <td>{r.model ?? '–'}</td>
              <td>{r.provider ?? '–'}</td>
              <td>{r.region ?? '–'}</td>
              <td>{r.tenant ?? '–'}</td>
              <td>{r.key_id ?? '–'}</td>
              <td>
                {count(r.input_tokens)} / {count(r.output_tokens)}
              </td>
              <td>{usd(r.cost_usd)}</td>
              <td>{ms(r.latency_ms)}</td>
              <td>{r.cache ?? '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
