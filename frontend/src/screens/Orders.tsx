// Online orders: what guests bought with QRIS at the portal, over a range of (UTC) days and by status,
// with the provider that took the payment. Owners, managers and auditors see them; an owner refunds a
// paid one with a reason (the provider returns the money to the guest, the voucher is revoked and a
// reversal is written in the ledger).

import { useState } from "preact/hooks";
import { api, getAllPages } from "../api";
import { DEFAULT_TZ, formatTime, rupiah } from "../format";
import { hasKey, t } from "../i18n";
import { mayRefund, me, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, loadPlans, loadSites, Loading, Notice, onInput, Page, type Plan, ReasonDialog, type Site, useLoad } from "../ui";
import { utcDate } from "./Sales";

export const ORDER_STATUSES = ["pending", "paid", "fulfilled", "expired", "cancelled", "failed", "refunded"] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Order {
  order_id: string;
  site_id: string;
  plan_id: string;
  amount: number;
  status: OrderStatus;
  provider: string;
  /** The provider's last word on the payment (in Kuota's terms: pending, paid, expired, …). */
  provider_status: string | null;
  /** Why a failed order failed (an amount mismatch, the provider down at create, …). */
  failure: string | null;
  plan_name?: string;
  created_at: string;
  paid_at: string | null;
  refunded_at: string | null;
}

/**
 * The end of an order id, enough to match the guest's receipt. The whole id is the guest's key to the
 * voucher's code (`GET /v1/guest/orders/{id}`), so the console never spells it out.
 */
export function orderRef(orderId: string): string {
  return `…${orderId.slice(-6)}`;
}

/** An order whose voucher was issued; the money is at the venue's account and can go back. */
const REFUNDABLE: OrderStatus[] = ["fulfilled"];
/** Orders whose money reached the venue (and stayed there). */
const PAID: OrderStatus[] = ["paid", "fulfilled"];

interface Query {
  from: string;
  to: string;
  status: string;
}

