// Find a voucher by code: status, terms, the timeline of every transition; revoke with a reason;
// pause and resume it where its plan allows, and top it up with one of the org's top-up plans.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, errorText } from "../api";
import { bytes, duration, formatTime, groupCode, rupiah } from "../format";
import { hasKey, t } from "../i18n";
import { me, mayManage, orgPath } from "../session";
import { useSignal } from "../signal";
import { megabytes, planPreview } from "../planPreview";
import { Alert, Field, loadPlans, loadSites, Notice, onInput, Page, type Plan, type PlanPause, type PlanWindow, type QuotaPeriod, type Site, useLoad } from "../ui";

const MB = 1_048_576;

interface TimelineEvent {
  at: string | null;
  event: string;
  by?: string | null;
  site_id?: string | null;
  reason?: string | null;
  [key: string]: unknown;
}

interface Voucher {
  voucher_id: string;
  status: string;
  plan: {
    plan_id: string;
    name: string;
    price: number;
    duration_minutes: number;
    time_mode: "wallclock" | "usage";
    data_quota_bytes: number | null;
    // Issue 16's terms (absent from a server that predates them).
    windows?: PlanWindow[] | null;
    period_quota_bytes?: number | null;
    quota_period?: QuotaPeriod | null;
    pause?: PlanPause | null;
    device_policy?: "shared" | "first_devices";
    idle_release_minutes?: number | null;
  };
  site_id: string | null;
  issued_at: string | null;
  valid_until: string | null;
  sold_at: string | null;
  sale_id?: string | null;
  activated_at: string | null;
  expires_at: string | null;
  devices_used: number;
  max_devices: number;
  used_seconds: number;
  used_bytes: number;
  devices: { slot: string; last_seen_at: string | null }[];
  timeline: TimelineEvent[];
  paused_at?: string | null;
  pauses_used?: number;
  period?: { data_remaining_bytes: number; resets_at: string } | null;
  window?: { open: boolean; closes_at: string | null; next_opens_at: string | null } | null;
}

/** The voucher's own copy of its plan's terms, in the words the plan editor uses. */
function voucherTerms(voucher: Voucher): string {
  const plan = voucher.plan;
  const mb = (value: number | null | undefined) => (value ? Math.round(value / MB) : null);
  return planPreview({
    ...plan,
    data_quota_mb: mb(plan.data_quota_bytes),
    period_quota_mb: mb(plan.period_quota_bytes),
    max_devices: voucher.max_devices,
  });
}

/** A refusal with the API's reason after it (why this voucher may not be paused or topped up). */
function refusalText(error: unknown): string {
  if (error instanceof ApiError && error.detail && ["pause_not_allowed", "topup_not_allowed"].includes(error.code)) {
    return `${error.message}: ${error.detail}`;
  }
  return errorText(error);
}

// Pausing stops a running clock; a top-up adds onto any code that can still be used.
const TOPPABLE = ["issued", "sold", "active", "paused"];

function statusText(status: string): string {
  return hasKey(`vstatus.${status}`) ? t(`vstatus.${status}`) : status;
}

