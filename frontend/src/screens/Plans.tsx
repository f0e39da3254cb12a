// Plans: what is sold. List, create, edit, archive; whether guests may buy one online (QRIS at the
// guest page), at which sites; and how venues really sell: top-ups, usage hours, data per day/week/month,
// pausing, and which devices may use a code. A one-line summary follows the form as it changes.

import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { duration, rupiah } from "../format";
import { t } from "../i18n";
import { me, mayManage, orgPath } from "../session";
import { useSignal } from "../signal";
import { DAYS, dayName, planPreview, type PlanTerms } from "../planPreview";
import {
  Alert,
  type Day,
  Field,
  intOrNull,
  loadPlans,
  loadSites,
  Loading,
  Notice,
  onInput,
  Page,
  type Plan,
  type PlanPause,
  type PlanWindow,
  type QuotaPeriod,
  type Site,
  useLoad,
} from "../ui";

/** A plan with its online-sale fields (absent from a server without online payments). */
type SellablePlan = Plan & { sold_online?: boolean; online_sites?: string[] };

interface FormState {
  name: string;
  price: string;
  duration_minutes: string;
  validity_days: string;
  time_mode: "wallclock" | "usage";
  data_quota_mb: string;
  rate_up_kbps: string;
  rate_down_kbps: string;
  max_devices: string;
  sold_online: boolean;
  online_sites: string[];
  kind: "voucher" | "topup";
  windows: PlanWindow[];
  period_quota_mb: string;
  quota_period: QuotaPeriod | "";
  pause_by: PlanPause["by"] | "";
  max_pauses: string;
  max_pause_minutes: string;
  device_policy: "shared" | "first_devices";
  idle_release_minutes: string;
}

/** The fields typed as text or chosen from a list (not the online sites or the usage hours). */
type TextKey = Exclude<keyof FormState, "sold_online" | "online_sites" | "windows">;

/** How a plan is sold and used, as the API takes it (issue 16's fields). */
interface Terms {
  kind: "voucher" | "topup";
  windows: PlanWindow[] | null;
  period_quota_mb: number | null;
  quota_period: QuotaPeriod | null;
  pause: PlanPause | null;
  device_policy: "shared" | "first_devices";
  idle_release_minutes: number | null;
}

/** The terms a plan has when none are set (what a server without them means too). */
const PLAIN_TERMS: Terms = {
  kind: "voucher",
  windows: null,
  period_quota_mb: null,
  quota_period: null,
  pause: null,
  device_policy: "shared",
  idle_release_minutes: null,
};

const NEW_WINDOW: PlanWindow = { days: [...DAYS], start: "08:00", end: "17:00" };

const EMPTY: FormState = {
  name: "",
  price: "",
  duration_minutes: "",
  validity_days: "30",
  time_mode: "wallclock",
  data_quota_mb: "",
  rate_up_kbps: "",
  rate_down_kbps: "",
  max_devices: "1",
  sold_online: false,
  online_sites: [],
  kind: "voucher",
  windows: [],
  period_quota_mb: "",
  quota_period: "",
  pause_by: "",
  max_pauses: "1",
  max_pause_minutes: "60",
  device_policy: "shared",
  idle_release_minutes: "",
};

function fromPlan(plan: SellablePlan): FormState {
  const s = (value: number | null) => (value === null ? "" : String(value));
  return {
    name: plan.name,
    price: String(plan.price),
    duration_minutes: String(plan.duration_minutes),
    validity_days: String(plan.validity_days),
    time_mode: plan.time_mode,
    data_quota_mb: s(plan.data_quota_mb),
    rate_up_kbps: s(plan.rate_up_kbps),
    rate_down_kbps: s(plan.rate_down_kbps),
    max_devices: String(plan.max_devices),
    sold_online: Boolean(plan.sold_online),
    online_sites: plan.online_sites ?? [],
    kind: plan.kind ?? "voucher",
    windows: plan.windows ?? [],
    period_quota_mb: s(plan.period_quota_mb ?? null),
    quota_period: plan.quota_period ?? "",
    pause_by: plan.pause?.by ?? "",
    max_pauses: String(plan.pause?.max_pauses ?? EMPTY.max_pauses),
    max_pause_minutes: String(plan.pause?.max_pause_minutes ?? EMPTY.max_pause_minutes),
    device_policy: plan.device_policy ?? "shared",
    idle_release_minutes: s(plan.idle_release_minutes ?? null),
  };
}

