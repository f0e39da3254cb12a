// Plans: what is sold. List, create, edit, archive.

import { useState } from "preact/hooks";
import { api, errorText } from "../api";
import { duration, rupiah } from "../format";
import { t } from "../i18n";
import { me, mayManage, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, intOrNull, loadPlans, Loading, Notice, onInput, Page, type Plan, useLoad } from "../ui";

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
}

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
};

function fromPlan(plan: Plan): FormState {
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
  };
}

function toBody(form: FormState) {
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
  };
}

export function Plans() {
  const who = useSignal(me);
  const plans = useLoad(loadPlans);
  const [editing, setEditing] = useState<Plan | null>(null);
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

function PlanForm({ plan, onDone, onCancel }: { plan: Plan | null; onDone: () => void; onCancel: () => void }) {
  const [form, setForm] = useState<FormState>(plan ? fromPlan(plan) : EMPTY);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (key: keyof FormState) => onInput((value) => setForm((f) => ({ ...f, [key]: value })));

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      if (plan) await api.patch(orgPath(`/plans/${plan.plan_id}`), toBody(form));
      else await api.post(orgPath("/plans"), toBody(form));
      if (!plan) setForm(EMPTY);
      onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const number = (key: keyof FormState, label: string, required = false, min = 0) => (
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
      <Alert message={error} />
      <div class="buttons">
        <button type="submit" disabled={busy}>
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
