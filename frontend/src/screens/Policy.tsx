// Platform admins: the staged-suspension policy (GET/PUT /v1/platform/policy): how long grace and
// restricted last, what each trigger does (record, warn, enforce), and the quality standard. Rates
// are percentages here and fractions 0–1 in the API. Route: #/policy.

import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { REASONS, reasonText } from "../compliance";
import { t } from "../i18n";
import { Alert, Field, Loading, Notice, onInput, Page, useLoad, useSubmit } from "../ui";
import { PlatformTabs } from "./Settlements";

const TRIGGERS = REASONS.filter((reason) => reason !== "manual");
type Trigger = (typeof TRIGGERS)[number];
const MODES = ["record", "warn", "enforce"] as const;
type Mode = (typeof MODES)[number];

export interface Policy {
  grace_days: number;
  restricted_days: number;
  triggers: Record<Trigger, Mode>;
  quality: { min_availability: number; max_reject_rate: number };
  /** A settlement is overdue this many days after it was issued (older servers: absent). */
  settlement_due_days?: number;
}

interface PolicyForm {
  grace_days: string;
  restricted_days: string;
  settlement_due_days: string;
  triggers: Record<Trigger, Mode>;
  min_availability: string;
  max_reject_rate: string;
}

/** 0.995 → "99.5" (no float noise such as 99.50000000000001). */
export function toPercent(fraction: number): string {
  return String(Math.round(fraction * 100_000) / 1000);
}

/** "99.5" → 0.995, rounded to what a percentage with three decimals can say. */
export function toFraction(percent: string): number {
  return Math.round(Number(percent.replace(",", ".")) * 1000) / 100_000;
}

function formOf(policy: Policy): PolicyForm {
  return {
    grace_days: String(policy.grace_days),
    restricted_days: String(policy.restricted_days),
    settlement_due_days: policy.settlement_due_days === undefined ? "" : String(policy.settlement_due_days),
    triggers: { ...policy.triggers },
    min_availability: toPercent(policy.quality.min_availability),
    max_reject_rate: toPercent(policy.quality.max_reject_rate),
  };
}

export function PolicyScreen() {
  const policy = useLoad(() => api.get<Policy>("/v1/platform/policy"));
  const [form, setForm] = useState<PolicyForm | null>(null);
  useEffect(() => {
    if (policy.data) setForm(formOf(policy.data));
  }, [policy.data]);
  const { submit, error, notice, busy } = useSubmit(async () => {
    if (!form) return;
    const saved = await api.put<Policy>("/v1/platform/policy", {
      grace_days: Number(form.grace_days),
      restricted_days: Number(form.restricted_days),
      // Left out when the server never sent it: the server then keeps what it has.
      ...(form.settlement_due_days ? { settlement_due_days: Number(form.settlement_due_days) } : {}),
      triggers: form.triggers,
      quality: { min_availability: toFraction(form.min_availability), max_reject_rate: toFraction(form.max_reject_rate) },
    });
    if (saved && saved.quality) policy.setData(saved);
    return t("policy.saved");
  });
  const set = (key: "grace_days" | "restricted_days" | "settlement_due_days" | "min_availability" | "max_reject_rate") => (value: string) =>
    form && setForm({ ...form, [key]: value });

  return (
    <Page title={t("policy.title")}>
      <PlatformTabs current="policy" />
      <p class="explain">{t("policy.intro")}</p>
      <Loading show={policy.loading} />
      <Alert message={policy.error} />
      {form && (
        <form class="card form" onSubmit={submit} aria-labelledby="policy-form-title">
          <h2 id="policy-form-title">{t("policy.stages")}</h2>
          <div class="grid">
            <Field label={t("policy.graceDays")} hint={t("policy.graceHint")}>
              {(id, hint) => (
                <input id={id} name="grace_days" type="number" min={1} max={365} step={1} required aria-describedby={hint}
                  value={form.grace_days} onInput={onInput(set("grace_days"))} />
              )}
            </Field>
            <Field label={t("policy.restrictedDays")} hint={t("policy.restrictedHint")}>
              {(id, hint) => (
                <input id={id} name="restricted_days" type="number" min={1} max={365} step={1} required aria-describedby={hint}
                  value={form.restricted_days} onInput={onInput(set("restricted_days"))} />
              )}
            </Field>
          </div>
          {policy.data?.settlement_due_days !== undefined && (
            <div class="grid">
              <Field label={t("policy.settlementDueDays")} hint={t("policy.settlementDueHint")}>
                {(id, hint) => (
                  <input id={id} name="settlement_due_days" type="number" min={1} max={365} step={1} required aria-describedby={hint}
                    value={form.settlement_due_days} onInput={onInput(set("settlement_due_days"))} />
                )}
              </Field>
            </div>
          )}
          <h2>{t("policy.triggers")}</h2>
          <p class="hint">{t("policy.triggersHint")}</p>
          <div class="grid align-end">
            {TRIGGERS.map((trigger) => (
              <Field key={trigger} label={reasonText(trigger)}>
                {(id) => (
                  <select
                    id={id}
                    name={`trigger-${trigger}`}
                    value={form.triggers[trigger]}
                    onChange={(event) =>
                      setForm({ ...form, triggers: { ...form.triggers, [trigger]: (event.currentTarget as HTMLSelectElement).value as Mode } })
                    }
                  >
                    {MODES.map((mode) => (
                      <option key={mode} value={mode}>
                        {t(`policy.mode.${mode}`)}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            ))}
          </div>
          <h2>{t("policy.quality")}</h2>
          <div class="grid">
            <Field label={t("policy.minAvailability")} hint={t("policy.minAvailabilityHint")}>
              {(id, hint) => (
                <input id={id} name="min_availability" type="number" min={0} max={100} step={0.001} required aria-describedby={hint}
                  value={form.min_availability} onInput={onInput(set("min_availability"))} />
              )}
            </Field>
            <Field label={t("policy.maxRejectRate")} hint={t("policy.maxRejectRateHint")}>
              {(id, hint) => (
                <input id={id} name="max_reject_rate" type="number" min={0} max={100} step={0.001} required aria-describedby={hint}
                  value={form.max_reject_rate} onInput={onInput(set("max_reject_rate"))} />
              )}
            </Field>
          </div>
          <button type="submit" disabled={busy}>
            {t("common.save")}
          </button>
          <Alert message={error} />
          <Notice message={notice} />
        </form>
      )}
    </Page>
  );
}
