// Dashboard: today's sales, revenue for the last 30 days, recent audit activity.

import { rupiah } from "../format";
import { localDate } from "../format";
import { t } from "../i18n";
import { me, mayUse } from "../session";
import { useSignal } from "../signal";
import { Alert, BarChart, loadSites, Loading, Page, useLoad } from "../ui";
import { AuditTable, fetchAudit } from "./Audit";
import { fetchReport } from "./Reports";

export function Dashboard() {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const tz = sites.data?.[0]?.timezone;
  const today = useLoad(() => fetchReport(localDate(tz), localDate(tz), "day"), [tz]);
  const month = useLoad(() => fetchReport(localDate(tz, 29), localDate(tz), "day"), [tz]);
  const canAudit = mayUse("audit", who?.role);
  const audit = useLoad(() => (canAudit ? fetchAudit({ limit: 10 }) : Promise.resolve(null)), [canAudit]);

  // Every day of the window gets a bar, even without sales.
  const bars = Array.from({ length: 30 }, (_, index) => {
    const day = localDate(tz, 29 - index);
    const line = month.data?.lines.find((l) => l.key === day);
    return { label: day, value: line?.amount ?? 0 };
  });

  return (
    <Page title={t("dash.title")}>
      <section class="stats" aria-labelledby="today-title">
        <h2 id="today-title">{t("dash.today")}</h2>
        <Loading show={today.loading} />
        <Alert message={today.error} />
        {today.data && (
          <div class="stat-row">
            <div class="stat">
              <span class="stat-label">{t("dash.count")}</span>
              <span class="stat-value" data-testid="today-count">{today.data.total.count}</span>
            </div>
            <div class="stat">
              <span class="stat-label">{t("dash.revenue")}</span>
              <span class="stat-value" data-testid="today-revenue">{rupiah(today.data.total.amount)}</span>
            </div>
          </div>
        )}
      </section>
      <section aria-labelledby="month-title">
        <h2 id="month-title">{t("dash.last30")}</h2>
        <Loading show={month.loading} />
        <Alert message={month.error} />
        {month.data && <BarChart title={t("dash.last30")} bars={bars} />}
      </section>
      <section aria-labelledby="recent-title">
        <h2 id="recent-title">{t("dash.recent")}</h2>
        {!canAudit && <p class="hint">{t("dash.noAudit")}</p>}
        <Loading show={audit.loading} />
        <Alert message={audit.error} />
        {audit.data && <AuditTable events={audit.data.events} sites={sites.data ?? []} compact />}
      </section>
    </Page>
  );
}
