// Platform admins: the resellers (stage, agreement end, uplink, quality, this month's revenue) with
// filters, and one reseller's page: its agreement, its stage with the timeline, its sites, and the
// actions (move to a stage with a reason and a note, reinstate, terminate after typing its name).
// Routes: #/resellers, #/resellers/<org_id>.

import { useState } from "preact/hooks";
import { api, ApiError, errorText } from "../api";
import {
  actorText,
  type Compliance,
  compliancePath,
  nextText,
  qualityText,
  REASONS,
  reasonText,
  type SiteCompliance,
  type Stage,
  StageBadge,
  STAGES,
  type StageOut,
  stageText,
  UPLINK_STATUSES,
  UplinkBadge,
  type Uplink,
  uplinkText,
} from "../compliance";
import { DEFAULT_TZ, formatTime, localDate, rupiah } from "../format";
import { t } from "../i18n";
import { navigate } from "../router";
import { setActingOrg } from "../session";
import { Alert, Field, Loading, Notice, onInput, Page, type Site, useLoad, useSubmit } from "../ui";
import { PlatformTabs } from "./Settlements";

interface Reseller {
  org_id: string;
  name: string;
  stage: Stage;
  site_stages?: Record<string, Stage>;
  agreement_ends_on: string | null;
  uplink: Uplink | string | null;
  quality: Parameters<typeof qualityText>[0];
  revenue_month: number | null;
}

export interface Agreement {
  legal_name: string;
  nib: string;
  agreement_no: string;
  starts_on: string;
  ends_on: string;
  contact_name: string;
  contact_phone: string;
}

const ENDING_DAYS = 30;

/** Sites with a stage of their own other than active. */
const siteStages = (reseller: Reseller) => Object.values(reseller.site_stages ?? {}).filter((stage) => stage !== "active").length;

const uplinkStatus = (uplink: Reseller["uplink"]) => (typeof uplink === "string" ? uplink : uplink?.status ?? "unknown");

/** The day `days` after today (YYYY-MM-DD, Jakarta): agreements ending by then are "ending soon". */
function dayAfter(days: number): string {
  return localDate(DEFAULT_TZ, -days);
}

