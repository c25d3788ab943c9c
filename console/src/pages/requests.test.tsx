import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { encodeCursor, parseRequestFilters } from '../../../src/usage-store/filters.ts';
import { routeFetchTo } from '../test/gateway.ts';
import { RequestsPage } from './requests.tsx';

/** 60 logged requests, one a minute, newest first; pages cut by the gateway's own cursor. */
const NOW = Date.now();
const ROWS = Array.from({ length: 60 }, (_, i) => ({
  id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  at: new Date(NOW - i * 60_000).toISOString(),
  request_id: `req-${i}`,
  method: 'POST',
  endpoint: '/v1/chat/completions',
  model: i % 2 ? 'gpt-4o-mini' : 'llama-3.1-8b-instruct',
  provider: 'openai',
  status: 200,
  input_tokens: 3,
  output_tokens: 5,
  cost_usd: 0.00001,
  latency_ms: 10,
}));

function requestLog() {
  const app = new Hono();
  app.get('/admin/requests', (c) => {
    const f = parseRequestFilters(c.req.query());
    const matching = ROWS.filter(
      (r) =>
        (!f.model || r.model === f.model) &&
        (!f.cursor || r.at < f.cursor.at || (r.at === f.cursor.at && r.id < f.cursor.id)),
    );
    const data = matching.slice(0, f.limit);
    const last = data.at(-1);
    return c.json({
      object: 'list',
      data,
      next_cursor: matching.length > f.limit && last ? encodeCursor(last) : null,
    });
  });
  return app;
}

const shownIds = () =>
  screen
    .getAllByRole('link')
    .map((a) => a.getAttribute('href'))
    .filter((h) => h?.includes('/requests/'))
    .map((h) => Number(h!.slice(-12)));

describe('RequestsPage', () => {
  it('pages older and newer with the server cursor, fetching one page at a time', async () => {
    const seen = routeFetchTo(requestLog());
    render(<RequestsPage scope={null} />);
    await waitFor(() => expect(shownIds()).toHaveLength(25));
    expect(shownIds()[0]).toBe(0);
    const newerButton = screen.getByRole('button', { name: /Newer/ });
    const olderButton = screen.getByRole('button', { name: /Older/ });
    expect((newerButton as HTMLButtonElement).disabled).toBe(true);

    fireEvent.click(olderButton);
    await waitFor(() => expect(shownIds()[0]).toBe(25));
    fireEvent.click(screen.getByRole('button', { name: /Older/ }));
    await waitFor(() => expect(shownIds()).toEqual([50, 51, 52, 53, 54, 55, 56, 57, 58, 59]));
    expect((screen.getByRole('button', { name: /Older/ }) as HTMLButtonElement).disabled).toBe(
      true,
    );
    expect(screen.getByText('Page 3')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: /Newer/ }));
    await waitFor(() => expect(shownIds()[0]).toBe(25));
    // Every page asked for 25 rows, and only the first carried no cursor.
    const asked = seen.map((s) => s.url.searchParams);
    expect(asked.every((q) => q.get('limit') === '25')).toBe(true);
    expect(asked.map((q) => q.has('cursor'))).toEqual([false, true, true, true]);
    // The window stays the one of the first load, so rows arriving meanwhile do not shift pages.
    expect(new Set(asked.map((q) => q.get('to'))).size).toBe(1);
  });

  it('sends the filters and starts again from the newest page', async () => {
    const seen = routeFetchTo(requestLog());
    render(<RequestsPage scope={null} />);
    await waitFor(() => expect(shownIds()).toHaveLength(25));
    fireEvent.click(screen.getByRole('button', { name: /Older/ }));
    await waitFor(() => expect(shownIds()[0]).toBe(25));
    fireEvent.input(screen.getByLabelText('Model'), { target: { value: 'gpt-4o-mini' } });
    fireEvent.click(screen.getByRole('button', { name: /Apply/ }));
    await waitFor(() => expect(shownIds()[0]).toBe(1));
    expect(shownIds().every((id) => id % 2 === 1)).toBe(true);
    const last = seen.at(-1)!.url.searchParams;
    expect(last.get('model')).toBe('gpt-4o-mini');
    expect(last.has('cursor')).toBe(false);
    expect(last.has('tenant')).toBe(false); // empty filters are not sent
  });

  it('shows the gateway error and what to do when the store is not configured', async () => {
    const app = new Hono();
    const { GatewayError } = await import('../../../src/errors.ts');
    app.get('/admin/requests', () => {
      throw new GatewayError(503, 'The request log needs the usage database (binding USAGE_DB).', {
        code: 'request_log_unavailable',
      });
    });
    routeFetchTo(app);
    render(<RequestsPage scope={null} />);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('binding USAGE_DB');
    expect(alert.textContent).toContain('not configured');
    expect(screen.getByRole('button', { name: 'Try again' })).toBeTruthy();
  });

  it('renders what the log holds as text, never as markup', async () => {
    const app = new Hono();
    const hostile = '<img src=x onerror="alert(1)"><b>bold</b>';
    app.get('/admin/requests', (c) =>
      c.json({
        object: 'list',
        data: [{ ...ROWS[0], model: hostile, error_code: '<script>x</script>' }],
        next_cursor: null,
      }),
    );
    routeFetchTo(app);
    const { container } = render(<RequestsPage scope={null} />);
    await screen.findByText(hostile);
    expect(container.querySelector('img, b, script')).toBeNull();
  });
});
