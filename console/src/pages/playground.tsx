/**
 * Playground: a key (pasted, or the one just created; in memory only), a model from
 * /v1/models, a streamed chat shown as it arrives, and the headers that say what happened.
 */
import { useRef, useState } from 'preact/hooks';
import { api, errorFrom, send } from '../api/client.ts';
import { createdKey } from '../api/session.ts';
import type { List } from '../api/types.ts';
import { ErrorNote } from '../components/state.tsx';
import { type ChatResult, gatewayHeaders, readChatStream } from '../lib/chat-stream.ts';
import { count } from '../lib/format.ts';

export function PlaygroundPage() {
  const [key, setKey] = useState(() => createdKey() ?? '');
  const [models, setModels] = useState<string[] | undefined>();
  const [model, setModel] = useState('');
  const [prompt, setPrompt] = useState('Say hello in one short sentence.');
  const [answer, setAnswer] = useState('');
  const [result, setResult] = useState<ChatResult | undefined>();
  const [headers, setHeaders] = useState<[string, string][]>([]);
  const [status, setStatus] = useState<number | undefined>();
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | undefined>(undefined);
  const auth = () => ({ authorization: `Bearer ${key.trim()}` });

  const loadModels = async () => {
    setError(undefined);
    try {
      const list = await api<List<{ id: string }>>('/v1/models', {
        headers: auth(),
        quiet401: true,
      });
      const ids = list.data.map((m) => m.id);
      setModels(ids);
      if (!ids.includes(model)) setModel(ids[0] ?? '');
    } catch (err) {
      setModels(undefined);
      setError(err);
    }
  };

  const sendChat = async (e: Event) => {
    e.preventDefault();
    abort.current?.abort();
    const controller = new AbortController();
    abort.current = controller;
    setBusy(true);
    setError(undefined);
    setAnswer('');
    setResult(undefined);
    setHeaders([]);
    setStatus(undefined);
    try {
      const res = await send('/v1/chat/completions', {
        method: 'POST',
        headers: { ...auth(), accept: 'text/event-stream' },
        body: {
          model,
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: prompt }],
        },
        signal: controller.signal,
      });
      setStatus(res.status);
      setHeaders(gatewayHeaders(res.headers));
      if (!res.ok || !res.body) throw await errorFrom(res);
      const done = await readChatStream(res.body, (_delta, soFar) => setAnswer(soFar));
      setResult(done);
    } catch (err) {
      if (!(err instanceof DOMException && err.name === 'AbortError')) setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>Playground</h1>
      <form class="playground" onSubmit={sendChat}>
        <div class="field">
          <label for="pg-key">API key</label>
          <input
            id="pg-key"
            type="password"
            autocomplete="off"
            value={key}
            placeholder="sk-gw-…"
            onInput={(e) => setKey(e.currentTarget.value)}
          />
          <small class="hint">
            Kept in this page's memory only. A key created on the Keys page is filled in.
          </small>
        </div>
        <div class="buttons">
          <button type="button" onClick={loadModels} disabled={!key.trim()}>
            Load models
          </button>
        </div>
        <div class="field">
          <label for="pg-model">Model</label>
          {models ? (
            <select id="pg-model" value={model} onChange={(e) => setModel(e.currentTarget.value)}>
              {models.map((m) => (
                <option key={m} value={m}>
                  {m}
                </option>
              ))}
            </select>
          ) : (
            <input
              id="pg-model"
              value={model}
              placeholder="Load models, or type one"
              onInput={(e) => setModel(e.currentTarget.value)}
            />
          )}
        </div>
        <div class="field">
          <label for="pg-prompt">Message</label>
          <textarea
            id="pg-prompt"
            rows={3}
            value={prompt}
            onInput={(e) => setPrompt(e.currentTarget.value)}
          />
        </div>
        <div class="buttons">
          <button type="submit" disabled={busy || !key.trim() || !model || !prompt}>
            {busy ? 'Streaming…' : 'Send'}
          </button>
          {busy && (
            <button type="button" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          )}
        </div>
      </form>
      {error !== undefined && <ErrorNote error={error} />}
      <h2>Answer</h2>
      <output class="answer" aria-live="polite" aria-label="Answer">
        {answer || (busy ? '…' : 'Nothing sent yet.')}
      </output>
      {result && (
        <p class="answer-meta">
          {result.error
            ? `The stream ended with an error: ${result.error.message}`
            : result.done
              ? `Finished (${result.finishReason ?? 'no finish reason'}).`
              : 'The stream was cut before it finished.'}
          {result.usage &&
            ` Tokens: ${count(result.usage.prompt_tokens)} in, ${count(result.usage.completion_tokens)} out.`}
        </p>
      )}
      {status !== undefined && (
        <>
          <h2>Response</h2>
          <div class="table-wrap">
            <table aria-label="Response headers">
              <tbody>
                <tr>
                  <th scope="row">status</th>
                  <td>{status}</td>
                </tr>
                {headers.map(([name, value]) => (
                  <tr key={name}>
                    <th scope="row">{name}</th>
                    <td>{value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
