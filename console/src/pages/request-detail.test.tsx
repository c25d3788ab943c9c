import { render, screen, within } from '@testing-library/preact';
import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../api/types.ts';
import { Checks } from './request-detail.tsx';

const base = {
  id: '00000000-0000-4000-8000-000000000001',
  template_id: null,
  template_version: null,
  guardrails: [],
  payload: null,
} as unknown as RequestEvent;

describe('request detail: template and guardrails', () => {
  it('shows the template and each decision with its counts, never any matched text', () => {
    const r = {
      ...base,
      template_id: 'support',
      template_version: 3,
      guardrails: [
        { policy: 'default', check: 'pii', action: 'mask', on: 'request', matches: 2 },
        {
          policy: 'default',
          check: 'webhook',
          action: 'block',
          on: 'response',
          matches: 0,
          outcome: 'failed_open',
        },
      ],
    } as RequestEvent;
    render(<Checks r={r} />);
    expect(screen.getByText('support@3')).toBeTruthy();
    const rows = within(screen.getByRole('table')).getAllByRole('row').slice(1);
    expect(rows.map((row) => row.textContent)).toEqual([
      'defaultpiirequestmask2',
      'defaultwebhookresponseblock (failed open)0',
    ]);
  });

  it('says so when nothing matched and there is no template or payload', () => {
    const { container } = render(<Checks r={base} />);
    expect(screen.getByText('No guardrail matched.')).toBeTruthy();
    expect(screen.getByText(/Template:/).textContent).toBe('Template: none');
    expect(container.querySelector('details')).toBeNull();
  });

  it('renders a captured payload as text, never as markup', () => {
    const hostile = '<img src=x onerror="alert(1)">';
    const r = {
      ...base,
      payload: {
        expires_on: '2026-12-09',
        prompt: hostile,
        answer: 'fine',
        prompt_truncated: true,
        answer_truncated: false,
      },
    } as RequestEvent;
    const { container } = render(<Checks r={r} />);
    expect(screen.getByText(hostile)).toBeTruthy();
    expect(screen.getByText('Prompt (cut)')).toBeTruthy();
    expect(container.querySelector('img')).toBeNull();
  });
});
