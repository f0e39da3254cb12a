// Anomaly alerts (GET /v1/orgs/{org}/alerts): what looked wrong, who did it, where, when
// (in the site's own zone), with a link to the audit entries it came from.

import { useState } from "preact/hooks";
import { api, request } from "../api";
import { DEFAULT_TZ, formatTime } from "../format";
import { t } from "../i18n";
import { reasonText } from "../compliance";
import { me, mayUse, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert as ErrorAlert, Field, loadSites, Loading, onInput, Page, type Site, useLoad, usePages } from "../ui";

export const ALERT_KINDS = [
  "off_hours",
  "redeem_before_sale",
  "wrong_site",
  "failed_redeem_burst",
  "bulk_revoke",
  "code_export",
  "void_after_shift",
  "uplink_unregistered",
  "compliance_warning",
  "payment_problem",
] as const;

export interface AnomalyAlert {
  alert_id: string;
  kind: (typeof ALERT_KINDS)[number];
  at: string;
  actor_id: string | null;
  actor_kind: string;
  actor_name: string | null;
  source_ip: string | null;
  site_id: string | null;
  summary: string;
  details: Record<string, unknown>;
  audit_event_ids: string[];
}

interface AlertPage {
  alerts: AnomalyAlert[];
  next_cursor: string | null;
}

export function fetchAlerts(query: Record<string, string | number | undefined>): Promise<AlertPage> {
  return request<AlertPage>(orgPath("/alerts"), { query });
}

/** People by email (owners may list users; everyone else sees the name the alert recorded). */
export function useUserNames(): Map<string, string> {
  const who = useSignal(me);
  const canList = mayUse("users", who?.role);
  const users = useLoad(
    () =>
      canList
        ? api.get<{ users: Array<{ user_id: string; email: string }> }>(orgPath("/users")).then((r) => r.users)
        : Promise.resolve([]),
    [canList],
  );
  return new Map((users.data ?? []).map((user) => [user.user_id, user.email]));
}

export function actorLabel(alert: AnomalyAlert, names: Map<string, string>): string {
  const name = (alert.actor_id && names.get(alert.actor_id)) || alert.actor_name;
  if (name) return name;
  return t(`alerts.actor.${alert.actor_kind}`);
}

/** The audit screen, filtered to the alert's actor, action and day, its events marked. */
export function auditLink(alert: AnomalyAlert): string | null {
  if (alert.audit_event_ids.length === 0) return null;
  const day = alert.at.slice(0, 10);
  const start = typeof alert.details.first_at === "string" ? alert.details.first_at.slice(0, 10) : day;
  const params = new URLSearchParams({ from: start, to: day, mark: alert.audit_event_ids.join(",") });
  if (alert.actor_id) params.set("actor", alert.actor_id);
  const action = typeof alert.details.action === "string" ? alert.details.action : null;
  if (action) params.set("action", action);
  return `#/audit/${encodeURIComponent(params.toString())}`;
}

/** What happened; a compliance warning in the console's language (the reason is a trigger code). */
function summaryOf(alert: AnomalyAlert): string {
  const { reason, note } = alert.details;
  if (alert.kind !== "compliance_warning" || typeof reason !== "string") return alert.summary;
  return t("alerts.complianceSummary", { reason: reasonText(reason), note: typeof note === "string" ? note : "" });
}

export function Alerts() {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const names = useUserNames();
  const [kind, setKind] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const page = usePages<AnomalyAlert>(async (cursor) => {
    const found = await fetchAlerts({ kind: kind || undefined, from: from || undefined, to: to || undefined, limit: 50, cursor });
    return { items: found.alerts, next_cursor: found.next_cursor };
  });

  return (
    <Page title={t("alerts.title")}>
      <form
        class="card form inline-form"
        aria-label={t("alerts.filters")}
        onSubmit={(event) => {
          event.preventDefault();
          void page.load(false);
        }}
      >
        <Field label={t("alerts.kind")}>
          {(id) => (
            <select id={id} name="kind" value={kind} onChange={(event) => setKind((event.target as HTMLSelectElement).value)}>
              <option value="">{t("alerts.allKinds")}</option>
              {ALERT_KINDS.map((value) => (
                <option key={value} value={value}>
                  {t(`alerts.kind.${value}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" value={to} onInput={onInput(setTo)} />}</Field>
        <button type="submit" disabled={page.loading}>
          {t("common.apply")}
        </button>
        <ErrorAlert message={page.error} />
      </form>
      <p class="hint">{t("alerts.note")}</p>
      <AlertTable alerts={page.items} sites={sites.data ?? []} names={names} canAudit={mayUse("audit", who?.role)} />
      <Loading show={page.loading} />
      {page.more && (
        <button type="button" class="secondary" disabled={page.loading} onClick={() => page.load(true)}>
          {t("common.more")}
        </button>
      )}
    </Page>
  );
}

export function AlertTable({
  alerts,
  sites,
  names,
  canAudit,
  compact = false,
}: {
  alerts: AnomalyAlert[];
  sites: Site[];
  names: Map<string, string>;
  canAudit: boolean;
  compact?: boolean;
}) {
  if (alerts.length === 0) return <p data-testid="no-alerts">{t("alerts.none")}</p>;
  const siteOf = (siteId: string | null) => sites.find((s) => s.site_id === siteId);
  return (
    <div class="table-wrap">
      <table class="alert-table">
        <thead>
          <tr>
            <th scope="col">{t("alerts.kind")}</th>
            <th scope="col">{t("audit.at")}</th>
            <th scope="col">{t("audit.actor")}</th>
            <th scope="col">{t("alerts.site")}</th>
            <th scope="col">{t("alerts.what")}</th>
            {!compact && <th scope="col">{t("audit.ip")}</th>}
            {!compact && <th scope="col">{t("alerts.trail")}</th>}
          </tr>
        </thead>
        <tbody>
          {alerts.map((alert) => {
            const site = siteOf(alert.site_id);
            const link = canAudit ? auditLink(alert) : null;
            return (
              <tr key={alert.alert_id} data-kind={alert.kind}>
                <td data-label={t("alerts.kind")}>
                  <span class={`badge alert-${alert.kind}`}>{t(`alerts.kind.${alert.kind}`)}</span>
                </td>
                <td data-label={t("audit.at")}>{formatTime(alert.at, site?.timezone ?? sites[0]?.timezone ?? DEFAULT_TZ)}</td>
                <td data-label={t("audit.actor")}>{actorLabel(alert, names)}</td>
                <td data-label={t("alerts.site")}>{site?.name ?? (alert.site_id ? t("alerts.unknownSite") : t("common.none"))}</td>
                <td data-label={t("alerts.what")}>{summaryOf(alert)}</td>
                {!compact && <td data-label={t("audit.ip")}>{alert.source_ip ?? t("common.none")}</td>}
                {!compact && (
                  <td data-label={t("alerts.trail")}>
                    {link ? (
                      <a href={link}>{t("alerts.toAudit", { count: alert.audit_event_ids.length })}</a>
                    ) : alert.audit_event_ids.length === 0 ? (
                      t("alerts.noTrail")
                    ) : (
                      t("alerts.trailAuditorsOnly")
                    )}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
