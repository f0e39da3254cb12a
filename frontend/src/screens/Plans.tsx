// Plans: what is sold. List, create, edit, archive; and whether guests may buy one online (QRIS at the
// guest page), at which sites.

import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { duration, rupiah } from "../format";
import { t } from "../i18n";
import { me, mayManage, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, intOrNull, loadPlans, loadSites, Loading, Notice, onInput, Page, type Plan, type Site, useLoad } from "../ui";

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
}

/** The fields typed as text (everything but the online-sale choices). */
type TextKey = Exclude<keyof FormState, "sold_online" | "online_sites">;

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
      <Alert message={error} />
      <div class="buttons">
        <button type="submit" disabled={busy || (form.sold_online && form.online_sites.length === 0)}>
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
