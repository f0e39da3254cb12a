// Owners, managers and auditors (read-only): the organization's stage with what it means and what to
// do, the agreement (owners), the stage timeline, each site's uplink, and the last 7 days of service
// quality per site (GET /v1/orgs/{org}/compliance and /quality). Route: #/compliance.

import { api, ApiError, isMissingEndpoint } from "../api";
import { type Compliance, compliancePath, nextText, percent, reasonText, StageBadge, stageEffects, todoText } from "../compliance";
import { bytes, DEFAULT_TZ, duration, formatTime, localDate } from "../format";
import { t } from "../i18n";
import { me, orgId, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, loadSites, Loading, Page, type Site, useLoad } from "../ui";
import { AgreementFacts, loadAgreement, SiteTable, Timeline } from "./Resellers";

export interface QualityDay {
  site_id: string;
  day: string;
  accepted: number;
  rejected: Record<string, number>;
  sessions: number;
  bytes: number;
  median_session_s: number | null;
  median_exact?: boolean;
  availability: number | null;
  reject_rate?: number;
}

const DAYS = 7;
// Not the venue's fault: a guest's typo, and the refusals the suspension itself causes.
const NOT_COUNTED = ["invalid_code", "service_suspended"];

/** Rejects that count against the site over accepted + those rejects (0 when none), as the platform computes it. */
export function rejectRate(day: QualityDay): number {
  if (typeof day.reject_rate === "number") return day.reject_rate;
  const counted = Object.entries(day.rejected ?? {})
    .filter(([code]) => !NOT_COUNTED.includes(code))
    .reduce((sum, [, n]) => sum + n, 0);
  const all = day.accepted + counted;
  return all ? counted / all : 0;
}

function rejectedText(rejected: Record<string, number>): string {
  const entries = Object.entries(rejected ?? {}).filter(([, n]) => n > 0);
  if (!entries.length) return "";
  return entries
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => {
      const key = `rejected.${code}`;
      const label = t(key) === key ? code : t(key);
      return `${label} ${n}`;
    })
    .join(", ");
}

async function loadQuality(timezone: string): Promise<QualityDay[] | null> {
  try {
    const out = await api.get<{ days: QualityDay[] }>(orgPath("/quality"), { from: localDate(timezone, DAYS - 1), to: localDate(timezone) });
    return out.days;
  } catch (err) {
    // Not deployed on this server yet: a 404, or (cross-origin) a refused preflight, which the
    // browser reports as a network error; the compliance read above shows a real outage.
    if (isMissingEndpoint(err) || (err instanceof ApiError && err.code === "network")) return null;
    throw err;
  }
}

