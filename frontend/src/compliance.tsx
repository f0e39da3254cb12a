// The staged suspension as the console shows it: the shapes of GET /v1/orgs/{org}/compliance,
// stages and trigger reasons in words, and the banner owners and managers see on every screen
// while their organization or one of their sites is not active (read once per navigation).

import { useEffect } from "preact/hooks";
import { api } from "./api";
import { DEFAULT_TZ, formatTime } from "./format";
import { t } from "./i18n";
import { orgId, type Role } from "./session";
import { signal, useSignal } from "./signal";
import { loadSites, useLoad } from "./ui";

export const STAGES = ["active", "grace", "restricted", "suspended", "terminated"] as const;
export type Stage = (typeof STAGES)[number];

export const REASONS = ["agreement_expired", "settlement_overdue", "uplink_unregistered", "quality_breach", "manual"] as const;
export type Reason = (typeof REASONS)[number];

export const UPLINK_STATUSES = ["registered", "unregistered", "unknown"] as const;
export type UplinkStatus = (typeof UPLINK_STATUSES)[number];

export interface Uplink {
  status: UplinkStatus;
  last_address: string | null;
  last_seen_at: string | null;
}

/** Yesterday's figures the platform compares with its policy (fractions 0–1). */
export interface QualitySummary {
  availability?: number | null;
  reject_rate?: number | null;
  day?: string | null;
  breach?: boolean | null;
  status?: string | null;
}

export interface Transition {
  from: Stage | null;
  to: Stage;
  reason: Reason | string;
  note: string | null;
  actor_name: string | null;
  at: string;
  site_id?: string | null;
}

export interface StageOut {
  stage: Stage;
  since: string | null;
  reason: string | null;
  note?: string | null;
  deadline: string | null;
  next_stage?: Stage | null;
}

export interface SiteCompliance {
  site_id: string;
  name?: string | null;
  /** Where the site stands: the later of its own stage and its organization's. */
  stage: Stage;
  /** The site's own stage, when it was ever moved on its own. */
  own?: StageOut | null;
  uplink: Uplink | null;
  quality: QualitySummary | string | null;
}

export interface Compliance {
  stage: Stage;
  since: string | null;
  reason: Reason | string | null;
  note?: string | null;
  deadline: string | null;
  next_stage: Stage | null;
  history: Transition[];
  sites: SiteCompliance[];
}

export const compliancePath = (org: string) => `/v1/orgs/${encodeURIComponent(org)}/compliance`;

/** Is `a` a later stage than `b`? */
export function laterThan(a: Stage, b: Stage): boolean {
  return STAGES.indexOf(a) > STAGES.indexOf(b);
}

/** Sites worse off than their organization on their own account (a site merely sharing the org's stage is said once, for the org). */
export function sitesOnTheirOwn(data: Compliance): SiteCompliance[] {
  return data.sites.filter((site) => site.own && site.own.stage !== "active" && laterThan(site.stage, data.stage));
}

/** Who moved it: the admin's email, or the schedule. */
export function actorText(name: string | null | undefined): string {
  return !name || name === "scheduler" ? t("compliance.scheduler") : name;
}

export function stageText(stage: string | null | undefined): string {
  return stage ? t(`stage.${stage}`) : t("common.none");
}

export function reasonText(reason: string | null | undefined): string {
  if (!reason) return t("common.none");
  const key = `reason.${reason}`;
  const text = t(key);
  return text === key ? reason : text;
}

export function uplinkText(status: string | null | undefined): string {
  return status ? t(`uplink.${status}`) : t("uplink.unknown");
}

/** A fraction 0–1 as `99,5 %` (one decimal; `—` when not known). */
export function percent(fraction: number | null | undefined): string {
  if (fraction === null || fraction === undefined || !Number.isFinite(fraction)) return t("common.none");
  return `${(fraction * 100).toLocaleString(t("locale"), { maximumFractionDigits: 1 })} %`;
}

/** The quality summary the API gives per site or reseller, in words, whatever its shape. */
export function qualityText(quality: QualitySummary | string | null | undefined): string {
  if (!quality) return t("common.none");
  if (typeof quality === "string") {
    const key = `quality.${quality}`;
    return t(key) === key ? quality : t(key);
  }
  const parts: string[] = [];
  if (quality.availability !== undefined && quality.availability !== null) {
    parts.push(t("quality.availabilityShort", { value: percent(quality.availability) }));
  }
  if (quality.reject_rate !== undefined && quality.reject_rate !== null) {
    parts.push(t("quality.rejectShort", { value: percent(quality.reject_rate) }));
  }
  if (quality.breach) parts.push(t("quality.breach"));
  if (!parts.length && quality.status) return qualityText(quality.status);
  return parts.length ? parts.join(" · ") : t("common.none");
}

/** A stage as a coloured badge (text, never colour alone). */
export function StageBadge({ stage }: { stage: string | null | undefined }) {
  return <span class={`badge stage stage-${stage ?? "none"}`} data-stage={stage ?? ""}>{stageText(stage)}</span>;
}

