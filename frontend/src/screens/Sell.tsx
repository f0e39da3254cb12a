// Sell at the counter: plan, quantity, site; an Idempotency-Key per submit so a
// retry after a dropped connection never sells twice; then the receipt with QR codes.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, errorText, newIdempotencyKey } from "../api";
import { formatTime, rupiah } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, Field, loadPlans, loadSites, Loading, onInput, Page, useLoad } from "../ui";
import { venueOf } from "../venue";
import { VoucherCard } from "./Print";

interface Receipt {
  sale_id: string;
  total: number;
  vouchers: Array<{ code: string; expires_at?: string | null }>;
}

const SITE_KEY = "kuota.sell_site";

export function Sell() {
  const plans = useLoad(loadPlans);
  const sites = useLoad(loadSites);
  const [planId, setPlanId] = useState("");
  const [siteId, setSiteId] = useState(localStorage.getItem(SITE_KEY) ?? "");
  const [quantity, setQuantity] = useState("1");
  const [ref, setRef] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [receipt, setReceipt] = useState<Receipt | null>(null);
  // One key per sale: the same submit retried (after a network error) reuses it;
  // changing the form or finishing the sale starts a new one.
  const [idemKey, setIdemKey] = useState(newIdempotencyKey());

  // A top-up is never a new voucher: it is sold onto a code from the voucher screen.
  const activePlans = plans.data?.filter((plan) => !plan.archived && plan.kind !== "topup") ?? [];
  useEffect(() => {
    if (!planId && activePlans.length) setPlanId(activePlans[0].plan_id);
  }, [plans.data]);
  useEffect(() => {
    if (sites.data?.length && !sites.data.some((s) => s.site_id === siteId)) setSiteId(sites.data[0].site_id);
  }, [sites.data]);

  const change = (setter: (value: string) => void) =>
    onInput((value) => {
      setter(value);
      setIdemKey(newIdempotencyKey());
    });

  const plan = plans.data?.find((p) => p.plan_id === planId);
  const site = sites.data?.find((s) => s.site_id === siteId);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      localStorage.setItem(SITE_KEY, siteId);
      const result = await api.post<Receipt>(
        orgPath("/sales"),
        { site_id: siteId, plan_id: planId, quantity: Number(quantity), cashier_ref: ref.trim() || null },
        { "Idempotency-Key": idemKey },
      );
      setReceipt(result);
      setIdemKey(newIdempotencyKey());
    } catch (err) {
      // A definite refusal from the API means the next attempt is a new request.
      if (err instanceof ApiError && err.status !== 0 && err.status < 500) setIdemKey(newIdempotencyKey());
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  if (receipt) {
    const venue = venueOf(site);
    const tz = site?.timezone;
    return (
      <Page
        title={t("sell.receipt")}
        actions={
          <div class="no-print buttons">
            <button type="button" onClick={() => window.print()}>
              {t("common.print")}
            </button>
            <button type="button" class="secondary" onClick={() => setReceipt(null)}>
              {t("sell.another")}
            </button>
          </div>
        }
      >
        <div class="receipt" aria-live="polite">
          <p>{t("sell.sale", { id: receipt.sale_id })}</p>
          <p class="receipt-total">
            {t("common.total")}: <strong>{rupiah(receipt.total)}</strong>
          </p>
          <div class="sheet thermal">
            {receipt.vouchers.map((voucher) => (
              <VoucherCard
                key={voucher.code}
                code={voucher.code}
                plan={plan}
                venue={venue}
                expiresText={voucher.expires_at ? t("sell.expires", { at: formatTime(voucher.expires_at, tz) }) : undefined}
              />
            ))}
          </div>
        </div>
      </Page>
    );
  }

  return (
    <Page title={t("sell.title")}>
      <Loading show={plans.loading || sites.loading} />
      <Alert message={plans.error ?? sites.error} />
      {plans.data && activePlans.length === 0 && <p>{t("sell.noPlans")}</p>}
      {sites.data && sites.data.length === 0 && <p>{t("sell.noSites")}</p>}
      <form class="card form sell-form" onSubmit={submit} aria-labelledby="page-title">
        <Field label={t("common.plan")}>
          {(id) => (
            <select id={id} name="plan" required value={planId} onChange={change(setPlanId)}>
              {activePlans.map((p) => (
                <option key={p.plan_id} value={p.plan_id}>
                  {p.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("common.quantity")}>
          {(id) => <input id={id} name="quantity" type="number" min={1} max={50} required value={quantity} onInput={change(setQuantity)} />}
        </Field>
        <Field label={t("common.site")}>
          {(id) => (
            <select id={id} name="site" required value={siteId} onChange={change(setSiteId)}>
              {sites.data?.map((s) => (
                <option key={s.site_id} value={s.site_id}>
                  {s.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("sell.ref")} hint={t("common.optional")}>
          {(id, hint) => <input id={id} name="cashier_ref" maxLength={100} aria-describedby={hint} value={ref} onInput={change(setRef)} />}
        </Field>
        {plan && (
          <p class="sell-total">
            {t("common.total")}: <strong>{rupiah(plan.price * (Number(quantity) || 0))}</strong>
          </p>
        )}
        <Alert message={error} />
        <button type="submit" disabled={busy || !planId || !siteId}>
          {t("sell.submit")}
        </button>
      </form>
    </Page>
  );
}
