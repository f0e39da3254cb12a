// "Buy a voucher": the plans this site sells online (price, time, data) and the order that
// choosing one creates. Shown only where the venue sells online; the price is the server's.

import { useEffect, useState } from "preact/hooks";
import { GuestError } from "./api";
import { bytes, duration, rupiah } from "./format";
import { createOrder, onlinePlans, pendingFrom, type GuestOrder, type OnlinePlan } from "./orders";
import { hasText, t } from "./strings";

interface Failure {
  text: string;
  retry: OnlinePlan | null; // the plan to try again with, when trying again can help
}

function failure(error: unknown, plan: OnlinePlan): Failure {
  if (error instanceof GuestError) {
    if (error.status === 409 || error.status === 423) {
      // No merchant account here, or the venue's service is restricted: trying again will not help.
      const key = hasText(`err.${error.code}`) ? `err.${error.code}` : "err.online_sales_unavailable";
      return { text: t(key), retry: null };
    }
    if (error.status === 429) {
      return { text: t("err.rate_limited", { minutes: Math.max(1, Math.ceil((error.retryAfter ?? 60) / 60)) }), retry: plan };
    }
    if (error.code === "network") return { text: t("err.network"), retry: plan };
    if (error.status >= 500) return { text: t("err.provider_unavailable"), retry: plan };
  }
  return { text: t("err.unknown"), retry: plan };
}

export function planData(megabytes: number | null): string {
  return megabytes === null ? t("data.unlimited") : bytes(megabytes * 1048576);
}

export function Buy({ siteId, onOrder }: { siteId: string; onOrder: (order: GuestOrder) => void }) {
  const [plans, setPlans] = useState<OnlinePlan[] | null>(null);
  const [loadFailed, setLoadFailed] = useState(false);
  const [buying, setBuying] = useState<string | null>(null);
  const [problem, setProblem] = useState<Failure | null>(null);

  function load(): void {
    setLoadFailed(false);
    onlinePlans(siteId)
      .then(setPlans)
      .catch((error: unknown) => {
        // A site that sells nothing online (or an API without online sales) simply shows no section.
        if (error instanceof GuestError && (error.status === 404 || error.status === 409)) setPlans([]);
        else setLoadFailed(true);
      });
  }

  useEffect(load, [siteId]);

  async function buy(plan: OnlinePlan): Promise<void> {
    setBuying(plan.plan_id);
    setProblem(null);
    try {
      onOrder(pendingFrom(await createOrder(siteId, plan.plan_id), plan));
    } catch (error) {
      setProblem(failure(error, plan));
    } finally {
      setBuying(null);
    }
  }

  if (loadFailed) {
    return (
      <section class="g-buy" aria-labelledby="g-buy-heading">
        <h2 id="g-buy-heading">{t("buy.heading")}</h2>
        <p class="g-msg g-warn">{t("buy.loadFailed")}</p>
        <button type="button" class="g-secondary" onClick={load}>{t("retry")}</button>
      </section>
    );
  }
  if (!plans?.length) return null;

  return (
    <section class="g-buy" aria-labelledby="g-buy-heading">
      <h2 id="g-buy-heading">{t("buy.heading")}</h2>
      <p class="g-note">{t("buy.intro")}</p>
      <ul class="g-plans">
        {plans.map((plan) => (
          <li>
            <strong class="g-plan-name">{plan.name}</strong>
            <dl class="g-plan-facts">
              <div>
                <dt>{t("buy.time")}</dt>
                <dd>{duration(plan.duration_minutes * 60)}</dd>
              </div>
              <div>
                <dt>{t("buy.data")}</dt>
                <dd>{planData(plan.data_quota_mb)}</dd>
              </div>
            </dl>
            <button
              type="button"
              disabled={buying !== null}
              aria-label={t("buy.buttonFor", { plan: plan.name, price: rupiah(plan.price) })}
              onClick={() => void buy(plan)}
            >
              {buying === plan.plan_id ? t("busy") : t("buy.button", { price: rupiah(plan.price) })}
            </button>
          </li>
        ))}
      </ul>
      <div aria-live="polite">
        {problem && (
          <div class="g-msg g-error" role="alert">
            <p>{problem.text}</p>
            {problem.retry && (
              <button type="button" class="g-secondary" disabled={buying !== null} onClick={() => void buy(problem.retry!)}>
                {t("retry")}
              </button>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