export function Resellers() {
  const list = useLoad(() => api.get<{ resellers: Reseller[] }>("/v1/platform/resellers").then((r) => r.resellers));
  const [stage, setStage] = useState("");
  const [uplink, setUplink] = useState("");
  const [ending, setEnding] = useState(false);
  const horizon = dayAfter(ENDING_DAYS);
  const shown = (list.data ?? []).filter(
    (r) =>
      (!stage || r.stage === stage) &&
      (!uplink || uplinkStatus(r.uplink) === uplink) &&
      (!ending || (r.agreement_ends_on !== null && r.agreement_ends_on <= horizon)),
  );

  return (
    <Page title={t("resellers.title")}>
      <PlatformTabs current="resellers" />
      <form class="card form inline-form" aria-label={t("resellers.filters")} onSubmit={(event) => event.preventDefault()}>
        <Field label={t("resellers.stage")}>
          {(id) => (
            <select id={id} name="stage" value={stage} onChange={onInput(setStage)}>
              <option value="">{t("resellers.allStages")}</option>
              {STAGES.map((value) => (
                <option key={value} value={value}>
                  {stageText(value)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("resellers.uplink")}>
          {(id) => (
            <select id={id} name="uplink" value={uplink} onChange={onInput(setUplink)}>
              <option value="">{t("resellers.allUplinks")}</option>
              {UPLINK_STATUSES.map((value) => (
                <option key={value} value={value}>
                  {uplinkText(value)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <label class="check">
          <input type="checkbox" name="ending" checked={ending} onChange={(event) => setEnding((event.currentTarget as HTMLInputElement).checked)} />
          {t("resellers.ending", { days: ENDING_DAYS })}
        </label>
      </form>
      <Loading show={list.loading} />
      <Alert message={list.error} />
      {list.data && (
        <p class="hint" role="status">
          {t("resellers.count", { shown: shown.length, total: list.data.length })}
        </p>
      )}
      {shown.length > 0 && (
        <div class="table-wrap">
          <table class="resellers-table">
            <thead>
              <tr>
                <th scope="col">{t("common.name")}</th>
                <th scope="col">{t("resellers.stage")}</th>
                <th scope="col">{t("resellers.agreementEnds")}</th>
                <th scope="col">{t("resellers.uplink")}</th>
                <th scope="col">{t("resellers.quality")}</th>
                <th scope="col" class="num">{t("resellers.revenueMonth")}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((reseller) => (
                <tr key={reseller.org_id} data-org={reseller.name}>
                  <td data-label={t("common.name")}>
                    <a href={`#/resellers/${encodeURIComponent(reseller.org_id)}`}>{reseller.name}</a>
                  </td>
                  <td data-label={t("resellers.stage")}>
                    <StageBadge stage={reseller.stage} />
                    {siteStages(reseller) > 0 && <span class="hint"> {t("resellers.siteStages", { n: siteStages(reseller) })}</span>}
                  </td>
                  <td data-label={t("resellers.agreementEnds")}>
                    {reseller.agreement_ends_on ?? t("resellers.noAgreement")}
                    {reseller.agreement_ends_on && reseller.agreement_ends_on < localDate() && (
                      <span class="badge off">{t("resellers.ended")}</span>
                    )}
                  </td>
                  <td data-label={t("resellers.uplink")}>
                    <UplinkBadge uplink={reseller.uplink} />
                  </td>
                  <td data-label={t("resellers.quality")}>{qualityText(reseller.quality)}</td>
                  <td data-label={t("resellers.revenueMonth")} class="num">
                    {reseller.revenue_month === null || reseller.revenue_month === undefined ? t("common.none") : rupiah(reseller.revenue_month)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

// --- one reseller -----------------------------------------------------------------------------------

interface OrgOut {
  org_id: string;
  name: string;
}

export function ResellerPage({ orgId }: { orgId: string }) {
  const org = useLoad(() => api.get<OrgOut>(`/v1/orgs/${encodeURIComponent(orgId)}`), [orgId]);
  const state = useLoad(() => api.get<Compliance>(compliancePath(orgId)), [orgId]);
  const sites = useLoad(
    () => api.get<{ sites: Site[] }>(`/v1/orgs/${encodeURIComponent(orgId)}/sites`).then((r) => r.sites).catch(() => [] as Site[]),
    [orgId],
  );
  const name = org.data?.name ?? "";
  const tz = sites.data?.[0]?.timezone ?? DEFAULT_TZ;
  const data = state.data;
  const siteName = (siteId: string | null | undefined) =>
    data?.sites.find((s) => s.site_id === siteId)?.name || sites.data?.find((s) => s.site_id === siteId)?.name || null;

  return (
    <Page
      title={name ? t("reseller.title", { name }) : t("resellers.title")}
      actions={
        <div class="buttons">
          {org.data && (
            <button
              type="button"
              class="secondary"
              onClick={() => {
                setActingOrg({ org_id: orgId, name });
                navigate("#/compliance");
              }}
            >
              {t("platform.actIn")}: {name}
            </button>
          )}
          <a href="#/resellers">{t("reseller.back")}</a>
        </div>
      }
    >
      <Loading show={org.loading || state.loading} />
      <Alert message={org.error} />
      <Alert message={state.error} />
      {data && (
        <section class="card" aria-labelledby="stage-title" data-testid="reseller-stage">
          <h2 id="stage-title">
            {t("reseller.stage")}: <StageBadge stage={data.stage} />
          </h2>
          <dl class="facts">
            <dt>{t("compliance.since")}</dt>
            <dd>{formatTime(data.since, tz)}</dd>
            <dt>{t("compliance.reason")}</dt>
            <dd>{data.stage === "active" && !data.reason ? t("common.none") : reasonText(data.reason)}</dd>
            {data.note && (
              <>
                <dt>{t("reseller.note")}</dt>
                <dd>{data.note}</dd>
              </>
            )}
            <dt>{t("compliance.deadline")}</dt>
            <dd>{nextText(data.next_stage, data.deadline, tz) ?? t("compliance.noDeadline")}</dd>
          </dl>
          {name && (
            <StageForm
              path={`/v1/platform/orgs/${encodeURIComponent(orgId)}/stage`}
              current={data.stage}
              subject={name}
              formId="org-stage"
              onDone={() => state.reload()}
            />
          )}
        </section>
      )}
      {data && <Timeline history={data.history} timezone={tz} siteName={siteName} />}
      {data && (
        <section class="card" aria-labelledby="sites-title">
          <h2 id="sites-title">{t("compliance.sites")}</h2>
          <SiteTable
            sites={data.sites}
            known={sites.data ?? []}
            actions={(site, label) => (
              <SiteStageAction orgId={orgId} site={site} name={label} onDone={() => state.reload()} />
            )}
          />
        </section>
      )}
      <AgreementCard orgId={orgId} />
    </Page>
  );
}

/** The transitions, newest first: when, from → to, why, the note and who. */
export function Timeline({
  history,
  timezone,
  siteName,
}: {
  history: Compliance["history"];
  timezone: string;
  siteName: (siteId: string | null | undefined) => string | null;
}) {
  const sorted = [...history].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  return (
    <section class="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">{t("compliance.timeline")}</h2>
      {sorted.length === 0 && <p>{t("compliance.noHistory")}</p>}
      <ol class="timeline" data-testid="stage-timeline">
        {sorted.map((item, index) => {
          const site = item.site_id ? siteName(item.site_id) : null;
          return (
            <li key={`${item.at}-${index}`} data-to={item.to}>
              <p class="timeline-head">
                <time dateTime={item.at}>{formatTime(item.at, timezone)}</time>{" "}
                <strong>
                  {site ? `${site}: ` : ""}
                  {stageText(item.from)} → {stageText(item.to)}
                </strong>
              </p>
              <p>
                {reasonText(item.reason)} · {actorText(item.actor_name)}
              </p>
              {item.note && <p class="timeline-note">“{item.note}”</p>}
            </li>
          );
        })}
      </ol>
    </section>
  );
}

/** Sites with their stage, uplink (last address and time, in the site's zone) and quality. */
export function SiteTable({
  sites,
  known,
  actions,
}: {
  sites: SiteCompliance[];
  known: Site[];
  actions?: (site: SiteCompliance, name: string) => preact.ComponentChildren;
}) {
  if (sites.length === 0) return <p>{t("common.empty")}</p>;
  return (
    <div class="table-wrap">
      <table class="compliance-sites">
        <thead>
          <tr>
            <th scope="col">{t("common.site")}</th>
            <th scope="col">{t("resellers.stage")}</th>
            <th scope="col">{t("resellers.uplink")}</th>
            <th scope="col">{t("compliance.lastSeen")}</th>
            <th scope="col">{t("resellers.quality")}</th>
            {actions && <th scope="col">{t("common.actions")}</th>}
          </tr>
        </thead>
        <tbody>
          {sites.map((site) => {
            const info = known.find((s) => s.site_id === site.site_id);
            const name = site.name || info?.name || t("alerts.unknownSite");
            const tz = info?.timezone ?? DEFAULT_TZ;
            return (
              <tr key={site.site_id} data-site={name}>
                <td data-label={t("common.site")}>{name}</td>
                <td data-label={t("resellers.stage")}>
                  <StageBadge stage={site.stage} />
                  {site.own && site.own.stage !== "active" && site.own.reason && <span class="hint"> {reasonText(site.own.reason)}</span>}
                </td>
                <td data-label={t("resellers.uplink")}>
                  <UplinkBadge uplink={site.uplink} />
                </td>
                <td data-label={t("compliance.lastSeen")}>
                  {site.uplink?.last_address ? (
                    <>
                      <code>{site.uplink.last_address}</code> · {formatTime(site.uplink.last_seen_at, tz)}
                    </>
                  ) : (
                    t("compliance.neverSeen")
                  )}
                </td>
                <td data-label={t("resellers.quality")}>{qualityText(site.quality)}</td>
                {actions && <td data-label={t("common.actions")}>{actions(site, name)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function SiteStageAction({ orgId, site, name, onDone }: { orgId: string; site: SiteCompliance; name: string; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" class="secondary" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t("reseller.changeSiteStage", { site: name })}
      </button>
      {open && (
        <StageForm
          path={`/v1/platform/orgs/${encodeURIComponent(orgId)}/sites/${encodeURIComponent(site.site_id)}/stage`}
          current={site.own?.stage ?? "active"}
          subject={name}
          formId={`site-stage-${site.site_id}`}
          onDone={(moved) => {
            if (moved) setOpen(false);
            onDone();
          }}
        />
      )}
    </>
  );
}

/** The stages a platform admin may move to from `current` (forward, or back to active). */
function targetsFrom(current: Stage): Stage[] {
  if (current === "terminated") return [];
  const at = STAGES.indexOf(current);
  const forward = STAGES.filter((_, index) => index > at);
  return current === "active" ? forward : ["active", ...forward];
}

/**
 * Move an organization or a site to another stage: the target, a trigger reason and a note are
 * required; terminating also asks for the name typed out. A refused move (409) says why in words.
 */
export function StageForm({
  path,
  current,
  subject,
  formId,
  onDone,
}: {
  path: string;
  current: Stage;
  subject: string;
  formId: string;
  /** After a move (true), or after a refused one (false): read the stage again. */
  onDone: (moved: boolean) => void;
}) {
  const targets = targetsFrom(current);
  const [target, setTarget] = useState<Stage | "">("");
  const [reason, setReason] = useState("manual");
  const [note, setNote] = useState("");
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen: Stage | "" = target && targets.includes(target) ? target : targets[0] ?? "";
  const terminating = chosen === "terminated";
  const confirmed = !terminating || typed.trim() === subject.trim();

  if (targets.length === 0) return <p class="hint">{t("reseller.terminatedFinal")}</p>;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!chosen || !confirmed) return;
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const out = await api.post<StageOut>(path, { stage: chosen, reason, note: note.trim() });
      setNote("");
      setTyped("");
      setTarget("");
      setReason("manual");
      setNotice(t("reseller.moved", { name: subject, stage: stageText(out?.stage ?? chosen) }));
      onDone(true);
    } catch (err) {
      if (err instanceof ApiError && (err.code === "invalid_transition" || err.code === "conflict")) {
        const key = err.code === "conflict" ? "reseller.conflict" : "reseller.invalidTransition";
        setError(t(key, { from: stageText(current), to: stageText(chosen) }));
        onDone(false); // show the stage as it is now (another admin or the schedule may have moved it)
      } else {
        setError(errorText(err));
      }
    } finally {
      setBusy(false);
    }
  };

  const submitLabel =
    chosen === "active" ? t("reseller.reinstate") : terminating ? t("reseller.terminate") : t("reseller.moveTo", { stage: stageText(chosen) });

  return (
    <form class={`stage-form form${terminating ? " danger-zone" : ""}`} data-testid={formId} onSubmit={submit} aria-labelledby={`${formId}-title`}>
      <h3 id={`${formId}-title`}>{t("reseller.changeStage", { name: subject })}</h3>
      <div class="grid">
        <Field label={t("reseller.target")}>
          {(id) => (
            <select id={id} name="stage" value={chosen} onChange={(event) => {
                setTarget((event.currentTarget as HTMLSelectElement).value as Stage);
                setError(null);
                setNotice(null);
              }}>
              {targets.map((value) => (
                <option key={value} value={value}>
                  {value === "active" ? t("reseller.reinstateOption") : stageText(value)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("reseller.reason")}>
          {(id) => (
            <select id={id} name="reason" value={reason} onChange={onInput(setReason)}>
              {REASONS.map((value) => (
                <option key={value} value={value}>
                  {reasonText(value)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <p class="hint">{t(`stage.effect.${chosen || "active"}`)}</p>
      <Field label={t("reseller.note")} hint={t("reseller.noteHint")}>
        {(id, hint) => (
          <textarea id={id} name="note" required maxLength={1000} rows={2} aria-describedby={hint} value={note} onInput={onInput(setNote)} />
        )}
      </Field>
      {terminating && (
        <Field label={t("reseller.typeName", { name: subject })} hint={t("reseller.terminateHint")}>
          {(id, hint) => (
            <input id={id} name="confirm" autocomplete="off" required aria-describedby={hint} value={typed} onInput={onInput(setTyped)} />
          )}
        </Field>
      )}
      <button type="submit" class={terminating ? "danger" : undefined} disabled={busy || !note.trim() || !confirmed}>
        {submitLabel}
      </button>
      <Alert message={error} />
      <Notice message={notice} />
    </form>
  );
}

// --- the agreement ------------------------------------------------------------------------------------

const EMPTY: Agreement = { legal_name: "", nib: "", agreement_no: "", starts_on: "", ends_on: "", contact_name: "", contact_phone: "" };

async function loadAgreement(orgId: string): Promise<Agreement | null> {
  try {
    const found = await api.get<Agreement | { agreement: Agreement | null } | null>(`/v1/orgs/${encodeURIComponent(orgId)}/agreement`);
    const agreement = found && "agreement" in found ? found.agreement : found;
    return agreement?.legal_name ? agreement : null; // none recorded yet
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === "not_found") return null;
    throw err;
  }
}

/** The agreement as facts (owners read theirs on the Compliance page). */
export function AgreementFacts({ agreement }: { agreement: Agreement }) {
  return (
    <dl class="facts stack-phone" data-testid="agreement">
      <dt>{t("agreement.legalName")}</dt>
      <dd>{agreement.legal_name}</dd>
      <dt>{t("agreement.nib")}</dt>
      <dd>{agreement.nib}</dd>
      <dt>{t("agreement.number")}</dt>
      <dd>{agreement.agreement_no}</dd>
      <dt>{t("agreement.period")}</dt>
      <dd>{t("settlements.periodText", { from: agreement.starts_on, to: agreement.ends_on })}</dd>
      <dt>{t("agreement.contact")}</dt>
      <dd>
        {agreement.contact_name} · {agreement.contact_phone}
      </dd>
    </dl>
  );
}

function AgreementCard({ orgId }: { orgId: string }) {
  const agreement = useLoad(() => loadAgreement(orgId), [orgId]);
  const [editing, setEditing] = useState(false);
  const [form, setForm] = useState<Agreement>(EMPTY);
  const [dateError, setDateError] = useState<string | null>(null);
  const set = (key: keyof Agreement) => (event: Event) => setForm({ ...form, [key]: (event.currentTarget as HTMLInputElement).value });
  const { submit, error, notice, busy } = useSubmit(async () => {
    setDateError(null);
    if (form.ends_on < form.starts_on) {
      setDateError(t("agreement.endsBeforeStart"));
      return;
    }
    const saved = await api.put<Agreement>(`/v1/platform/orgs/${encodeURIComponent(orgId)}/agreement`, {
      ...form,
      legal_name: form.legal_name.trim(),
      nib: form.nib.trim(),
      agreement_no: form.agreement_no.trim(),
      contact_name: form.contact_name.trim(),
      contact_phone: form.contact_phone.trim(),
    });
    agreement.setData(saved && saved.legal_name ? saved : form);
    setEditing(false);
    return t("agreement.saved");
  });
  const start = () => {
    setForm(agreement.data ?? EMPTY);
    setEditing(true);
  };

  return (
    <section class="card" aria-labelledby="agreement-title">
      <h2 id="agreement-title">{t("agreement.title")}</h2>
      <Loading show={agreement.loading} />
      <Alert message={agreement.error} />
      <Notice message={notice} />
      {!agreement.loading && !agreement.error && !editing && (
        <>
          {agreement.data ? <AgreementFacts agreement={agreement.data} /> : <p>{t("agreement.none")}</p>}
          <button type="button" class="secondary" onClick={start}>
            {agreement.data ? t("agreement.edit") : t("agreement.record")}
          </button>
        </>
      )}
      {editing && (
        <form class="form" onSubmit={submit} aria-label={t("agreement.title")}>
          <div class="grid">
            <Field label={t("agreement.legalName")}>
              {(id) => <input id={id} name="legal_name" required maxLength={200} value={form.legal_name} onInput={set("legal_name")} />}
            </Field>
            <Field label={t("agreement.nib")} hint={t("agreement.nibHint")}>
              {(id, hint) => (
                <input id={id} name="nib" required inputMode="numeric" maxLength={20} aria-describedby={hint} value={form.nib} onInput={set("nib")} />
              )}
            </Field>
            <Field label={t("agreement.number")}>
              {(id) => <input id={id} name="agreement_no" required maxLength={100} value={form.agreement_no} onInput={set("agreement_no")} />}
            </Field>
            <Field label={t("agreement.startsOn")}>
              {(id) => <input id={id} name="starts_on" type="date" required value={form.starts_on} onInput={set("starts_on")} />}
            </Field>
            <Field label={t("agreement.endsOn")} error={dateError}>
              {(id) => <input id={id} name="ends_on" type="date" required value={form.ends_on} onInput={set("ends_on")} />}
            </Field>
            <Field label={t("agreement.contactName")}>
              {(id) => <input id={id} name="contact_name" required maxLength={200} value={form.contact_name} onInput={set("contact_name")} />}
            </Field>
            <Field label={t("agreement.contactPhone")}>
              {(id) => <input id={id} name="contact_phone" type="tel" required maxLength={30} value={form.contact_phone} onInput={set("contact_phone")} />}
            </Field>
          </div>
          <p class="hint">{t("agreement.personal")}</p>
          <div class="buttons">
            <button type="submit" disabled={busy}>
              {t("common.save")}
            </button>
            <button type="button" class="secondary" onClick={() => setEditing(false)}>
              {t("common.cancel")}
            </button>
          </div>
          <Alert message={error} />
        </form>
      )}
    </section>
  );
}

export { loadAgreement };
