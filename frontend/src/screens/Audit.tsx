// Audit log: filters (actor, action, dates), newest first, paginated by next_cursor;
// events outside the site's business hours are highlighted. `#/audit/<query>` opens it
// filtered (actor, action, from, to) with the events listed in `mark` marked (from an alert).

import { useState } from "preact/hooks";
import { errorText, request } from "../api";
import { DEFAULT_TZ, formatTime } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, Field, loadSites, Loading, onInput, Page, type Site, useLoad, usePages } from "../ui";

export interface AuditEvent {
  event_id: string;
  at: string;
  org_id: string | null;
  actor_id: string | null;
  actor_kind: string;
  actor_role: string | null;
  actor_name?: string | null;
  platform_action: boolean;
  source_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  site_id: string | null;
  off_hours: boolean | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

interface Problem {
  kind: string;
  day: string;
  chain: string | null;
  seq: number | null;
  record: { table: string; pk: string; sk: string } | null;
  message: string;
}

interface Verification {
  ok: boolean;
  chains: number;
  records: number;
  days_sealed: string[];
  totals: { report: number; ledger: number; pending: number; audit: number };
  problems: Problem[];
  first_problem: Problem | null;
}

interface AuditPage {
  events: AuditEvent[];
  next_cursor: string | null;
}

export function fetchAudit(query: Record<string, string | number | undefined>): Promise<AuditPage> {
  return request<AuditPage>(orgPath("/audit"), { query });
}

export function Audit({ filter }: { filter?: string }) {
  const initial = new URLSearchParams(filter ?? "");
  const marked = new Set((initial.get("mark") ?? "").split(",").filter(Boolean));
  const sites = useLoad(loadSites);
  const [actor, setActor] = useState(initial.get("actor") ?? "");
  const [action, setAction] = useState(initial.get("action") ?? "");
  const [from, setFrom] = useState(initial.get("from") ?? "");
  const [to, setTo] = useState(initial.get("to") ?? "");
  const page = usePages<AuditEvent>(async (cursor) => {
    const found = await fetchAudit({
      actor: actor.trim() || undefined,
      action: action.trim() || undefined,
      from: from || undefined,
      to: to || undefined,
      limit: 50,
      cursor,
    });
    return { items: found.events, next_cursor: found.next_cursor };
  });

  return (
    <Page title={t("audit.title")}>
      <form
        class="card form inline-form"
        aria-label={t("audit.title")}
        onSubmit={(event) => {
          event.preventDefault();
          void page.load(false);
        }}
      >
        <Field label={t("audit.actor")}>{(id) => <input id={id} name="actor" value={actor} onInput={onInput(setActor)} />}</Field>
        <Field label={t("audit.action")}>{(id) => <input id={id} name="action" value={action} onInput={onInput(setAction)} />}</Field>
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" value={to} onInput={onInput(setTo)} />}</Field>
        <button type="submit" disabled={page.loading}>
          {t("common.apply")}
        </button>
        <Alert message={page.error} />
      </form>
      <VerifyRecords from={from} to={to} />
      <p class="hint">{t("audit.offHoursNote")}</p>
      <AuditTable events={page.items} sites={sites.data ?? []} marked={marked} />
      <Loading show={page.loading} />
      {page.more && (
        <button type="button" class="secondary" disabled={page.loading} onClick={() => page.load(true)}>
          {t("common.more")}
        </button>
      )}
    </Page>
  );
}

function today(offsetDays = 0): string {
  return new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** Recompute the chains and reconcile revenue for the filter's dates (the last 7 days by default). */
function VerifyRecords({ from, to }: { from: string; to: string }) {
  const [result, setResult] = useState<Verification | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      setResult(await request<Verification>(orgPath("/audit/verify"), { query: { from: from || today(-6), to: to || today() } }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const first = result?.first_problem;
  return (
    <section class="card" aria-label={t("verify.title")}>
      <h2>{t("verify.title")}</h2>
      <p class="hint">{t("verify.hint")}</p>
      <button type="button" class="secondary" disabled={busy} onClick={() => void run()}>
        {t("verify.run")}
      </button>
      <Alert message={error} />
      {result && (
        <div role="status" class={result.ok ? "verify ok" : "verify failed"}>
          {result.ok ? (
            <p>{t("verify.ok", { records: result.records, chains: result.chains })}</p>
          ) : (
            <>
              <p>{t("verify.failed", { count: result.problems.length })}</p>
              {first && (
                <p>
                  <strong>{first.kind}</strong>: {first.message}
                  {first.record && (
                    <>
                      {" "}
                      <code>{first.record.sk}</code>
                    </>
                  )}
                </p>
              )}
            </>
          )}
          <p>{t("verify.totals", { ...result.totals })}</p>
          {result.days_sealed.length > 0 && <p>{t("verify.sealed", { days: result.days_sealed.join(", ") })}</p>}
        </div>
      )}
    </section>
  );
}

export function AuditTable({
  events,
  sites,
  compact = false,
  marked,
}: {
  events: AuditEvent[];
  sites: Site[];
  compact?: boolean;
  marked?: Set<string>;
}) {
  if (events.length === 0) return <p>{t("common.empty")}</p>;
  const tzOf = (siteId: string | null) => sites.find((s) => s.site_id === siteId)?.timezone ?? sites[0]?.timezone ?? DEFAULT_TZ;
  return (
    <div class="table-wrap">
      <table class="audit-table">
        <thead>
          <tr>
            <th scope="col">{t("audit.at")}</th>
            <th scope="col">{t("audit.action")}</th>
            <th scope="col">{t("audit.actor")}</th>
            <th scope="col">{t("audit.target")}</th>
            {!compact && <th scope="col">{t("audit.ip")}</th>}
            {!compact && <th scope="col">{t("audit.details")}</th>}
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr
              key={event.event_id}
              class={[event.off_hours ? "off-hours" : "", marked?.has(event.event_id) ? "marked" : ""].join(" ").trim() || undefined}
              aria-current={marked?.has(event.event_id) ? "true" : undefined}
            >
              <td data-label={t("audit.at")}>
                {formatTime(event.at, tzOf(event.site_id))}
                {event.off_hours && <span class="badge off">{t("audit.offHours")}</span>}
              </td>
              <td data-label={t("audit.action")}>
                <code>{event.action}</code>
                {event.platform_action && <span class="badge">{t("audit.platform")}</span>}
              </td>
              <td data-label={t("audit.actor")}>
                {event.actor_name ?? event.actor_id ?? event.actor_kind}
                {event.actor_role && ` (${event.actor_role})`}
              </td>
              <td data-label={t("audit.target")}>
                {event.target_type}
                {event.target_id && (
                  <>
                    {" "}
                    <code>{event.target_id}</code>
                  </>
                )}
              </td>
              {!compact && <td data-label={t("audit.ip")}>{event.source_ip ?? t("common.none")}</td>}
              {!compact && (
                <td data-label={t("audit.details")}>
                  {(event.before || event.after || event.user_agent) && (
                    <details>
                      <summary>{t("audit.details")}</summary>
                      {event.user_agent && <p class="ua">{event.user_agent}</p>}
                      {event.before && <pre>{JSON.stringify(event.before, null, 1)}</pre>}
                      {event.after && <pre>{JSON.stringify(event.after, null, 1)}</pre>}
                    </details>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
