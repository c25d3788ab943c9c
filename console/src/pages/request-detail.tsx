/** One request of the log: routing decision, attempts, cache, tokens, cost and timings. */
import { Link } from 'wouter-preact';
import { api } from '../api/client.ts';
import type { RequestEvent } from '../api/types.ts';
import { Load, useLoad } from '../components/state.tsx';
import { count, ms, time, usd } from '../lib/format.ts';

export function RequestDetailPage({ id }: { id: string }) {
  const loaded = useLoad(
    (signal) => api<RequestEvent>(`/admin/requests/${encodeURIComponent(id)}`, { signal }),
    [id],
  );
  return (
    <section>
      <p>
        <Link href="/requests">← Back to the request log</Link>
      </p>
      <Load loaded={loaded} what="the request">
        {(r) => <RequestDetail r={r} />}
      </Load>
    </section>
  );
}

const list = (items: string[] | undefined) => (items?.length ? items.join(', ') : 'none');

function RequestDetail({ r }: { r: RequestEvent }) {
  const route = r.route;
  return (
    <>
      <h1>
        Request <code>{r.request_id}</code>
      </h1>
      <div class="detail">
        <section>
          <h2>Summary</h2>
          <dl>
            <dt>Time</dt>
            <dd>{time(r.at)}</dd>
            <dt>Endpoint</dt>
            <dd>
              {r.method} {r.endpoint}
              {r.stream ? ' (stream)' : ''}
            </dd>
            <dt>Status</dt>
            <dd>
              {r.status}
              {r.error_code ? ` ${r.error_code}` : ''}
            </dd>
            <dt>Model</dt>
            <dd>
              {r.model ?? '–'}
              {r.upstream_model ? ` → ${r.upstream_model}` : ''}
            </dd>
            <dt>Served by</dt>
            <dd>
              {r.provider ?? '–'} in {r.region ?? '–'}
            </dd>
            <dt>Key / tenant</dt>
            <dd>
              {r.key_id ?? '–'} / {r.tenant ?? '–'}
            </dd>
            {r.stream_end && (
              <>
                <dt>Stream end</dt>
                <dd>{r.stream_end}</dd>
              </>
            )}
            {r.limits && (
              <>
                <dt>Limits</dt>
                <dd>{r.limits}</dd>
              </>
            )}
          </dl>
        </section>
        <section>
          <h2>Routing decision</h2>
          {route ? (
            <dl>
              <dt>Zone</dt>
              <dd>{route.zone}</dd>
              <dt>Home region</dt>
              <dd>
                {route.home ?? '–'}
                {route.home_reason ? ` (${route.home_reason})` : ''}
              </dd>
              <dt>Candidates, in order</dt>
              <dd>{list(route.regions)}</dd>
              <dt>Dropped by residency</dt>
              <dd>{list(route.dropped_by_residency)}</dd>
              <dt>Demoted by health</dt>
              <dd>{list(route.demoted_by_health)}</dd>
            </dl>
          ) : (
            <p>No routing decision: the request was answered before routing (e.g. refused).</p>
          )}
        </section>
        <section>
          <h2>Attempts</h2>
          <p>
            {r.attempts} attempt{r.attempts === 1 ? '' : 's'}
            {r.failures.length ? ', failures:' : ', no failures.'}
          </p>
          {r.failures.length > 0 && (
            <ol class="failures">
              {r.failures.map((f, i) => (
                <li key={i}>{f}</li>
              ))}
            </ol>
          )}
          <h2>Cache</h2>
          <p>
            {r.cache ?? 'not looked up'}
            {r.cache_tier ? ` (${r.cache_tier})` : ''}
          </p>
        </section>
        <section>
          <h2>Tokens and cost</h2>
          <dl>
            <dt>Input</dt>
            <dd>{count(r.input_tokens)}</dd>
            <dt>Output</dt>
            <dd>{count(r.output_tokens)}</dd>
            <dt>Cached / cache writes</dt>
            <dd>
              {count(r.cached_tokens)} / {count(r.cache_write_tokens)}
            </dd>
            <dt>Reasoning</dt>
            <dd>{count(r.reasoning_tokens)}</dd>
            <dt>Counted by</dt>
            <dd>{r.usage_source ?? '–'}</dd>
            <dt>Cost</dt>
            <dd>{usd(r.cost_usd)}</dd>
          </dl>
        </section>
      </div>
      <Checks r={r} />
      <section>
        <h2>Timings</h2>
        <Timeline ttfbMs={r.ttfb_ms} latencyMs={r.latency_ms} />
      </section>
      <details>
        <summary>The whole event (JSON)</summary>
        <pre>{JSON.stringify(r, null, 2)}</pre>
      </details>
    </>
  );
}

/** The prompt template rendered into it, the guardrails' decisions (counts, never the matched
 * text), and the captured payload when its tenant captures them (already redacted). */
export function Checks({ r }: { r: RequestEvent }) {
  const decisions = r.guardrails ?? [];
  const payload = r.payload;
  return (
    <section>
      <h2>Template and guardrails</h2>
      <p>
        Template:{' '}
        {r.template_id ? (
          <code>
            {r.template_id}@{r.template_version}
          </code>
        ) : (
          'none'
        )}
      </p>
      {decisions.length === 0 ? (
        <p>No guardrail matched.</p>
      ) : (
        <table>
          <caption>Guardrail decisions</caption>
          <thead>
            <tr>
              <th scope="col">Policy</th>
              <th scope="col">Check</th>
              <th scope="col">On</th>
              <th scope="col">Action</th>
              <th scope="col">Matches</th>
            </tr>
          </thead>
          <tbody>
            {decisions.map((d) => (
              <tr key={`${d.policy}/${d.check}/${d.on}`}>
                <td>{d.policy}</td>
                <td>{d.check}</td>
                <td>{d.on}</td>
                <td>
                  {d.action}
                  {d.outcome ? ` (${d.outcome.replace('_', ' ')})` : ''}
                </td>
                <td>{d.matches}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {payload && (
        <details>
          <summary>Captured prompt and answer (redacted; kept until {payload.expires_on})</summary>
          <h3>Prompt{payload.prompt_truncated ? ' (cut)' : ''}</h3>
          <pre>{payload.prompt ?? '–'}</pre>
          <h3>Answer{payload.answer_truncated ? ' (cut)' : ''}</h3>
          <pre>{payload.answer ?? '–'}</pre>
        </details>
      )}
    </section>
  );
}

/** Arrival → first byte → end, as bars on one scale. */
export function Timeline({ ttfbMs, latencyMs }: { ttfbMs: number | null; latencyMs: number }) {
  const total = Math.max(latencyMs, ttfbMs ?? 0, 1);
  const share = (n: number) => `${Math.max(0.5, (n / total) * 100)}%`;
  return (
    <ol class="timeline" aria-label="Timeline">
      <li>
        <span class="phase">Until first byte</span>
        <span class="bar">
          <span class="fill ttfb" style={{ width: ttfbMs === null ? '0' : share(ttfbMs) }} />
        </span>
        <span>{ttfbMs === null ? 'no body sent' : ms(ttfbMs)}</span>
      </li>
      <li>
        <span class="phase">Until the end</span>
        <span class="bar">
          <span class="fill total" style={{ width: share(latencyMs) }} />
        </span>
        <span>{ms(latencyMs)}</span>
      </li>
    </ol>
  );
}
