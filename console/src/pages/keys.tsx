/**
 * Keys: create (the key shown once, with a copy button), edit the policy, disable or enable,
 * revoke; each key's spend this month against its budget.
 */
import { useState } from 'preact/hooks';
import { api } from '../api/client.ts';
import { rememberCreatedKey } from '../api/session.ts';
import type { KeyRecord, KeyUsage, List } from '../api/types.ts';
import { Empty, ErrorNote, Load, useLoad } from '../components/state.tsx';
import { count, time, usd } from '../lib/format.ts';
import {
  createBody,
  emptyKeyForm,
  type FormErrors,
  formFromKey,
  type KeyForm,
  patchBody,
  validateKeyForm,
} from '../lib/key-form.ts';

const status = (k: KeyRecord) =>
  k.revokedAt
    ? 'revoked'
    : k.disabled
      ? 'disabled'
      : k.expiresAt && Date.parse(k.expiresAt) <= Date.now()
        ? 'expired'
        : 'active';

export function KeysPage() {
  const loaded = useLoad((signal) => api<List<KeyRecord>>('/admin/keys', { signal }), []);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<{ key: string; record: KeyRecord } | undefined>();
  const [editing, setEditing] = useState<string | undefined>();
  const [usageOf, setUsageOf] = useState<string | undefined>();
  const [actionError, setActionError] = useState<unknown>(undefined);

  const act = async (work: () => Promise<unknown>) => {
    setActionError(undefined);
    try {
      await work();
      loaded.reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const revoke = (k: KeyRecord) => {
    if (!window.confirm(`Revoke ${k.name} (${k.id})? It stops working at once, for good.`)) return;
    void act(() => api(`/admin/keys/${k.id}`, { method: 'DELETE' }));
  };
  const toggle = (k: KeyRecord) =>
    act(() => api(`/admin/keys/${k.id}`, { method: 'PATCH', body: { disabled: !k.disabled } }));

  return (
    <section>
      <h1>Keys</h1>
      {created && <CreatedKey created={created} onDone={() => setCreated(undefined)} />}
      {creating ? (
        <KeyEditor
          title="New key"
          initial={emptyKeyForm()}
          submitLabel="Create key"
          onCancel={() => setCreating(false)}
          onSubmit={async (form) => {
            const made = await api<KeyRecord & { key: string }>('/admin/keys', {
              method: 'POST',
              body: createBody(form),
            });
            const { key, ...record } = made;
            rememberCreatedKey(key);
            setCreated({ key, record });
            setCreating(false);
            loaded.reload();
          }}
        />
      ) : (
        <button type="button" onClick={() => setCreating(true)}>
          Create a key
        </button>
      )}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      <Load loaded={loaded} what="keys">
        {(keys) =>
          keys.data.length === 0 ? (
            <Empty>No keys yet: create one above, then try it in the Playground.</Empty>
          ) : (
            <ul class="keys">
              {keys.data.map((k) => (
                <li key={k.id} class={`key ${status(k)}`} aria-label={`Key ${k.name}`}>
                  <div class="key-head">
                    <strong>{k.name}</strong> <code>{k.id}</code> <code>{k.prefix}</code>{' '}
                    <span class={`badge ${status(k)}`}>{status(k)}</span>
                  </div>
                  <dl class="key-policy">
                    <dt>Tenant</dt>
                    <dd>{k.tenant}</dd>
                    <dt>Models</dt>
                    <dd>{k.models?.join(', ') ?? 'all'}</dd>
                    <dt>Residency</dt>
                    <dd>{k.residency}</dd>
                    <dt>Limits</dt>
                    <dd>
                      {k.limits.requestsPerMinute ?? '∞'} req/min, {k.limits.tokensPerMinute ?? '∞'}{' '}
                      tokens/min
                    </dd>
                    <dt>Budget</dt>
                    <dd>
                      {k.budget.monthlyUsd === null ? 'none' : `${usd(k.budget.monthlyUsd)}/month`}
                    </dd>
                    <dt>Expires</dt>
                    <dd>{k.expiresAt ? time(k.expiresAt) : 'never'}</dd>
                  </dl>
                  {!k.revokedAt && (
                    <div class="buttons">
                      <button
                        type="button"
                        onClick={() => setEditing(editing === k.id ? undefined : k.id)}
                      >
                        Edit
                      </button>
                      <button type="button" onClick={() => toggle(k)}>
                        {k.disabled ? 'Enable' : 'Disable'}
                      </button>
                      <button type="button" class="danger" onClick={() => revoke(k)}>
                        Revoke
                      </button>
                      <button
                        type="button"
                        aria-expanded={usageOf === k.id}
                        onClick={() => setUsageOf(usageOf === k.id ? undefined : k.id)}
                      >
                        Usage
                      </button>
                    </div>
                  )}
                  {usageOf === k.id && <KeyUsageView id={k.id} />}
                  {editing === k.id && (
                    <KeyEditor
                      title={`Edit ${k.name}`}
                      initial={formFromKey(k)}
                      submitLabel="Save"
                      onCancel={() => setEditing(undefined)}
                      onSubmit={async (policy) => {
                        const patch = patchBody(k, policy);
                        if (Object.keys(patch).length > 0)
                          await api(`/admin/keys/${k.id}`, { method: 'PATCH', body: patch });
                        setEditing(undefined);
                        loaded.reload();
                      }}
                    />
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Load>
    </section>
  );
}

function CreatedKey({
  created,
  onDone,
}: {
  created: { key: string; record: KeyRecord };
  onDone: () => void;
}) {
  const [copied, setCopied] = useState<string | undefined>();
  const copy = () =>
    navigator.clipboard.writeText(created.key).then(
      () => setCopied('Copied.'),
      () => setCopied('Could not copy: select the key and copy it by hand.'),
    );
  return (
    <div class="created" role="status">
      <p>
        Key <strong>{created.record.name}</strong> created. This is the only time it is shown: copy
        it now.
      </p>
      <p>
        <output class="secret" aria-label="The new key">
          {created.key}
        </output>{' '}
        <button type="button" onClick={copy}>
          Copy
        </button>{' '}
        <span>{copied}</span>
      </p>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

function KeyUsageView({ id }: { id: string }) {
  const loaded = useLoad((signal) => api<KeyUsage>(`/admin/keys/${id}/usage`, { signal }), [id]);
  return (
    <Load loaded={loaded} what="usage">
      {(u) => (
        <dl class="key-usage">
          <dt>Spend in {u.month}</dt>
          <dd>
            {usd(u.spend_usd)}
            {u.budget_usd !== null && (
              <>
                {' '}
                of {usd(u.budget_usd)}{' '}
                <meter min={0} max={u.budget_usd} value={u.spend_usd} high={u.budget_usd * 0.8}>
                  {Math.round((u.spend_usd / u.budget_usd) * 100)}%
                </meter>
              </>
            )}
            {u.reserved_usd > 0 && ` (${usd(u.reserved_usd)} reserved by requests in flight)`}
          </dd>
          <dt>Requests this month / today</dt>
          <dd>
            {count(u.month_usage.requests)} / {count(u.today_usage.requests)}
          </dd>
          <dt>Tokens this month (in / out)</dt>
          <dd>
            {count(u.month_usage.prompt_tokens)} / {count(u.month_usage.completion_tokens)}
          </dd>
        </dl>
      )}
    </Load>
  );
}

const FIELDS: {
  name: Exclude<keyof KeyForm, 'disabled'>;
  label: string;
  hint?: string;
  type?: string;
}[] = [
  { name: 'name', label: 'Name' },
  { name: 'tenant', label: 'Tenant' },
  { name: 'models', label: 'Models', hint: 'Comma-separated; empty: every model.' },
  {
    name: 'residency',
    label: 'Residency',
    hint: 'tenant (the tenant’s default), none, or a zone such as eu.',
  },
  { name: 'requestsPerMinute', label: 'Requests per minute', hint: 'Empty: no limit.' },
  { name: 'tokensPerMinute', label: 'Tokens per minute', hint: 'Empty: no limit.' },
  { name: 'monthlyBudgetUsd', label: 'Monthly budget (USD)', hint: 'Empty: no budget.' },
  { name: 'expiresAt', label: 'Expires', type: 'datetime-local', hint: 'Empty: never.' },
  {
    name: 'guardrails',
    label: 'Guardrail policies',
    hint: 'Comma-separated policy names; empty: the tenant’s, else the defaults.',
  },
];

function KeyEditor({
  title,
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  title: string;
  initial: KeyForm;
  submitLabel: string;
  onSubmit: (policy: NonNullable<ReturnType<typeof validateKeyForm>['policy']>) => Promise<void>;
  onCancel: () => void;
}) {
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [failure, setFailure] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const checked = validateKeyForm(form);
    setErrors(checked.errors ?? {});
    setFailure(undefined);
    if (!checked.policy) return;
    setBusy(true);
    try {
      await onSubmit(checked.policy);
    } catch (err) {
      setFailure(err);
    } finally {
      setBusy(false);
    }
  };
  const prefix = title.replace(/\W+/g, '-').toLowerCase();
  return (
    <form class="key-form" onSubmit={submit} aria-label={title} noValidate>
      <h2>{title}</h2>
      {FIELDS.map((f) => {
        const id = `${prefix}-${f.name}`;
        const error = errors[f.name];
        return (
          <div class="field" key={f.name}>
            <label for={id}>{f.label}</label>
            <input
              id={id}
              type={f.type ?? 'text'}
              value={form[f.name]}
              aria-invalid={error ? 'true' : undefined}
              aria-describedby={`${id}-note`}
              onInput={(e) => setForm({ ...form, [f.name]: e.currentTarget.value })}
            />
            <small id={`${id}-note`} class={error ? 'field-error' : 'hint'}>
              {error ?? f.hint ?? ''}
            </small>
          </div>
        );
      })}
      <div class="field">
        <label>
          <input
            type="checkbox"
            checked={form.disabled}
            onChange={(e) => setForm({ ...form, disabled: e.currentTarget.checked })}
          />{' '}
          Disabled
        </label>
      </div>
      {failure !== undefined && <ErrorNote error={failure} />}
      <div class="buttons">
        <button type="submit" disabled={busy}>
          {busy ? 'Saving…' : submitLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