export function Orders() {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const plans = useLoad(loadPlans);
  const [form, setForm] = useState<Query>({ from: utcDate(6), to: utcDate(), status: "" });
  const [query, setQuery] = useState<Query>(form);
  const orders = useLoad(
    // Every page: the summary above the table counts and sums the whole range.
    () => getAllPages<Order>(orgPath("/orders"), "orders", { ...query }),
    [query.from, query.to, query.status],
  );
  const [refunding, setRefunding] = useState<Order | null>(null);
  const [refunded, setRefunded] = useState(false);
  const refunds = mayRefund(who?.role);

  const siteOf = (id: string): Site | undefined => sites.data?.find((site) => site.site_id === id);
  const planOf = (id: string): Plan | undefined => plans.data?.find((plan) => plan.plan_id === id);
  const set = (key: keyof Query) => onInput((value) => setForm((current) => ({ ...current, [key]: value })));

  const show = (event: Event) => {
    event.preventDefault();
    setRefunded(false);
    setRefunding(null);
    if (form.from === query.from && form.to === query.to && form.status === query.status) orders.reload();
    else setQuery(form);
  };

  const onRefunded = (order: Order) => {
    orders.setData((orders.data ?? []).map((row) => (row.order_id === order.order_id ? { ...row, ...order } : row)));
    setRefunding(null);
    setRefunded(true);
  };

  const rows = orders.data ?? [];
  const paid = rows.filter((order) => PAID.includes(order.status));

  return (
    <Page title={t("orders.title")}>
      <p class="hint">{t("orders.intro")}</p>
      <form class="card inline-form no-print" onSubmit={show} aria-label={t("orders.filters")}>
        <Field label={t("common.from")}>
          {(id) => <input id={id} name="from" type="date" required value={form.from} onInput={set("from")} />}
        </Field>
        <Field label={t("common.to")}>
          {(id) => <input id={id} name="to" type="date" required value={form.to} onInput={set("to")} />}
        </Field>
        <Field label={t("common.status")}>
          {(id) => (
            <select id={id} name="status" value={form.status} onChange={set("status")}>
              <option value="">{t("orders.anyStatus")}</option>
              {ORDER_STATUSES.map((status) => (
                <option key={status} value={status}>
                  {statusText(status)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit">{t("orders.show")}</button>
      </form>
      <Notice message={refunded ? t("orders.refunded") : null} />
      <Loading show={orders.loading} />
      <Alert message={orders.error ?? sites.error ?? plans.error} />
      {orders.data && (
        <p class="orders-summary" data-testid="orders-summary">
          {t("orders.summary", { count: rows.length, paid: paid.length, total: rupiah(paid.reduce((sum, order) => sum + order.amount, 0)) })}
        </p>
      )}
      {orders.data && (
        <div class="table-wrap">
          <table class="orders-table" aria-label={t("orders.title")}>
            <thead>
              <tr>
                <th scope="col">{t("orders.created")}</th>
                <th scope="col">{t("orders.order")}</th>
                <th scope="col">{t("common.site")}</th>
                <th scope="col">{t("common.plan")}</th>
                <th scope="col" class="num">{t("orders.amount")}</th>
                <th scope="col">{t("orders.provider")}</th>
                <th scope="col">{t("common.status")}</th>
                <th scope="col">{t("orders.paidAt")}</th>
                {refunds && <th scope="col">{t("common.actions")}</th>}
              </tr>
            </thead>
            <tbody>
              {rows.length === 0 && (
                <tr>
                  <td colSpan={refunds ? 9 : 8}>{t("orders.none")}</td>
                </tr>
              )}
              {rows.map((order) => {
                const site = siteOf(order.site_id);
                const timezone = site?.timezone ?? DEFAULT_TZ;
                return (
                  <tr key={order.order_id} data-order={order.order_id} class={refunding?.order_id === order.order_id ? "selected" : undefined}>
                    <td data-label={t("orders.created")}>{formatTime(order.created_at, timezone)}</td>
                    <td data-label={t("orders.order")}>
                      <code class="id">{orderRef(order.order_id)}</code>
                    </td>
                    <td data-label={t("common.site")}>{site?.name ?? t("common.none")}</td>
                    <td data-label={t("common.plan")}>{order.plan_name ?? planOf(order.plan_id)?.name ?? t("common.none")}</td>
                    <td data-label={t("orders.amount")} class="num">{rupiah(order.amount)}</td>
                    <td data-label={t("orders.provider")}>
                      {providerText(order.provider)}
                      {order.provider_status && (
                        <span class="hint"> · {t("orders.providerSays", { status: providerStatusText(order.provider_status) })}</span>
                      )}
                    </td>
                    <td data-label={t("common.status")}>
                      <span class={`status order-${order.status}`}>{statusText(order.status)}</span>
                      {order.failure && <span class="hint"> · {failureText(order.failure)}</span>}
                      {order.refunded_at && (
                        <span class="hint"> · {t("orders.refundedAt", { when: formatTime(order.refunded_at, timezone) })}</span>
                      )}
                    </td>
                    <td data-label={t("orders.paidAt")}>{formatTime(order.paid_at, timezone)}</td>
                    {refunds && (
                      <td data-label={t("common.actions")}>
                        {REFUNDABLE.includes(order.status) && (
                          <button
                            type="button"
                            class="danger"
                            aria-label={t("orders.refundOne", { order: orderRef(order.order_id) })}
                            onClick={() => {
                              setRefunded(false);
                              setRefunding(order);
                            }}
                          >
                            {t("orders.refund")}
                          </button>
                        )}
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {refunding && (
        <ReasonDialog
          key={refunding.order_id}
          id="refund-title"
          title={t("orders.refundTitle")}
          about={t("orders.refundAbout", {
            amount: rupiah(refunding.amount),
            plan: refunding.plan_name ?? planOf(refunding.plan_id)?.name ?? refunding.plan_id,
            provider: providerText(refunding.provider),
            order: orderRef(refunding.order_id),
          })}
          reasonLabel={t("orders.refundReason")}
          confirmLabel={t("orders.refundConfirm")}
          confirmQuestion={t("orders.refundQuestion", { amount: rupiah(refunding.amount), order: orderRef(refunding.order_id) })}
          action={async (reason) => {
            const answer = await api.post<Order>(orgPath(`/orders/${encodeURIComponent(refunding.order_id)}/refund`), { reason });
            onRefunded(answer ?? { ...refunding, status: "refunded" });
          }}
          onCancel={() => setRefunding(null)}
        />
      )}
    </Page>
  );
}

export function statusText(status: string): string {
  const key = `orders.status.${status}`;
  return hasKey(key) ? t(key) : status;
}

function providerStatusText(status: string): string {
  const key = `orders.providerStatus.${status}`;
  return hasKey(key) ? t(key) : status;
}

function failureText(failure: string): string {
  const key = `orders.failure.${failure}`;
  return hasKey(key) ? t(key) : failure.replace(/_/g, " ");
}

function providerText(provider: string): string {
  const key = `pay.provider.${provider}`;
  return hasKey(key) ? t(key) : provider;
}
