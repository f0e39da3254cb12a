// Dashboard: today's sales, active vouchers, revenue and redemptions for the last
// 30 days (GET /v1/orgs/{org}/dashboard), recent audit activity. While the dashboard
// endpoint is not deployed (404), today and the revenue bars come from the sales report.

import { api, isMissingEndpoint } from "../api";
import { localDate, rupiah } from "../format";
import { t } from "../i18n";
import { me, mayUse, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, loadSites, Loading, Page, useId, useLoad } from "../ui";
import { AlertTable, fetchAlerts, useUserNames } from "./Alerts";
import { AuditTable, fetchAudit } from "./Audit";
import { fetchReport } from "./Reports";

interface DashboardOut {
  today: { count: number; amount: number };
  active_vouchers: number;
  days: Array<{ day: string; amount: number; count: number; redemptions: number }>;
}

export interface DayPoint {
  day: string; // YYYY-MM-DD, local to the organization
  amount: number;
  count: number;
  redemptions: number | null; // null: not known (the report fallback)
}

interface DashboardData {
  today: { count: number; amount: number };
  activeVouchers: number | null;
  days: DayPoint[];
}

async function loadDashboard(): Promise<DashboardData> {
  try {
    const data = await api.get<DashboardOut>(orgPath("/dashboard"));
    return {
      today: data.today,
      activeVouchers: data.active_vouchers,
      days: data.days.map((d) => ({ day: d.day, amount: d.amount, count: d.count, redemptions: d.redemptions })),
    };
  } catch (err) {
    if (!isMissingEndpoint(err)) throw err;
  }
  // The endpoint is not there yet: the sales report, by day, in the first site's timezone.
  const sites = await loadSites();
  const tz = sites[0]?.timezone;
  const [today, month] = await Promise.all([
    fetchReport(localDate(tz), localDate(tz), "day"),
    fetchReport(localDate(tz, 29), localDate(tz), "day"),
  ]);
  // Every day of the window gets a bar, even without sales.
  const days = Array.from({ length: 30 }, (_, index) => {
    const day = localDate(tz, 29 - index);
    const line = month.lines.find((l) => l.key === day);
    return { day, amount: line?.amount ?? 0, count: line?.count ?? 0, redemptions: null };
  });
  return { today: { count: today.total.count, amount: today.total.amount }, activeVouchers: null, days };
}