export function Vouchers({ initialCode }: { initialCode?: string }) {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const [code, setCode] = useState(initialCode ?? "");
  const [voucher, setVoucher] = useState<Voucher | null>(null);
  const [shownCode, setShownCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [revokedNotice, setRevokedNotice] = useState<string | null>(null);

  const find = async (value: string) => {
    setError(null);
    setRevokedNotice(null);
    setVoucher(null);
    const clean = value.replace(/[\s-]/g, "").toUpperCase();
    if (!clean) return;
    setBusy(true);
    try {
      setVoucher(await api.get<Voucher>(orgPath(`/vouchers/${encodeURIComponent(clean)}`)));
      setShownCode(clean);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  /** Read the voucher again after an action answered with less than the whole voucher. */
  const reload = async (notice: string) => {
    setVoucher(await api.get<Voucher>(orgPath(`/vouchers/${encodeURIComponent(shownCode)}`)));
    setRevokedNotice(notice);
  };

  const releaseDevice = async (slot: string) => {
    setError(null);
    setRevokedNotice(null);
    setBusy(true);
    try {
      const path = `/vouchers/${encodeURIComponent(shownCode)}/devices/${encodeURIComponent(slot)}/release`;
      setVoucher(await api.post<Voucher>(orgPath(path), {}));
      setRevokedNotice(t("vouchers.deviceReleased"));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  useEffect(() => {
    if (initialCode) void find(initialCode);
  }, [initialCode]);

  // Only owners may list the org's people; others see names where the entry is their own.
  const people = useLoad(
    () =>
      who?.role === "owner" || who?.role === "platform_admin"
        ? api.get<{ users: Array<{ user_id: string; email: string }> }>(orgPath("/users")).then((r) => r.users)
        : Promise.resolve([]),
    [who?.role],
  );
  const siteOf = (id: string | null | undefined): Site | undefined => sites.data?.find((s) => s.site_id === id);
  const byName = (entry: TimelineEvent): preact.ComponentChildren => {
    const by = entry.by;
    if (!by) return t("common.none");
    if (entry.event === "sold" && voucher?.sale_id === by) {
      return <a href={`#/sales/${encodeURIComponent(by)}`}>{t("vouchers.sale")}</a>;
    }
    if (entry.event === "issued") return voucher?.sale_id === by ? t("vouchers.sale") : t("batches.id");
    if (by === who?.user_id) return who.email;
    return people.data?.find((person) => person.user_id === by)?.email ?? by;
  };
  const tz = siteOf(voucher?.site_id)?.timezone ?? sites.data?.[0]?.timezone;
  const mayTopUp = mayManage(who?.role) || who?.role === "cashier";
  const topups = useLoad<Plan[]>(
    () => (mayTopUp ? loadPlans().then((plans) => plans.filter((plan) => plan.kind === "topup" && !plan.archived)) : Promise.resolve([])),
    [mayTopUp],
  );
  const eventNote = (entry: TimelineEvent): string => {
    if (entry.event !== "topped_up") return entry.reason ?? "";
    const name = topups.data?.find((plan) => plan.plan_id === entry.plan_id)?.name ?? String(entry.plan_id ?? "");
    const adds = [
      typeof entry.minutes === "number" && entry.minutes > 0 ? duration(entry.minutes) : null,
      typeof entry.data_mb === "number" && entry.data_mb > 0 ? megabytes(entry.data_mb) : null,
    ].filter(Boolean);
    return adds.length ? t("vouchers.toppedUpWith", { plan: name, adds: adds.join(", +") }) : name;
  };

  return (
    <Page title={t("vouchers.title")}>
      <form
        class="card form inline-form"
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          void find(code);
        }}
      >
        <Field label={t("vouchers.code")}>
          {(id) => (
            <input id={id} name="code" autocomplete="off" autocapitalize="characters" spellcheck={false} required value={code} onInput={onInput(setCode)} />
          )}
        </Field>
        <button type="submit" disabled={busy}>
          {t("vouchers.find")}
        </button>
        <Alert message={error} />
      </form>
      {voucher && (
        <div class="card voucher-detail">
          <h2>
            <code>{groupCode(shownCode)}</code> · <span class={`status status-${voucher.status}`}>{statusText(voucher.status)}</span>
          </h2>
          <dl class="facts">
            <dt>{t("common.plan")}</dt>
            <dd>
              {voucher.plan.name} · {rupiah(voucher.plan.price)} · {duration(voucher.plan.duration_minutes)}
            </dd>
            <dt>{t("common.site")}</dt>
            <dd>{siteOf(voucher.site_id)?.name ?? t("common.allSites")}</dd>
            <dt>{t("vouchers.validUntil")}</dt>
            <dd>{formatTime(voucher.valid_until, tz)}</dd>
            <dt>{t("vouchers.soldAt")}</dt>
            <dd>{formatTime(voucher.sold_at, tz)}</dd>
            {voucher.sale_id && (
              <>
                <dt>{t("vouchers.sale")}</dt>
                <dd>
                  <a href={`#/sales/${encodeURIComponent(voucher.sale_id)}`}>{t("vouchers.openSale")}</a>
                </dd>
              </>
            )}
            <dt>{t("vouchers.activatedAt")}</dt>
            <dd>{formatTime(voucher.activated_at, tz)}</dd>
            <dt>{t("vouchers.expiresAt")}</dt>
            <dd>{formatTime(voucher.expires_at, tz)}</dd>
            <dt>{t("vouchers.devices")}</dt>
            <dd>
              {voucher.devices_used} / {voucher.max_devices}
            </dd>
            <dt>{t("vouchers.used")}</dt>
            <dd>
              {duration(Math.round(voucher.used_seconds / 60))} · {bytes(voucher.used_bytes)}
            </dd>
            {voucher.plan.device_policy !== undefined && (
              <>
                <dt>{t("vouchers.terms")}</dt>
                <dd data-testid="voucher-terms">{voucherTerms(voucher)}</dd>
              </>
            )}
            {voucher.window && (
              <>
                <dt>{t("vouchers.window")}</dt>
                <dd data-testid="voucher-window">{windowText(voucher.window, tz)}</dd>
              </>
            )}
            {voucher.period && voucher.plan.quota_period && (
              <>
                <dt>{t(`vouchers.periodLeft.${voucher.plan.quota_period}`)}</dt>
                <dd data-testid="voucher-period">
                  {t("vouchers.periodResets", { left: bytes(voucher.period.data_remaining_bytes), at: formatTime(voucher.period.resets_at, tz) })}
                </dd>
              </>
            )}
            {voucher.paused_at && (
              <>
                <dt>{t("vouchers.pausedAt")}</dt>
                <dd data-testid="voucher-paused-at">{formatTime(voucher.paused_at, tz)}</dd>
              </>
            )}
            {voucher.plan.pause && (
              <>
                <dt>{t("vouchers.pausesUsed")}</dt>
                <dd data-testid="voucher-pauses">
                  {t("vouchers.pausesOf", { used: voucher.pauses_used ?? 0, max: voucher.plan.pause.max_pauses })}
                </dd>
              </>
            )}
          </dl>
          <h3>{t("vouchers.devices")}</h3>
          {voucher.devices.length === 0 ? (
            <p class="hint">{t("vouchers.noDevices")}</p>
          ) : (
            <ul class="device-slots">
              {voucher.devices.map((device, index) => (
                <li key={device.slot}>
                  <span>
                    {t("vouchers.device", { n: index + 1 })} · <code>{device.slot}</code> ·{" "}
                    {device.last_seen_at ? t("vouchers.lastSeen", { at: formatTime(device.last_seen_at, tz) }) : t("vouchers.notSeen")}
                  </span>
                  {mayManage(who?.role) && (
                    <button
                      type="button"
                      class="secondary"
                      disabled={busy}
                      aria-label={t("vouchers.releaseDevice", { n: index + 1 })}
                      onClick={() => void releaseDevice(device.slot)}
                    >
                      {t("vouchers.release")}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
          <h3>{t("vouchers.timeline")}</h3>
          <div class="table-wrap">
            <table class="timeline">
              <thead>
                <tr>
                  <th scope="col">{t("vouchers.when")}</th>
                  <th scope="col">{t("vouchers.event")}</th>
                  <th scope="col">{t("vouchers.by")}</th>
                  <th scope="col">{t("vouchers.where")}</th>
                  <th scope="col">{t("vouchers.reason")}</th>
                </tr>
              </thead>
              <tbody>
                {voucher.timeline.map((entry, index) => {
                  const where = siteOf(entry.site_id);
                  return (
                    <tr key={index}>
                      <td data-label={t("vouchers.when")}>{formatTime(entry.at, where?.timezone ?? tz)}</td>
                      <td data-label={t("vouchers.event")}>{statusText(entry.event)}</td>
                      <td data-label={t("vouchers.by")}>{byName(entry)}</td>
                      <td data-label={t("vouchers.where")}>{where?.name ?? entry.site_id ?? t("common.none")}</td>
                      <td data-label={t("vouchers.reason")}>{eventNote(entry)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {(mayManage(who?.role) || mayTopUp) && (
            <div class="voucher-actions">
              {mayManage(who?.role) && voucher.status === "active" && voucher.plan.pause && (
                <PauseForm action="pause" code={shownCode} onDone={() => reload(t("vouchers.paused"))} />
              )}
              {mayManage(who?.role) && voucher.status === "paused" && (
                <PauseForm action="resume" code={shownCode} onDone={() => reload(t("vouchers.resumed"))} />
              )}
              {mayTopUp && TOPPABLE.includes(voucher.status) && topups.data && topups.data.length > 0 && (
                <TopupForm
                  code={shownCode}
                  plans={topups.data}
                  // A code valid at every site, never sold nor used, has no site yet to book the sale at.
                  sites={!voucher.site_id && !voucher.sold_at && !voucher.activated_at ? (sites.data ?? []) : null}
                  onDone={(plan) => reload(t("vouchers.toppedUp", { plan: plan.name }))}
                />
              )}
              {mayManage(who?.role) && EXTENDABLE.includes(voucher.status) && (
                <ExtendForm
                  code={shownCode}
                  onExtended={(updated, minutes) => {
                    setVoucher(updated);
                    setRevokedNotice(t("vouchers.extended", { n: minutes }));
                  }}
                />
              )}
              {mayManage(who?.role) && voucher.status !== "revoked" && (
                <RevokeForm
                  code={shownCode}
                  onRevoked={(updated) => {
                    setVoucher(updated);
                    setRevokedNotice(t("vouchers.revoked"));
                  }}
                />
              )}
            </div>
          )}
          <Notice message={revokedNotice} />
        </div>
      )}
    </Page>
  );
}

// Unused vouchers get shelf life, running (or run-out) ones time; revoked and exhausted ones neither.
const EXTENDABLE = ["issued", "sold", "active", "paused", "expired"];

function ExtendForm({ code, onExtended }: { code: string; onExtended: (voucher: Voucher, minutes: number) => void }) {
  const [minutes, setMinutes] = useState("60");
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body = { minutes: Number(minutes), reason: reason.trim() };
      onExtended(await api.post<Voucher>(orgPath(`/vouchers/${encodeURIComponent(code)}/extend`), body), body.minutes);
      setReason("");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form revoke-form" onSubmit={submit} aria-label={t("vouchers.extend")}>
      <h3>{t("vouchers.extend")}</h3>
      <Field label={t("vouchers.extendMinutes")} hint={t("vouchers.extendHint")}>
        {(id, hint) => (
          <input id={id} name="minutes" type="number" min={1} step={1} required aria-describedby={hint} value={minutes} onInput={onInput(setMinutes)} />
        )}
      </Field>
      <Field label={t("vouchers.extendReason")}>
        {(id) => <input id={id} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
      </Field>
      <Alert message={error} />
      <button type="submit" disabled={busy || !reason.trim() || !(Number(minutes) >= 1)}>
        {t("vouchers.extend")}
      </button>
    </form>
  );
}

function RevokeForm({ code, onRevoked }: { code: string; onRevoked: (voucher: Voucher) => void }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const updated = await api.post<Voucher>(orgPath(`/vouchers/${encodeURIComponent(code)}/revoke`), { reason: reason.trim() });
      onRevoked(updated);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form revoke-form" onSubmit={submit} aria-label={t("vouchers.revoke")}>
      <h3>{t("vouchers.revoke")}</h3>
      <Field label={t("vouchers.reason")}>
        {(id) => <input id={id} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
      </Field>
      <Alert message={error} />
      <button type="submit" class="danger" disabled={busy || !reason.trim()}>
        {t("vouchers.revoke")}
      </button>
    </form>
  );
}

function windowText(window: NonNullable<Voucher["window"]>, tz: string | undefined): string {
  if (window.open) return window.closes_at ? t("vouchers.windowOpen", { at: formatTime(window.closes_at, tz) }) : t("vouchers.windowOpenNoEnd");
  return window.next_opens_at ? t("vouchers.windowClosed", { at: formatTime(window.next_opens_at, tz) }) : t("vouchers.windowClosedNoNext");
}

/** Pause a running voucher, or resume a paused one, with the reason the timeline keeps. */
function PauseForm({ action, code, onDone }: { action: "pause" | "resume"; code: string; onDone: () => Promise<void> }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const title = action === "pause" ? t("vouchers.pause") : t("vouchers.resume");
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await api.post(orgPath(`/vouchers/${encodeURIComponent(code)}/${action}`), { reason: reason.trim() });
      setReason("");
      await onDone();
    } catch (err) {
      setError(refusalText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form revoke-form" onSubmit={submit} aria-label={title}>
      <h3>{title}</h3>
      {action === "pause" && <p class="hint">{t("vouchers.pauseHint")}</p>}
      <Field label={action === "pause" ? t("vouchers.pauseReason") : t("vouchers.resumeReason")}>
        {(id) => <input id={id} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
      </Field>
      <Alert message={error} />
      <button type="submit" disabled={busy || !reason.trim()}>
        {title}
      </button>
    </form>
  );
}

/** Sell one of the org's top-up plans onto this code: its time and data are added. */
function TopupForm({ code, plans, sites, onDone }: {
  code: string;
  plans: Plan[];
  /** Where the top-up is sold, when the code has no site of its own yet (else null). */
  sites: Site[] | null;
  onDone: (plan: Plan) => Promise<void>;
}) {
  const [planId, setPlanId] = useState(plans[0].plan_id);
  const [siteId, setSiteId] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const chosen = plans.find((plan) => plan.plan_id === planId) ?? plans[0];
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const body = { plan_id: chosen.plan_id, ...(sites && siteId ? { site_id: siteId } : {}) };
      await api.post(orgPath(`/vouchers/${encodeURIComponent(code)}/topup`), body);
      await onDone(chosen);
    } catch (err) {
      setError(refusalText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="form revoke-form" onSubmit={submit} aria-label={t("vouchers.topup")}>
      <h3>{t("vouchers.topup")}</h3>
      <p class="hint">{t("vouchers.topupHint")}</p>
      <Field label={t("vouchers.topupPlan")}>
        {(id) => (
          <select id={id} name="plan_id" value={chosen.plan_id} onChange={onInput(setPlanId)}>
            {plans.map((plan) => (
              <option key={plan.plan_id} value={plan.plan_id}>
                {plan.name} · {rupiah(plan.price)} · {planPreview(plan)}
              </option>
            ))}
          </select>
        )}
      </Field>
      {sites && (
        <Field label={t("vouchers.topupSite")}>
          {(id) => (
            <select id={id} name="site_id" required value={siteId} onChange={onInput(setSiteId)}>
              <option value="">{t("vouchers.chooseSite")}</option>
              {sites.map((site) => (
                <option key={site.site_id} value={site.site_id}>
                  {site.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      )}
      <Alert message={error} />
      <button type="submit" disabled={busy || (sites !== null && !siteId)}>
        {t("vouchers.topup")}
      </button>
    </form>
  );
}