export function UplinkBadge({ uplink }: { uplink: Uplink | string | null | undefined }) {
  const status = typeof uplink === "string" ? uplink : uplink?.status ?? "unknown";
  return <span class={`badge uplink uplink-${status}`}>{uplinkText(status)}</span>;
}

// --- the banner ------------------------------------------------------------------------------------

/** The organization's compliance as last read (with whose it is), refreshed on every navigation. */
export const compliance = signal<{ org: string; data: Compliance } | null>(null);

let inFlight: { org: string; read: Promise<void> } | null = null;

/** Read the organization's compliance (a navigation during a read of the same organization waits for it). */
export function refreshCompliance(): Promise<void> {
  const org = orgId();
  if (!org) {
    compliance.set(null);
    return Promise.resolve();
  }
  if (inFlight?.org === org) return inFlight.read;
  const read = api
    .get<Compliance>(compliancePath(org))
    .then((data) => {
      if (orgId() === org) compliance.set({ org, data });
    })
    .catch(() => {
      // No banner is better than a broken screen: the endpoint may not be deployed yet, and a
      // failed read is shown on the Compliance page itself.
      if (orgId() === org) compliance.set(null);
    })
    .finally(() => {
      if (inFlight?.read === read) inFlight = null;
    });
  inFlight = { org, read };
  return read;
}

export function seesBanner(role: Role | undefined, hasOrg: boolean): boolean {
  return hasOrg && (role === "owner" || role === "manager" || role === "platform_admin");
}

/** What stops at the next stage, and what has stopped already at this one. */
export function stageEffects(stage: Stage): string {
  return t(`stage.effect.${stage}`);
}

export function nextText(next: Stage | null | undefined, deadline: string | null | undefined, timezone: string): string | null {
  if (!next || !deadline) return null;
  return t("banner.next", { at: formatTime(deadline, timezone), stage: stageText(next), what: t(`stage.stops.${next}`) });
}

export function todoText(reason: string | null | undefined): string {
  const key = `reason.todo.${reason ?? "manual"}`;
  const text = t(key);
  return text === key ? t("reason.todo.manual") : text;
}

/** The banner above every screen while the organization or one of its sites is not active. */
export function ComplianceBanner({ path, org }: { path: string; org: string }) {
  const state = useSignal(compliance);
  const data = state?.org === org ? state.data : null; // never another organization's, read before a switch
  // Site names and zones, once per organization (the deadline is shown in the site's local time).
  const siteList = useLoad(() => loadSites().catch(() => []), [org]);
  const sites = siteList.data ?? [];
  useEffect(() => {
    void refreshCompliance();
  }, [path, org]);
  // Wait for the sites too, so a deadline never shows in the wrong zone first.
  if (!data || siteList.loading) return null;
  const troubled = sitesOnTheirOwn(data);
  if (data.stage === "active" && troubled.length === 0) return null;
  const zoneOf = (siteId?: string) => sites.find((s) => s.site_id === siteId)?.timezone ?? sites[0]?.timezone ?? DEFAULT_TZ;
  const nameOf = (site: SiteCompliance) => site.name || sites.find((s) => s.site_id === site.site_id)?.name || t("alerts.unknownSite");
  const severe = data.stage === "suspended" || data.stage === "terminated" || troubled.some((s) => s.stage === "suspended" || s.stage === "terminated");
  return (
    <aside class={`compliance-banner no-print${severe ? " severe" : ""}`} role="region" aria-label={t("banner.label")} data-testid="compliance-banner">
      {data.stage !== "active" && (
        <div class="banner-item" data-stage={data.stage}>
          <p class="banner-head">
            <strong>{t("banner.org", { stage: stageText(data.stage) })}</strong>{" "}
            {t("banner.since", { at: formatTime(data.since, zoneOf()), reason: reasonText(data.reason) })}
          </p>
          <p>{stageEffects(data.stage)}</p>
          {nextText(data.next_stage, data.deadline, zoneOf()) && <p>{nextText(data.next_stage, data.deadline, zoneOf())}</p>}
          <p class="banner-todo">{todoText(data.reason)}</p>
        </div>
      )}
      {troubled.map((site) => (
        <div class="banner-item" key={site.site_id} data-stage={site.stage}>
          <p class="banner-head">
            <strong>{t("banner.site", { site: nameOf(site), stage: stageText(site.stage) })}</strong>{" "}
            {site.own?.reason ? t("banner.siteReason", { reason: reasonText(site.own.reason) }) : ""}
          </p>
          <p>{stageEffects(site.stage)}</p>
          {nextText(site.own?.next_stage, site.own?.deadline, zoneOf(site.site_id)) && (
            <p>{nextText(site.own?.next_stage, site.own?.deadline, zoneOf(site.site_id))}</p>
          )}
          <p class="banner-todo">{todoText(site.own?.reason)}</p>
        </div>
      ))}
      <p>
        <a href="#/compliance">{t("banner.details")}</a>
      </p>
    </aside>
  );
}
