import { fireEvent, render, screen, waitFor } from '@testing-library/preact';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createKeySchema } from '../../../src/auth/keys.ts';
import { errors } from '../../../src/errors.ts';
import { createdKey } from '../api/session.ts';
import { routeFetchTo } from '../test/gateway.ts';
import { KeysPage } from './keys.tsx';

/** The admin API's key routes over the gateway's own create schema, records in memory. */
function keyApi() {
  const keys: Record<string, unknown>[] = [];
  const app = new Hono();
  app.get('/admin/keys', (c) => c.json({ object: 'list', data: keys }));
  app.post('/admin/keys', async (c) => {
    const parsed = createKeySchema.safeParse(await c.req.json());
    if (!parsed.success) throw errors.invalidField('body', parsed.error.message);
    const record = {
      ...parsed.data,
      id: 'key_00000000000000aa',
      prefix: 'sk-gw-Test…',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      revokedAt: null,
    };
    keys.push(record);
    return c.json({ ...record, key: 'sk-gw-TestTestTestTestTestTestTestTest' }, 201);
  });
  return app;
}

describe('KeysPage', () => {
  it('names the wrong fields and sends nothing', async () => {
    const seen = routeFetchTo(keyApi());
    render(<KeysPage />);
    await screen.findByText(/No keys yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Create a key' }));
    fireEvent.input(screen.getByLabelText('Requests per minute'), { target: { value: 'lots' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    await screen.findByText(/Give the key a name/);
    expect(screen.getByText(/Requests per minute must be a whole number/)).toBeTruthy();
    expect(screen.getByLabelText('Name').getAttribute('aria-invalid')).toBe('true');
    expect(seen.filter((s) => s.method === 'POST')).toEqual([]);
  });

  it('creates a key the gateway accepts and shows it once, then only its prefix', async () => {
    const seen = routeFetchTo(keyApi());
    render(<KeysPage />);
    await screen.findByText(/No keys yet/);
    fireEvent.click(screen.getByRole('button', { name: 'Create a key' }));
    fireEvent.input(screen.getByLabelText('Name'), { target: { value: 'batch' } });
    fireEvent.input(screen.getByLabelText('Models'), { target: { value: 'gpt-4o-mini' } });
    fireEvent.input(screen.getByLabelText('Monthly budget (USD)'), { target: { value: '10' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create key' }));
    const shown = await screen.findByLabelText('The new key');
    expect(shown.textContent).toBe('sk-gw-TestTestTestTestTestTestTestTest');
    expect(createdKey()).toBe('sk-gw-TestTestTestTestTestTestTestTest'); // for the playground
    const post = seen.find((s) => s.method === 'POST')!;
    expect(post.body).toMatchObject({
      name: 'batch',
      models: ['gpt-4o-mini'],
      budget: { monthlyUsd: 10 },
    });
    await screen.findByText('sk-gw-Test…');
    fireEvent.click(screen.getByRole('button', { name: 'I have copied it' }));
    await waitFor(() => expect(screen.queryByLabelText('The new key')).toBeNull());
    expect(document.body.textContent).not.toContain('sk-gw-TestTestTest');
  });
});