export function ComplianceScreen() {
  const who = useSignal(me);
  const org = orgId() ?? "";
  const state = useLoad(() => api.get<Compliance>(compliancePath(org)), [org]);
  const sites = useLoad(loadSites, [org]);
  const canAgreement = who?.role === "owner" || who?.role === "platform_admin";
  const agreement = useLoad(() => (canAgreement ? loadAgreement(org) : Promise.resolve(null)), [org, canAgreement]);
  const tz = sites.data?.[0]?.timezone ?? DEFAULT_TZ;
  const quality = useLoad(() => (sites.data ? loadQuality(tz) : Promise.resolve(null)), [org, tz, Boolean(sites.data)]);
  const data = state.data;
  const siteName = (siteId: string | null | undefined) =>
    data?.sites.find((s) => s.site_id === siteId)?.name || sites.data?.find((s) => s.site_id === siteId)?.name || null;

  return (
    <Page title={t("compliance.title")}>
      <Loading show={state.loading} />
      <Alert message={state.error} />
      {data && (
        <section class={`card stage-card stage-card-${data.stage}`} aria-labelledby="org-stage-title" data-testid="org-stage">
          <h2 id="org-stage-title">
            {t("compliance.orgStage")}: <StageBadge stage={data.stage} />
          </h2>
          <p>{stageEffects(data.stage)}</p>
          {data.stage !== "active" && (
            <dl class="facts">
              <dt>{t("compliance.since")}</dt>
              <dd>{formatTime(data.since, tz)}</dd>
              <dt>{t("compliance.reason")}</dt>
              <dd>{reasonText(data.reason)}</dd>
              {data.note && (
                <>
                  <dt>{t("reseller.note")}</dt>
                  <dd>{data.note}</dd>
                </>
              )}
              <dt>{t("compliance.deadline")}</dt>
              <dd>{nextText(data.next_stage, data.deadline, tz) ?? t("compliance.noDeadline")}</dd>
              <dt>{t("compliance.todo")}</dt>
              <dd>{todoText(data.reason)}</dd>
            </dl>
          )}
        </section>
      )}
      {canAgreement && (
        <section class="card" aria-labelledby="own-agreement-title">
          <h2 id="own-agreement-title">{t("agreement.title")}</h2>
          <Loading show={agreement.loading} />
          <Alert message={agreement.error} />
          {!agreement.loading && !agreement.error && (agreement.data ? <AgreementFacts agreement={agreement.data} /> : <p>{t("agreement.noneOwner")}</p>)}
        </section>
      )}
      {data && (
        <section class="card" aria-labelledby="own-sites-title">
          <h2 id="own-sites-title">{t("compliance.sites")}</h2>
          <p class="hint">{t("compliance.uplinkHint")}</p>
          <SiteTable sites={data.sites} known={sites.data ?? []} />
        </section>
      )}
      <section aria-labelledby="quality-title">
        <h2 id="quality-title">{t("compliance.quality", { days: DAYS })}</h2>
        <p class="hint">{t("compliance.qualityHint")}</p>
        <Loading show={quality.loading} />
        <Alert message={quality.error} />
        {!quality.loading && quality.data === null && !quality.error && <p>{t("compliance.qualityUnavailable")}</p>}
        {quality.data && (sites.data ?? []).map((site) => <QualityTable key={site.site_id} site={site} days={quality.data ?? []} />)}
      </section>
      {data && <Timeline history={data.history} timezone={tz} siteName={siteName} />}
    </Page>
  );
}

function QualityTable({ site, days }: { site: Site; days: QualityDay[] }) {
  const mine = days.filter((day) => day.site_id === site.site_id);
  const dates = Array.from({ length: DAYS }, (_, index) => localDate(site.timezone, DAYS - 1 - index));
  const titleId = `quality-${site.site_id}`;
  return (
    <div class="table-wrap card" data-site={site.name}>
      <table class="quality-table" aria-labelledby={titleId}>
        <caption id={titleId}>{site.name}</caption>
        <thead>
          <tr>
            <th scope="col">{t("dash.day")}</th>
            <th scope="col" class="num">{t("quality.accepted")}</th>
            <th scope="col" class="num">{t("quality.rejected")}</th>
            <th scope="col" class="num">{t("quality.rejectRate")}</th>
            <th scope="col" class="num">{t("quality.sessions")}</th>
            <th scope="col" class="num">{t("quality.data")}</th>
            <th scope="col" class="num">{t("quality.median")}</th>
            <th scope="col" class="num">{t("quality.availability")}</th>
          </tr>
        </thead>
        <tbody>
          {dates.map((date) => {
            const day = mine.find((d) => d.day === date);
            if (!day) {
              return (
                <tr key={date} data-day={date} class="no-data">
                  <td data-label={t("dash.day")}>{date}</td>
                  <td colSpan={7}>{t("quality.noFigures")}</td>
                </tr>
              );
            }
            const rejected = Object.values(day.rejected ?? {}).reduce((sum, n) => sum + n, 0);
            return (
              <tr key={date} data-day={date}>
                <td data-label={t("dash.day")}>{date}</td>
                <td data-label={t("quality.accepted")} class="num">{day.accepted}</td>
                <td data-label={t("quality.rejected")} class="num">
                  {rejected}
                  {rejected > 0 && <span class="hint quality-codes"> ({rejectedText(day.rejected)})</span>}
                </td>
                <td data-label={t("quality.rejectRate")} class="num">{percent(rejectRate(day))}</td>
                <td data-label={t("quality.sessions")} class="num">{day.sessions}</td>
                <td data-label={t("quality.data")} class="num">{bytes(day.bytes)}</td>
                <td data-label={t("quality.median")} class="num">
                  {day.median_session_s !== null && day.median_session_s !== undefined
                    ? `${day.median_exact === false ? "≈ " : ""}${duration(Math.round(day.median_session_s / 60))}`
                    : t("common.none")}
                </td>
                <td data-label={t("quality.availability")} class="num">{percent(day.availability)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
