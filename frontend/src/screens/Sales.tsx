// The sales list: newest first over a range of (UTC) days, a page at a time. Cashiers see
// their own sales; owners, managers and auditors every sale. Owners and managers void a sale
// with a reason, after confirming. `#/sales/<sale_id>` opens one sale (linked from a voucher).

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { DEFAULT_TZ, formatTime, rupiah } from "../format";
import { hasKey, t } from "../i18n";
import { me, mayManage, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, loadPlans, loadSites, Loading, Notice, onInput, Page, type Plan, ReasonDialog, type Site, useLoad, usePages } from "../ui";

export interface Sale {
  sale_id: string;
  site_id: string;
  plan_id: string;
  quantity: number;
  unit_price: number;
  total: number;
  cashier_ref: string | null;
  seller_id: string;
  seller_name?: string | null;
  sold_at: string;
  status: "sold" | "voided";
  voided_at: string | null;
  void_reason: string | null;
  shift_id?: string | null;
}

interface SalesPage {
  sales: Sale[];
  next_cursor: string | null;
}

/** A UTC calendar day (YYYY-MM-DD): the sales list's days are UTC's. */
export function utcDate(daysAgo = 0): string {
  return new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
}

export function Sales({ saleId }: { saleId?: string }) {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const plans = useLoad(loadPlans);
  const [from, setFrom] = useState(utcDate(6));
  const [to, setTo] = useState(utcDate());
  const [selected, setSelected] = useState<Sale | null>(null);
  const [voiding, setVoiding] = useState<Sale | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const page = usePages<Sale>(async (cursor) => {
    const found = await api.get<SalesPage>(orgPath("/sales"), { from, to, limit: 50, cursor });
    return { items: found.sales, next_cursor: found.next_cursor };
  });
  const setError = page.setError;

  useEffect(() => {
    setSelected(null);
    if (!saleId) return;
    api
      .get<Sale>(orgPath(`/sales/${encodeURIComponent(saleId)}`))
      .then(setSelected)
      .catch((err) => setError(errorText(err)));
  }, [saleId]);

  const siteOf = (id: string): Site | undefined => sites.data?.find((site) => site.site_id === id);
  const planOf = (id: string): Plan | undefined => plans.data?.find((plan) => plan.plan_id === id);
  const mayVoid = mayManage(who?.role);

  const onVoided = (sale: Sale) => {
    const voided = { ...sale, status: "voided" as const };
    page.setItems(page.items.map((row) => (row.sale_id === sale.sale_id ? { ...row, ...voided } : row)));
    if (selected?.sale_id === sale.sale_id) setSelected({ ...selected, ...voided });
    setVoiding(null);
    setNotice(t("sales.voided"));
  };

  const table = (rows: Sale[], label: string) => (
    <div class="table-wrap">
      <table class="sales-table" aria-label={label}>
        <thead>
          <tr>
            <th scope="col">{t("sales.when")}</th>
            <th scope="col">{t("common.site")}</th>
            <th scope="col">{t("common.plan")}</th>
            <th scope="col" class="num">{t("common.quantity")}</th>
            <th scope="col" class="num">{t("common.total")}</th>
            <th scope="col">{t("sales.seller")}</th>
            <th scope="col">{t("common.status")}</th>
            {mayVoid && <th scope="col">{t("common.actions")}</th>}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={mayVoid ? 8 : 7}>{t("common.empty")}</td>
            </tr>
          )}
          {rows.map((sale) => {
            const site = siteOf(sale.site_id);
            const when = formatTime(sale.sold_at, site?.timezone ?? DEFAULT_TZ);
            return (
              <tr key={sale.sale_id} class={sale.sale_id === saleId ? "selected" : undefined} data-sale={sale.sale_id}>
                <td data-label={t("sales.when")}>{when}</td>
                <td data-label={t("common.site")}>{site?.name ?? t("common.none")}</td>
                <td data-label={t("common.plan")}>{planOf(sale.plan_id)?.name ?? t("common.none")}</td>
                <td data-label={t("common.quantity")} class="num">{sale.quantity}</td>
                <td data-label={t("common.total")} class="num">{rupiah(sale.total)}</td>
                <td data-label={t("sales.seller")}>
                  {sellerName(sale, who?.user_id, who?.email)}
                  {sale.cashier_ref && <span class="hint"> · {sale.cashier_ref}</span>}
                  {sale.shift_id && <span class="badge">{t("sales.inShift")}</span>}
                </td>
                <td data-label={t("common.status")}>
                  <span class={`status status-${sale.status === "voided" ? "revoked" : "active"}`}>{statusText(sale.status)}</span>
                  {sale.void_reason && <span class="hint"> · {sale.void_reason}</span>}
                </td>
                {mayVoid && (
                  <td data-label={t("common.actions")}>
                    {sale.status === "sold" && (
                      <button
                        type="button"
                        class="danger"
                        aria-label={t("sales.voidSale", { when })}
                        onClick={() => {
                          setNotice(null);
                          setVoiding(sale);
                        }}
                      >
                        {t("sales.void")}
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
  );

  return (
    <Page title={t("sales.title")}>
      {who?.role === "cashier" && <p class="hint">{t("sales.mine")}</p>}
      {selected && (
        <section class="card" aria-labelledby="selected-sale">
          <h2 id="selected-sale">{t("sales.selected")}</h2>
          {table([selected], t("sales.selected"))}
        </section>
      )}
      {voiding && (
        <VoidForm
          sale={voiding}
          site={siteOf(voiding.site_id)}
          plan={planOf(voiding.plan_id)}
          onVoided={onVoided}
          onCancel={() => setVoiding(null)}
        />
      )}
      <Notice message={notice} />
      <form
        class="card form inline-form"
        aria-label={t("sales.title")}
        onSubmit={(event) => {
          event.preventDefault();
          void page.load(false);
        }}
      >
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" required value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" required value={to} onInput={onInput(setTo)} />}</Field>
        <button type="submit" disabled={page.loading}>
          {t("common.apply")}
        </button>
        <Alert message={page.error ?? sites.error ?? plans.error} />
      </form>
      {table(page.items, t("sales.title"))}
      <Loading show={page.loading} />
      {page.more && (
        <button type="button" class="secondary" disabled={page.loading} onClick={() => page.load(true)}>
          {t("common.more")}
        </button>
      )}
    </Page>
  );
}

function statusText(status: string): string {
  return hasKey(`sales.status.${status}`) ? t(`sales.status.${status}`) : status;
}

function sellerName(sale: Sale, myId: string | undefined, myEmail: string | undefined): string {
  if (sale.seller_name) return sale.seller_name;
  if (sale.seller_id === myId && myEmail) return myEmail;
  return t("common.none");
}

function VoidForm({
  sale,
  site,
  plan,
  onVoided,
  onCancel,
}: {
  sale: Sale;
  site: Site | undefined;
  plan: Plan | undefined;
  onVoided: (sale: Sale) => void;
  onCancel: () => void;
}) {
  return (
    <ReasonDialog
      id="void-title"
      title={t("sales.voidTitle")}
      about={t("sales.voidAbout", {
        quantity: sale.quantity,
        total: rupiah(sale.total),
        plan: plan?.name ?? t("common.none"),
        site: site?.name ?? t("common.none"),
      })}
      reasonLabel={t("sales.voidReason")}
      confirmLabel={t("sales.confirm")}
      confirmQuestion={t("sales.confirmVoid", { total: rupiah(sale.total) })}
      action={async (reason) => {
        await api.post(orgPath(`/sales/${encodeURIComponent(sale.sale_id)}/void`), { reason });
        onVoided({ ...sale, void_reason: reason, voided_at: new Date().toISOString() });
      }}
      onCancel={onCancel}
    />
  );
}