/** The form's terms as the API takes them: a top-up only adds time and data, only wall-clock plans pause. */
function termsOf(form: FormState): Terms {
  const voucher = form.kind === "voucher";
  const periodMb = intOrNull(form.period_quota_mb);
  const pause: PlanPause | null =
    voucher && form.time_mode === "wallclock" && form.pause_by
      ? { by: form.pause_by, max_pauses: intOrNull(form.max_pauses) ?? 0, max_pause_minutes: intOrNull(form.max_pause_minutes) ?? 0 }
      : null;
  return {
    kind: form.kind,
    windows: voucher && form.windows.length ? form.windows.map((w) => ({ ...w, days: DAYS.filter((d) => w.days.includes(d)) })) : null,
    period_quota_mb: voucher ? periodMb : null,
    quota_period: voucher && form.quota_period ? form.quota_period : null,
    pause,
    device_policy: voucher ? form.device_policy : "shared",
    idle_release_minutes: voucher ? intOrNull(form.idle_release_minutes) : null,
  };
}

/**
 * Only the terms that differ from the plan's (or, for a new plan, from none), so a plain plan
 * reads the same to a server that predates them; the data per period and its period go together.
 */
function termsBody(form: FormState, plan: SellablePlan | null): Partial<Terms> {
  const next = termsOf(form);
  const changed = (Object.keys(PLAIN_TERMS) as (keyof Terms)[]).filter(
    (key) => JSON.stringify(next[key]) !== JSON.stringify(plan?.[key] ?? PLAIN_TERMS[key]),
  );
  const body: Partial<Terms> = Object.fromEntries(changed.map((key) => [key, next[key]]));
  if (changed.includes("period_quota_mb") || changed.includes("quota_period")) {
    body.period_quota_mb = next.period_quota_mb;
    body.quota_period = next.quota_period;
  }
  return body;
}

/** What the summary line reads: the form as numbers, with what the API would be sent. */
function formTerms(form: FormState): PlanTerms {
  return {
    ...termsOf(form),
    duration_minutes: intOrNull(form.duration_minutes),
    time_mode: form.time_mode,
    data_quota_mb: intOrNull(form.data_quota_mb),
    max_devices: intOrNull(form.max_devices),
  };
}

function toBody(form: FormState, plan: SellablePlan | null) {
  // The online fields go only where they mean something: a plan sold online, or one that already has them.
  const online = form.sold_online || (plan !== null && plan.sold_online !== undefined);
  return {
    name: form.name.trim(),
    price: intOrNull(form.price),
    duration_minutes: intOrNull(form.duration_minutes),
    validity_days: intOrNull(form.validity_days),
    time_mode: form.time_mode,
    data_quota_mb: intOrNull(form.data_quota_mb),
    rate_up_kbps: intOrNull(form.rate_up_kbps),
    rate_down_kbps: intOrNull(form.rate_down_kbps),
    max_devices: intOrNull(form.max_devices) ?? 1,
    ...(online ? { sold_online: form.sold_online, online_sites: form.online_sites } : {}),
    ...termsBody(form, plan),
  };
}