export function Dashboard() {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const dash = useLoad(loadDashboard);
  const canAudit = mayUse("audit", who?.role);
  const audit = useLoad(() => (canAudit ? fetchAudit({ limit: 10 }) : Promise.resolve(null)), [canAudit]);
  const withRedemptions = Boolean(dash.data?.days.some((d) => d.redemptions !== null));
  const canAlerts = mayUse("alerts", who?.role);
  const names = useUserNames();
  const alerts = useLoad(
    // The last 7 UTC days, as many as one page holds (the count says "200+" beyond it).
    () => (canAlerts ? fetchAlerts({ from: new Date(Date.now() - 6 * 86_400_000).toISOString().slice(0, 10), limit: 200 }) : Promise.resolve(null)),
    [canAlerts],
  );

  return (
    <Page title={t("dash.title")}>
      <section class="stats" aria-labelledby="today-title">
        <h2 id="today-title">{t("dash.today")}</h2>
        <Loading show={dash.loading} />
        <Alert message={dash.error} />
        {dash.data && (
          <div class="stat-row">
            <div class="stat">
              <span class="stat-label">{t("dash.count")}</span>
              <span class="stat-value" data-testid="today-count">{dash.data.today.count}</span>
            </div>
            <div class="stat">
              <span class="stat-label">{t("dash.revenue")}</span>
              <span class="stat-value" data-testid="today-revenue">{rupiah(dash.data.today.amount)}</span>
            </div>
            {dash.data.activeVouchers !== null && (
              <div class="stat">
                <span class="stat-label">{t("dash.active")}</span>
                <span class="stat-value" data-testid="active-vouchers">{dash.data.activeVouchers}</span>
              </div>
            )}
          </div>
        )}
      </section>
      {canAlerts && (
        <section aria-labelledby="alerts-title">
          <h2 id="alerts-title">{t("dash.alerts")}</h2>
          <Loading show={alerts.loading} />
          <Alert message={alerts.error} />
          {alerts.data && (
            <>
              <div class="stat-row">
                <div class="stat">
                  <span class="stat-label">{t("dash.alertsWeek")}</span>
                  <span class="stat-value" data-testid="alerts-count">
                    {alerts.data.alerts.length}
                    {alerts.data.next_cursor ? "+" : ""}
                  </span>
                  <a class="stat-link" href="#/alerts">
                    {t("dash.allAlerts")}
                  </a>
                </div>
              </div>
              <AlertTable
                alerts={alerts.data.alerts.slice(0, 3)}
                sites={sites.data ?? []}
                names={names}
                canAudit={canAudit}
                compact
              />
            </>
          )}
        </section>
      )}
      <section aria-labelledby="month-title">
        <h2 id="month-title">{withRedemptions ? t("dash.last30both") : t("dash.last30")}</h2>
        {dash.data && <TrendChart days={dash.data.days} />}
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

/**
 * Revenue per day as bars and redemptions per day as a line, each on its own scale
 * (the legend gives both maxima). Plain SVG with nothing inline that a strict CSP
 * would block; text lives in HTML (the SVG stretches), and the numbers are in a table.
 */
export function TrendChart({ days }: { days: DayPoint[] }) {
  const id = useId("trend");
  const withRedemptions = days.some((d) => d.redemptions !== null);
  const width = 600;
  const height = 180;
  const top = 8;
  const gap = 4;
  const slot = days.length ? width / days.length : 0;
  const barWidth = Math.max(2, slot - gap);
  const maxAmount = Math.max(1, ...days.map((d) => d.amount));
  const maxRedemptions = Math.max(1, ...days.map((d) => d.redemptions ?? 0));
  const totalAmount = days.reduce((sum, d) => sum + d.amount, 0);
  const totalCount = days.reduce((sum, d) => sum + d.count, 0);
  const totalRedemptions = days.reduce((sum, d) => sum + (d.redemptions ?? 0), 0);
  const peakAmount = Math.max(0, ...days.map((d) => d.amount));
  const peakRedemptions = Math.max(0, ...days.map((d) => d.redemptions ?? 0));
  const y = (value: number, max: number) => height - (value / max) * (height - top);
  const points = days.map((d, index) => `${(index * slot + slot / 2).toFixed(1)},${y(d.redemptions ?? 0, maxRedemptions).toFixed(1)}`);
  const first = days[0]?.day ?? "";
  const last = days[days.length - 1]?.day ?? "";
  const title = withRedemptions ? t("dash.last30both") : t("dash.last30");
  const summary = withRedemptions
    ? t("dash.chartDesc", { from: first, to: last, revenue: rupiah(totalAmount), sold: totalCount, redemptions: totalRedemptions })
    : t("dash.chartDescRevenue", { from: first, to: last, revenue: rupiah(totalAmount), sold: totalCount });

  return (
    <figure class="chart trend-chart">
      <ul class="legend" aria-label={t("dash.legend")}>
        <li>
          <span class="legend-swatch legend-bar" aria-hidden="true" />
          {t("dash.seriesRevenue")} · {t("common.total")} {rupiah(totalAmount)} · {t("dash.max", { value: rupiah(peakAmount) })}
        </li>
        {withRedemptions && (
          <li>
            <span class="legend-swatch legend-line" aria-hidden="true" />
            {t("dash.seriesRedemptions")} · {t("common.total")} {totalRedemptions} · {t("dash.max", { value: peakRedemptions })}
          </li>
        )}
      </ul>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-labelledby={`${id}-title ${id}-desc`} preserveAspectRatio="none">
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {days.map((d, index) => {
          const h = (d.amount / maxAmount) * (height - top);
          return <rect key={`bar-${d.day}`} class="bar" x={index * slot + gap / 2} y={height - h} width={barWidth} height={h} />;
        })}
        <line x1="0" y1={height} x2={width} y2={height} class="axis" vector-effect="non-scaling-stroke" />
        {withRedemptions && <polyline class="line" points={points.join(" ")} vector-effect="non-scaling-stroke" />}
        {days.map((d, index) => (
          // One hover target per day with everything known about it.
          <rect key={`hit-${d.day}`} class="hit" x={index * slot} y={0} width={slot} height={height}>
            <title>
              {withRedemptions
                ? t("dash.dayTip", { day: d.day, revenue: rupiah(d.amount), sold: d.count, redemptions: d.redemptions ?? 0 })
                : t("dash.dayTipRevenue", { day: d.day, revenue: rupiah(d.amount), sold: d.count })}
            </title>
          </rect>
        ))}
      </svg>
      <figcaption class="chart-caption">
        <span>{first}</span>
        <span>{last}</span>
      </figcaption>
      <details class="chart-table">
        <summary>{t("dash.asTable")}</summary>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">{t("dash.day")}</th>
                <th scope="col" class="num">{t("dash.revenue")}</th>
                <th scope="col" class="num">{t("dash.count")}</th>
                {withRedemptions && <th scope="col" class="num">{t("dash.seriesRedemptions")}</th>}
              </tr>
            </thead>
            <tbody>
              {days.map((d) => (
                <tr key={d.day}>
                  <th scope="row">{d.day}</th>
                  <td class="num">{rupiah(d.amount)}</td>
                  <td class="num">{d.count}</td>
                  {withRedemptions && <td class="num">{d.redemptions ?? 0}</td>}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
