/** The admin audit log (`GET /admin/audit`), newest first. */
import { api } from '../api/client.ts';
import type { AuditEntry, List } from '../api/types.ts';
import { Empty, Load, useLoad } from '../components/state.tsx';
import { Head } from '../components/table.tsx';
import { time } from '../lib/format.ts';

export function AuditPage() {
  const loaded = useLoad(
    (signal) => api<List<AuditEntry>>('/admin/audit?limit=200', { signal }),
    [],
  );
  return (
    <section>
      <h1>Audit</h1>
      <p class="hint">The latest 200 admin actions, newest first.</p>
      <Load loaded={loaded} what="the audit log">
        {(audit) =>
          audit.data.length === 0 ? (
            <Empty>No admin actions yet: creating or changing a key is recorded here.</Empty>
          ) : (
            <div class="table-wrap">
              <table aria-label="Audit log">
                <Head columns={['Time', 'Actor', 'Action', 'Key', 'Changes']} />
                <tbody>
                  {audit.data.map((a, i) => (
                    <tr key={i}>
                      <td>{time(a.at)}</td>
                      <td>{a.actor}</td>
                      <td>{a.action}</td>
                      <td>{a.keyId ?? '–'}</td>
                      <td>
                        <code class="changes">
                          {a.changes === undefined ? '' : JSON.stringify(a.changes)}
                        </code>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Load>
    </section>
  );
}