export function Plans() {
  const who = useSignal(me);
  const plans = useLoad<SellablePlan[]>(loadPlans);
  const sites = useLoad(loadSites);
  const [editing, setEditing] = useState<SellablePlan | null>(null);
  const [rowError, setRowError] = useState<{ id: string; message: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const manage = mayManage(who?.role);

  const archive = async (plan: Plan) => {
    setRowError(null);
    if (!window.confirm(t("plans.confirmArchive", { name: plan.name }))) return;
    try {
      await api.post(orgPath(`/plans/${plan.plan_id}/archive`));
      plans.reload();
    } catch (err) {
      setRowError({ id: plan.plan_id, message: errorText(err) });
    }
  };

  return (
    <Page title={t("plans.title")}>
      <Notice message={notice} />
      {manage && (
        <PlanForm
          key={editing?.plan_id ?? "new"}
          plan={editing}
          sites={sites.data ?? []}
          onDone={() => {
            setEditing(null);
            setNotice(t("plans.saved"));
            plans.reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      <h2>{t("plans.title")}</h2>
      <Loading show={plans.loading} />
      <Alert message={plans.error} />
      {plans.data && plans.data.length === 0 && <p>{t("common.empty")}</p>}
      {plans.data && plans.data.length > 0 && (
        <div class="table-wrap">
          <table class="plans-table">
            <thead>
              <tr>
                <th scope="col">{t("plans.name")}</th>
                <th scope="col">{t("plans.terms")}</th>
                <th scope="col">{t("plans.price")}</th>
                <th scope="col">{t("plans.duration")}</th>
                <th scope="col">{t("plans.validity")}</th>
                <th scope="col">{t("plans.quota")}</th>
                <th scope="col">{t("plans.maxDevices")}</th>
                <th scope="col">{t("plans.online")}</th>
                <th scope="col">{t("common.status")}</th>
                {manage && <th scope="col">{t("common.actions")}</th>}
              </tr>
            </thead>
            <tbody>
              {plans.data.map((plan) => (
                <tr key={plan.plan_id} class={plan.archived ? "archived" : ""}>
                  <td data-label={t("plans.name")}>{plan.name}</td>
                  <td data-label={t("plans.terms")} class="plan-terms">{planPreview(plan)}</td>
                  <td data-label={t("plans.price")}>{rupiah(plan.price)}</td>
                  <td data-label={t("plans.duration")}>{duration(plan.duration_minutes)}</td>
                  <td data-label={t("plans.validity")}>{plan.validity_days}</td>
                  <td data-label={t("plans.quota")}>{plan.data_quota_mb ?? t("plans.unlimited")}</td>
                  <td data-label={t("plans.maxDevices")}>{plan.max_devices}</td>
                  <td data-label={t("plans.online")}>{onlineText(plan, sites.data ?? [])}</td>
                  <td data-label={t("common.status")}>{plan.archived ? t("plans.archived") : t("plans.active")}</td>
                  {manage && (
                    <td class="actions">
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`${t("common.edit")} ${plan.name}`}
                        onClick={() => {
                          setNotice(null);
                          setEditing(plan);
                        }}
                      >
                        {t("common.edit")}
                      </button>
                      {!plan.archived && (
                        <button
                          type="button"
                          class="danger"
                          aria-label={`${t("plans.archive")} ${plan.name}`}
                          onClick={() => archive(plan)}
                        >
                          {t("plans.archive")}
                        </button>
                      )}
                      {rowError?.id === plan.plan_id && <Alert message={rowError.message} />}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

/** "No", or where guests can buy it online. */
function onlineText(plan: SellablePlan, sites: Site[]): string {
  if (!plan.sold_online) return t("common.no");
  const chosen = plan.online_sites ?? [];
  return chosen.map((id) => sites.find((site) => site.site_id === id)?.name ?? id).join(", ");
}

function PlanForm({ plan, sites, onDone, onCancel }: {
  plan: SellablePlan | null;
  sites: Site[];
  onDone: () => void;
  onCancel: () => void;
}) {
  const [form, setForm] = useState<FormState>(plan ? fromPlan(plan) : EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: TextKey) => onInput((value) => setForm((f) => ({ ...f, [key]: value })));
  const setWindow = (index: number, change: Partial<PlanWindow>) =>
    setForm((f) => ({ ...f, windows: f.windows.map((w, i) => (i === index ? { ...w, ...change } : w)) }));
  const toggleDay = (index: number, day: Day, on: boolean) =>
    setForm((f) => ({
      ...f,
      windows: f.windows.map((w, i) =>
        i === index ? { ...w, days: on ? DAYS.filter((d) => d === day || w.days.includes(d)) : w.days.filter((d) => d !== day) } : w,
      ),
    }));
  const voucher = form.kind === "voucher";
  const dayless = voucher && form.windows.some((w) => w.days.length === 0);
  const halfPeriod = voucher && Boolean(form.period_quota_mb.trim()) !== Boolean(form.quota_period);
  const preview = planPreview(formTerms(form));
  const toggleSite = (siteId: string, on: boolean) =>
    setForm((f) => ({
      ...f,
      online_sites: on ? [...f.online_sites, siteId] : f.online_sites.filter((id) => id !== siteId),
    }));

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (plan) await api.patch(orgPath(`/plans/${plan.plan_id}`), toBody(form, plan));
      else await api.post(orgPath("/plans"), toBody(form, null));
      if (!plan) setForm(EMPTY);
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const number = (key: TextKey, label: string, required = false, min = 0) => (
    <Field label={label}>
      {(id) => (
        <input id={id} name={key} type="number" inputMode="numeric" min={min} required={required} value={form[key]} onInput={set(key)} />
      )}
    </Field>
  );

  return (
    <form class="card form" onSubmit={submit} aria-labelledby="plan-form-title">
      <h2 id="plan-form-title">{plan ? t("plans.editing", { name: plan.name }) : t("plans.new")}</h2>
      <p class="explain">{t("plans.explain")}</p>
      <div class="grid">
        <Field label={t("plans.kind")} hint={voucher ? undefined : t("plans.topupHint")}>
          {(id, hint) => (
            <select id={id} name="kind" aria-describedby={hint} value={form.kind} onChange={set("kind")}>
              <option value="voucher">{t("plans.kind.voucher")}</option>
              <option value="topup">{t("plans.kind.topup")}</option>
            </select>
          )}
        </Field>
        <Field label={t("plans.name")}>
          {(id) => <input id={id} name="name" required maxLength={100} value={form.name} onInput={set("name")} />}
        </Field>
        {number("price", t("plans.price"), true)}
        {number("duration_minutes", t("plans.duration"), true, 1)}
        {number("validity_days", t("plans.validity"), true, 1)}
        <Field label={t("plans.timeMode")}>
          {(id) => (
            <select id={id} name="time_mode" value={form.time_mode} onChange={set("time_mode")}>
              <option value="wallclock">{t("plans.wallclock")}</option>
              <option value="usage">{t("plans.usage")}</option>
            </select>
          )}
        </Field>
        {number("data_quota_mb", t("plans.quota"))}
        {number("rate_up_kbps", t("plans.rateUp"))}
        {number("rate_down_kbps", t("plans.rateDown"))}
        {number("max_devices", t("plans.maxDevices"), true, 1)}
      </div>
      {voucher && (
        <>
          <fieldset class="choices plan-windows">
            <legend>{t("plans.windowsTitle")}</legend>
            <p class="hint">{t("plans.windowsHint")}</p>
            {form.windows.map((window, index) => (
              <div class="window-row" role="group" aria-label={t("plans.window", { n: index + 1 })} key={index}>
                <div class="day-choices">
                  {DAYS.map((day) => (
                    <label class="check" key={day}>
                      <input
                        type="checkbox"
                        name={`window-${index}-${day}`}
                        checked={window.days.includes(day)}
                        onChange={(event) => toggleDay(index, day, (event.currentTarget as HTMLInputElement).checked)}
                      />{" "}
                      {dayName(day)}
                    </label>
                  ))}
                </div>
                <Field label={t("plans.windowStart")}>
                  {(id) => (
                    <input id={id} name={`window-${index}-start`} type="time" required value={window.start}
                      onInput={onInput((start) => setWindow(index, { start }))} />
                  )}
                </Field>
                <Field label={t("plans.windowEnd")}>
                  {(id) => (
                    <input id={id} name={`window-${index}-end`} type="time" required value={window.end}
                      onInput={onInput((end) => setWindow(index, { end }))} />
                  )}
                </Field>
                <button
                  type="button"
                  class="secondary"
                  onClick={() => setForm((f) => ({ ...f, windows: f.windows.filter((_, i) => i !== index) }))}
                >
                  {t("plans.removeWindow", { n: index + 1 })}
                </button>
                {window.days.length === 0 && <Alert message={t("plans.windowNoDays")} />}
              </div>
            ))}
            <button
              type="button"
              class="secondary"
              onClick={() => setForm((f) => ({ ...f, windows: [...f.windows, { ...NEW_WINDOW, days: [...NEW_WINDOW.days] }] }))}
            >
              {t("plans.addWindow")}
            </button>
          </fieldset>
          <fieldset class="choices">
            <legend>{t("plans.periodTitle")}</legend>
            <div class="grid">
              {number("period_quota_mb", t("plans.periodQuota"), false, 1)}
              <Field label={t("plans.quotaPeriod")} hint={t("plans.periodHint")} error={halfPeriod ? t("plans.periodBoth") : null}>
                {(id, hint) => (
                  <select id={id} name="quota_period" aria-describedby={hint} value={form.quota_period} onChange={set("quota_period")}>
                    <option value="">{t("plans.period.none")}</option>
                    <option value="day">{t("plans.period.day")}</option>
                    <option value="week">{t("plans.period.week")}</option>
                    <option value="month">{t("plans.period.month")}</option>
                  </select>
                )}
              </Field>
            </div>
          </fieldset>
          <fieldset class="choices">
            <legend>{t("plans.pauseTitle")}</legend>
            {form.time_mode === "wallclock" ? (
              <div class="grid">
                <Field label={t("plans.pauseBy")} hint={t("plans.pauseHint")}>
                  {(id, hint) => (
                    <select id={id} name="pause_by" aria-describedby={hint} value={form.pause_by} onChange={set("pause_by")}>
                      <option value="">{t("plans.pause.none")}</option>
                      <option value="staff">{t("plans.pause.staff")}</option>
                      <option value="guest">{t("plans.pause.guest")}</option>
                    </select>
                  )}
                </Field>
                {form.pause_by && number("max_pauses", t("plans.maxPauses"), true, 1)}
                {form.pause_by && number("max_pause_minutes", t("plans.maxPauseMinutes"), true, 1)}
              </div>
            ) : (
              <p class="hint">{t("plans.pauseWallclockOnly")}</p>
            )}
          </fieldset>
          <fieldset class="choices">
            <legend>{t("plans.devicesTitle")}</legend>
            <div class="grid">
              <Field label={t("plans.devicePolicy")}>
                {(id) => (
                  <select id={id} name="device_policy" value={form.device_policy} onChange={set("device_policy")}>
                    <option value="shared">{t("plans.device.shared")}</option>
                    <option value="first_devices">{t("plans.device.first_devices")}</option>
                  </select>
                )}
              </Field>
              <Field label={t("plans.idleRelease")} hint={t("plans.idleReleaseHint")}>
                {(id, hint) => (
                  <input id={id} name="idle_release_minutes" type="number" inputMode="numeric" min={1} aria-describedby={hint}
                    value={form.idle_release_minutes} onInput={set("idle_release_minutes")} />
                )}
              </Field>
            </div>
          </fieldset>
        </>
      )}
      {voucher && (
        <fieldset class="choices">
          <legend>{t("plans.onlineTitle")}</legend>
          <label class="check">
            <input
              type="checkbox"
              name="sold_online"
              checked={form.sold_online}
              onChange={(event) => {
                const checked = (event.currentTarget as HTMLInputElement).checked;
                setForm((f) => ({ ...f, sold_online: checked }));
              }}
            />{" "}
            {t("plans.soldOnline")}
          </label>
          {form.sold_online && (
            <>
              <p class="hint">{t("plans.onlineSitesHint")}</p>
              <div class="site-choices">
                {sites.map((site) => (
                  <label class="check" key={site.site_id}>
                    <input
                      type="checkbox"
                      name="online_sites"
                      value={site.site_id}
                      checked={form.online_sites.includes(site.site_id)}
                      onChange={(event) => toggleSite(site.site_id, (event.currentTarget as HTMLInputElement).checked)}
                    />{" "}
                    {site.name}
                  </label>
                ))}
              </div>
            </>
          )}
        </fieldset>
      )}
      <p class="plan-preview" aria-live="polite">
        <strong>{t("plans.preview")}:</strong> <span data-testid="plan-preview">{preview || t("common.none")}</span>
      </p>
      <Alert message={error} />
      <div class="buttons">
        <button type="submit" disabled={busy || dayless || halfPeriod || (voucher && form.sold_online && form.online_sites.length === 0)}>
          {plan ? t("common.save") : t("common.create")}
        </button>
        {plan && (
          <button type="button" class="secondary" onClick={onCancel}>
            {t("common.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}
