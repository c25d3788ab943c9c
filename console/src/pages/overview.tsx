/** Overview: the usage series over a chosen range, split by one dimension, as charts. */
import { useMemo, useState } from 'preact/hooks';
import { api, query } from '../api/client.ts';
import type { Group, UsageSeries } from '../api/types.ts';
import { LineChart } from '../components/chart.tsx';
import { Empty, Load, useLoad } from '../components/state.tsx';
import { Head } from '../components/table.tsx';
import { count, ms, percent, usd } from '../lib/format.ts';
import { chartData, groupLabel, groupsByRequests, METRICS, totals } from '../lib/series.ts';

const HOUR = 3_600_000;
export const RANGES = [
  { id: '6h', label: 'Last 6 hours', ms: 6 * HOUR, resolution: 'hour' },
  { id: '24h', label: 'Last 24 hours', ms: 24 * HOUR, resolution: 'hour' },
  { id: '7d', label: 'Last 7 days', ms: 7 * 24 * HOUR, resolution: 'hour' },
  { id: '30d', label: 'Last 30 days', ms: 30 * 24 * HOUR, resolution: 'day' },
] as const;
const GROUPS: Group[] = ['model', 'provider', 'region', 'tenant', 'key'];

export function OverviewPage({ scope }: { scope: string | null }) {
  const [rangeId, setRangeId] = useState<(typeof RANGES)[number]['id']>('24h');
  const [groupBy, setGroupBy] = useState<Group>('model');
  const range = RANGES.find((r) => r.id === rangeId)!;
  const loaded = useLoad(
    (signal) => {
      // `to` one bucket ahead, so the bucket in progress is drawn.
      const to = new Date(Date.now() + HOUR);
      const from = new Date(to.getTime() - range.ms);
      return api<UsageSeries>(
        `/admin/usage${query({ from: from.toISOString(), to: to.toISOString(), group_by: groupBy, resolution: range.resolution })}`,
        { signal },
      );
    },
    [rangeId, groupBy],
  );
  return (
    <section>
      <h1>Overview</h1>
      <form class="controls" onSubmit={(e) => e.preventDefault()}>
        <label>
          Range{' '}
          <select
            value={rangeId}
            onChange={(e) => setRangeId(e.currentTarget.value as typeof rangeId)}
          >
            {RANGES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Split by{' '}
          <select value={groupBy} onChange={(e) => setGroupBy(e.currentTarget.value as Group)}>
            {GROUPS.filter((g) => !(scope && g === 'tenant')).map((g) => (
              <option key={g} value={g}>
                {g}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={loaded.reload}>
          Refresh
        </button>
      </form>
      <Load loaded={loaded} what="usage">
        {(series) => <OverviewCharts series={series} />}
      </Load>
    </section>
  );
}

function OverviewCharts({ series }: { series: UsageSeries }) {
  const sum = totals(series.data);
  const groups = useMemo(() => groupsByRequests(series.data), [series]);
  const charts = useMemo(
    () =>
      METRICS.map((m) => ({
        ...m,
        data: chartData(series.data, m.metric, series, groups),
      })),
    [series, groups],
  );
  const byGroup = groups.map((g) => ({
    group: g,
    ...totals(series.data.filter((p) => p.group === g)),
  }));
  return (
    <>
      <dl class="tiles" aria-label="Totals over the range">
        <Tile name="Requests" value={count(sum.requests)} />
        <Tile name="Tokens" value={count(sum.tokens)} />
        <Tile name="Cost" value={usd(sum.costUsd)} />
        <Tile name="Error rate" value={percent(sum.errorRate)} />
        <Tile name="Mean latency" value={ms(sum.latencyMsAvg)} />
      </dl>
      {series.data.length === 0 ? (
        <Empty>
          No requests in this range yet. Send one from the Playground (or with the curl lines `npm
          run dev` prints); it appears here once the usage consumer has written it.
        </Empty>
      ) : (
        <>
          <div class="table-wrap">
            <table aria-label={`Totals by ${series.group_by}`}>
              <Head
                columns={[
                  series.group_by,
                  'Requests',
                  'Tokens',
                  'Cost',
                  'Error rate',
                  'Mean latency',
                ]}
              />
              <tbody>
                {byGroup.map((g) => (
                  <tr key={groupLabel(g.group)}>
                    <th scope="row">{groupLabel(g.group)}</th>
                    <td>{count(g.requests)}</td>
                    <td>{count(g.tokens)}</td>
                    <td>{usd(g.costUsd)}</td>
                    <td>{percent(g.errorRate)}</td>
                    <td>{ms(g.latencyMsAvg)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <div class="charts">
            {charts.map((c) => (
              <LineChart key={c.metric} title={c.title} unit={c.unit} data={c.data} />
            ))}
          </div>
        </>
      )}
    </>
  );
}

function Tile({ name, value }: { name: string; value: string }) {
  return (
    <div class="tile">
      <dt>{name}</dt>
      <dd>{value}</dd>
    </div>
  );
}
