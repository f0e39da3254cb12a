// Platform admins: each organization's revenue share (set it, see its history) and settlements with
// the ISP (issue one for a period, list them, view one as a printable page, download its CSV, adjust it,
// record the payments each organization makes towards what it owes and reverse one recorded by mistake).
// Routes: #/shares, #/settlements, #/settlements/<id>.

import { useState } from "preact/hooks";
import { api, download, errorText, getAllPages } from "../api";
import { formatTime, localDate, rupiah } from "../format";
import { t } from "../i18n";
import { navigate } from "../router";
import type { Org } from "../session";
import { Alert, Field, Loading, Notice, onInput, Page, ReasonDialog, useLoad, useSubmit } from "../ui";

interface Share {
  percent: number;
  effective_from: string;
  reason: string;
  set_at: string;
  set_by: string | null;
}

interface Shares {
  org_id: string;
  org_name: string;
  current: Share | null;
  history: Share[];
}

interface Totals {
  gross: number;
  voids: number;
  net: number;
  isp_share: number;
  reseller_share: number;
}

interface SettlementLine extends Totals {
  org_id: string;
  org_name: string;
  percent: number;
  segments: Array<{ from: string; to: string; percent: number; net: number }>;
}

interface Adjustment {
  adjustment_id: string;
  org_id: string;
  org_name: string;
  amount: number;
  reason: string;
  at: string;
  by: string | null;
}

interface Payment {
  payment_id: string;
  org_id: string;
  org_name: string;
  amount: number;
  paid_on: string;
  reference: string;
  at: string;
  by: string | null;
  reversed: { at: string; by: string | null; reason: string } | null;
}

interface Balance {
  org_id: string;
  org_name: string;
  isp_share: number;
  adjustments: number;
  owed: number;
  paid: number;
  outstanding: number;
  payments: Payment[];
}

interface Settlement {
  settlement_id: string;
  from: string;
  to: string;
  issued_at: string;
  issued_by: string | null;
  lines: SettlementLine[];
  totals: Totals;
  adjustments: Adjustment[];
  adjusted_totals: { isp_share: number; reseller_share: number };
  balances: Balance[];
}

interface SettlementSummary {
  settlement_id: string;
  from: string;
  to: string;
  issued_at: string;
  issued_by: string | null;
  organizations: number;
  totals: Totals;
}

const loadOrgs = () => getAllPages<Org>("/v1/orgs", "orgs");
const sharePath = (orgId: string) => `/v1/platform/orgs/${encodeURIComponent(orgId)}/share`;
const percentText = (value: number) => `${value.toLocaleString("id-ID", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} %`;

export function PlatformTabs({ current }: { current: "shares" | "settlements" | "resellers" | "policy" | "address-space" }) {
  return (
    <nav class="tabs no-print" aria-label={t("nav.platform")}>
      <a href="#/platform">{t("platform.orgs")}</a>
      <a href="#/resellers" aria-current={current === "resellers" ? "page" : undefined}>
        {t("resellers.title")}
      </a>
      <a href="#/shares" aria-current={current === "shares" ? "page" : undefined}>
        {t("shares.title")}
      </a>
      <a href="#/settlements" aria-current={current === "settlements" ? "page" : undefined}>
        {t("settlements.title")}
      </a>
      <a href="#/policy" aria-current={current === "policy" ? "page" : undefined}>
        {t("policy.title")}
      </a>
      <a href="#/address-space" aria-current={current === "address-space" ? "page" : undefined}>
        {t("addr.title")}
      </a>
    </nav>
  );
}

// --- shares ---------------------------------------------------------------------------------------

export function SharesScreen() {
  const orgs = useLoad(loadOrgs);
  const [orgId, setOrgId] = useState("");
  const [percent, setPercent] = useState("");
  const [effectiveFrom, setEffectiveFrom] = useState(localDate());
  const [reason, setReason] = useState("");
  const [tick, setTick] = useState(0);
  const chosen = orgId || orgs.data?.[0]?.org_id || "";
  const { submit, error, notice, busy } = useSubmit(async () => {
    await api.put<Shares>(sharePath(chosen), { percent: Number(percent), effective_from: effectiveFrom, reason: reason.trim() });
    setReason("");
    setTick((n) => n + 1);
    return t("shares.saved");
  });

  return (
    <Page title={t("shares.title")}>
      <PlatformTabs current="shares" />
      <form class="card form" onSubmit={submit} aria-labelledby="share-form-title">
        <h2 id="share-form-title">{t("shares.set")}</h2>
        <Field label={t("shares.org")}>
          {(id) => (
            <select id={id} name="org_id" required value={chosen} onChange={onInput(setOrgId)}>
              {(orgs.data ?? []).map((org) => (
                <option key={org.org_id} value={org.org_id}>
                  {org.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("shares.percent")} hint={t("shares.percentHint")}>
          {(id) => (
            <input id={id} name="percent" type="number" min={0} max={100} step={0.01} required value={percent} onInput={onInput(setPercent)} />
          )}
        </Field>
        <Field label={t("shares.effectiveFrom")}>
          {(id) => <input id={id} name="effective_from" type="date" required value={effectiveFrom} onInput={onInput(setEffectiveFrom)} />}
        </Field>
        <Field label={t("shares.reason")}>
          {(id) => <input id={id} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
        </Field>
        <button type="submit" disabled={busy || !chosen}>
          {t("common.save")}
        </button>
        <Alert message={error} />
        <Notice message={notice} />
      </form>
      <Loading show={orgs.loading} />
      <Alert message={orgs.error} />
      {orgs.data && orgs.data.length === 0 && <p>{t("common.empty")}</p>}
      {orgs.data?.map((org) => <OrgShares key={`${org.org_id}-${tick}`} org={org} />)}
    </Page>
  );
}

function OrgShares({ org }: { org: Org }) {
  const shares = useLoad(() => api.get<Shares>(sharePath(org.org_id)), [org.org_id]);
  const titleId = `share-${org.org_id}`;
  return (
    <section class="card" aria-labelledby={titleId}>
      <h2 id={titleId}>
        {org.name}:{" "}
        {shares.data?.current ? percentText(shares.data.current.percent) : shares.data ? t("shares.none") : ""}
      </h2>
      <Loading show={shares.loading} />
      <Alert message={shares.error} />
      {shares.data && shares.data.history.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>{t("shares.history")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("shares.effectiveFrom")}</th>
                <th scope="col" class="num">{t("shares.percent")}</th>
                <th scope="col">{t("shares.reason")}</th>
                <th scope="col">{t("shares.setBy")}</th>
              </tr>
            </thead>
            <tbody>
              {shares.data.history.map((share) => (
                <tr key={`${share.effective_from}-${share.set_at}`}>
                  <td data-label={t("shares.effectiveFrom")}>{share.effective_from}</td>
                  <td data-label={t("shares.percent")} class="num">{percentText(share.percent)}</td>
                  <td data-label={t("shares.reason")}>{share.reason}</td>
                  <td data-label={t("shares.setBy")}>
                    {share.set_by ?? t("common.none")} · {formatTime(share.set_at)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

// --- settlements ----------------------------------------------------------------------------------

function firstOfLastMonth(): [string, string] {
  const [year, month] = localDate().split("-").map(Number);
  const y = month === 1 ? year - 1 : year;
  const m = month === 1 ? 12 : month - 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const mm = String(m).padStart(2, "0");
  return [`${y}-${mm}-01`, `${y}-${mm}-${String(last).padStart(2, "0")}`];
}

export function SettlementsScreen() {
  const list = useLoad(() => getAllPages<SettlementSummary>("/v1/platform/settlements", "settlements"));
  const [defaultFrom, defaultTo] = firstOfLastMonth();
  const [from, setFrom] = useState(defaultFrom);
  const [to, setTo] = useState(defaultTo);
  const { submit, error, busy } = useSubmit(async () => {
    const issued = await api.post<Settlement>("/v1/platform/settlements", { from, to });
    navigate(`#/settlements/${encodeURIComponent(issued.settlement_id)}`);
  });

  return (
    <Page title={t("settlements.title")}>
      <PlatformTabs current="settlements" />
      <form class="card form inline-form" onSubmit={submit} aria-labelledby="settle-form-title">
        <h2 id="settle-form-title">{t("settlements.issue")}</h2>
        <p class="hint">{t("settlements.issueHint")}</p>
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" required value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" required value={to} onInput={onInput(setTo)} />}</Field>
        <button type="submit" disabled={busy}>
          {t("settlements.issueButton")}
        </button>
        <Alert message={error} />
      </form>
      <Loading show={list.loading} />
      <Alert message={list.error} />
      {list.data && list.data.length === 0 && <p>{t("common.empty")}</p>}
      {list.data && list.data.length > 0 && (
        <div class="table-wrap">
          <table class="report-table">
            <thead>
              <tr>
                <th scope="col">{t("settlements.period")}</th>
                <th scope="col">{t("settlements.issuedAt")}</th>
                <th scope="col" class="num">{t("settlements.orgs")}</th>
                <th scope="col" class="num">{t("settlements.net")}</th>
                <th scope="col" class="num">{t("settlements.isp")}</th>
                <th scope="col" class="num">{t("settlements.reseller")}</th>
              </tr>
            </thead>
            <tbody>
              {list.data.map((item) => (
                <tr key={item.settlement_id}>
                  <td data-label={t("settlements.period")}>
                    <a href={`#/settlements/${encodeURIComponent(item.settlement_id)}`}>
                      {t("settlements.periodText", { from: item.from, to: item.to })}
                    </a>
                  </td>
                  <td data-label={t("settlements.issuedAt")}>
                    {formatTime(item.issued_at)} · {item.issued_by ?? t("common.none")}
                  </td>
                  <td data-label={t("settlements.orgs")} class="num">{item.organizations}</td>
                  <td data-label={t("settlements.net")} class="num">{rupiah(item.totals.net)}</td>
                  <td data-label={t("settlements.isp")} class="num">{rupiah(item.totals.isp_share)}</td>
                  <td data-label={t("settlements.reseller")} class="num">{rupiah(item.totals.reseller_share)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

export function SettlementPage({ settlementId }: { settlementId: string }) {
  const path = `/v1/platform/settlements/${encodeURIComponent(settlementId)}`;
  const settlement = useLoad(() => api.get<Settlement>(path), [settlementId]);
  const orgs = useLoad(loadOrgs);
  const [csvError, setCsvError] = useState<string | null>(null);
  const [orgId, setOrgId] = useState("");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [reversing, setReversing] = useState<Payment | null>(null);
  const data = settlement.data;
  const chosen = orgId || data?.lines[0]?.org_id || orgs.data?.[0]?.org_id || "";
  const { submit, error, notice, busy } = useSubmit(async () => {
    await api.post(`${path}/adjustments`, { org_id: chosen, amount: Number(amount), reason: reason.trim() });
    setAmount("");
    setReason("");
    settlement.reload();
    return t("settlements.adjusted");
  });

  const downloadCsv = async () => {
    setCsvError(null);
    try {
      await download(path, { format: "csv" }, `kuota-settlement-${data?.from}-${data?.to}.csv`);
    } catch (err) {
      setCsvError(errorText(err));
    }
  };

  return (
    <Page
      title={t("settlements.one")}
      actions={
        <div class="print-controls no-print">
          <button type="button" onClick={() => window.print()} disabled={!data}>
            {t("common.print")}
          </button>
          <button type="button" class="secondary" onClick={downloadCsv} disabled={!data}>
            {t("reports.csv")}
          </button>
          <a href="#/settlements">{t("settlements.back")}</a>
        </div>
      }
    >
      <Loading show={settlement.loading} />
      <Alert message={settlement.error} />
      <Alert message={csvError} />
      {data && (
        <article class="statement-sheet" aria-labelledby="settlement-heading">
          <header class="statement-head">
            <h2 id="settlement-heading">{t("settlements.heading", { from: data.from, to: data.to })}</h2>
            <p>{t("settlements.issuedBy", { at: formatTime(data.issued_at), by: data.issued_by ?? t("common.none") })}</p>
            <p class="hint">{t("settlements.rule")}</p>
          </header>
          <div class="table-wrap">
            <table class="report-table statement-table">
              <thead>
                <tr>
                  <th scope="col">{t("shares.org")}</th>
                  <th scope="col" class="num">{t("reports.grossAmount")}</th>
                  <th scope="col" class="num">{t("settlements.voids")}</th>
                  <th scope="col" class="num">{t("settlements.net")}</th>
                  <th scope="col" class="num">{t("shares.percent")}</th>
                  <th scope="col" class="num">{t("settlements.isp")}</th>
                  <th scope="col" class="num">{t("settlements.reseller")}</th>
                </tr>
              </thead>
              <tbody>
                {data.lines.length === 0 && (
                  <tr>
                    <td colSpan={7}>{t("common.empty")}</td>
                  </tr>
                )}
                {data.lines.map((line) => (
                  <tr key={line.org_id}>
                    <td data-label={t("shares.org")}>{line.org_name}</td>
                    <td data-label={t("reports.grossAmount")} class="num">{rupiah(line.gross)}</td>
                    <td data-label={t("settlements.voids")} class="num">{rupiah(line.voids)}</td>
                    <td data-label={t("settlements.net")} class="num">{rupiah(line.net)}</td>
                    <td data-label={t("shares.percent")} class="num">
                      {line.segments.length > 1
                        ? line.segments.map((s) => `${percentText(s.percent)} (${s.from} – ${s.to})`).join("; ")
                        : percentText(line.percent)}
                    </td>
                    <td data-label={t("settlements.isp")} class="num">{rupiah(line.isp_share)}</td>
                    <td data-label={t("settlements.reseller")} class="num">{rupiah(line.reseller_share)}</td>
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">{t("common.total")}</th>
                  <td class="num">{rupiah(data.totals.gross)}</td>
                  <td class="num">{rupiah(data.totals.voids)}</td>
                  <td class="num">{rupiah(data.totals.net)}</td>
                  <td />
                  <td class="num">{rupiah(data.totals.isp_share)}</td>
                  <td class="num">{rupiah(data.totals.reseller_share)}</td>
                </tr>
              </tfoot>
            </table>
          </div>
          {data.adjustments.length > 0 && (
            <>
              <h3>{t("settlements.adjustments")}</h3>
              <div class="table-wrap">
                <table class="report-table">
                  <thead>
                    <tr>
                      <th scope="col">{t("shares.org")}</th>
                      <th scope="col">{t("shares.reason")}</th>
                      <th scope="col">{t("settlements.issuedAt")}</th>
                      <th scope="col" class="num">{t("settlements.isp")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.adjustments.map((item) => (
                      <tr key={item.adjustment_id}>
                        <td data-label={t("shares.org")}>{item.org_name}</td>
                        <td data-label={t("shares.reason")}>{item.reason}</td>
                        <td data-label={t("settlements.issuedAt")}>
                          {formatTime(item.at)} · {item.by ?? t("common.none")}
                        </td>
                        <td data-label={t("settlements.isp")} class="num">{rupiah(item.amount)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <p>
                {t("settlements.adjustedTotals", {
                  isp: rupiah(data.adjusted_totals.isp_share),
                  reseller: rupiah(data.adjusted_totals.reseller_share),
                })}
              </p>
            </>
          )}
          <Balances settlement={data} onReverse={setReversing} />
        </article>
      )}
      {data && reversing && (
        <ReverseForm
          key={reversing.payment_id}
          path={path}
          payment={reversing}
          onDone={() => {
            setReversing(null);
            settlement.reload();
          }}
          onCancel={() => setReversing(null)}
        />
      )}
      {data && data.balances.length > 0 && <PaymentForm path={path} balances={data.balances} onRecorded={settlement.reload} />}
      {data && (
        <form class="card form no-print" onSubmit={submit} aria-labelledby="adjust-form-title">
          <h2 id="adjust-form-title">{t("settlements.adjust")}</h2>
          <p class="hint">{t("settlements.adjustHint")}</p>
          <Field label={t("shares.org")}>
            {(id) => (
              <select id={id} name="org_id" required value={chosen} onChange={onInput(setOrgId)}>
                {(orgs.data ?? data.lines.map((line) => ({ org_id: line.org_id, name: line.org_name }))).map((org) => (
                  <option key={org.org_id} value={org.org_id}>
                    {org.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("settlements.amount")}>
            {(id) => <input id={id} name="amount" type="number" step={1} required value={amount} onInput={onInput(setAmount)} />}
          </Field>
          <Field label={t("shares.reason")}>
            {(id) => <input id={id} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
          </Field>
          <button type="submit" disabled={busy || !chosen}>
            {t("settlements.adjustButton")}
          </button>
          <Alert message={error} />
          <Notice message={notice} />
        </form>
      )}
    </Page>
  );
}

function Balances({ settlement, onReverse }: { settlement: Settlement; onReverse: (payment: Payment) => void }) {
  if (settlement.balances.length === 0) return null;
  const payments = settlement.balances.flatMap((balance) => balance.payments);
  const sum = (pick: (balance: Balance) => number) => settlement.balances.reduce((total, balance) => total + pick(balance), 0);
  return (
    <>
      <h3>{t("payments.balances")}</h3>
      <p class="hint">{t("payments.rule")}</p>
      <div class="table-wrap">
        <table class="report-table" aria-label={t("payments.balances")}>
          <thead>
            <tr>
              <th scope="col">{t("shares.org")}</th>
              <th scope="col" class="num">{t("payments.owed")}</th>
              <th scope="col" class="num">{t("payments.paid")}</th>
              <th scope="col" class="num">{t("payments.outstanding")}</th>
            </tr>
          </thead>
          <tbody>
            {settlement.balances.map((balance) => (
              <tr key={balance.org_id}>
                <td data-label={t("shares.org")}>{balance.org_name}</td>
                <td data-label={t("payments.owed")} class="num">{rupiah(balance.owed)}</td>
                <td data-label={t("payments.paid")} class="num">{rupiah(balance.paid)}</td>
                <td data-label={t("payments.outstanding")} class="num">
                  {balance.outstanding > 0 ? rupiah(balance.outstanding) : t("payments.settled")}
                </td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th scope="row">{t("common.total")}</th>
              <td class="num">{rupiah(sum((b) => b.owed))}</td>
              <td class="num">{rupiah(sum((b) => b.paid))}</td>
              <td class="num">{rupiah(sum((b) => b.outstanding))}</td>
            </tr>
          </tfoot>
        </table>
      </div>
      {payments.length > 0 && (
        <>
          <h3>{t("payments.title")}</h3>
          <div class="table-wrap">
            <table class="report-table" aria-label={t("payments.title")}>
              <thead>
                <tr>
                  <th scope="col">{t("shares.org")}</th>
                  <th scope="col">{t("payments.paidOn")}</th>
                  <th scope="col">{t("payments.reference")}</th>
                  <th scope="col">{t("payments.recorded")}</th>
                  <th scope="col" class="num">{t("payments.amount")}</th>
                  <th scope="col" class="no-print">
                    <span class="visually-hidden">{t("payments.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {payments.map((payment) => (
                  <tr key={payment.payment_id}>
                    <td data-label={t("shares.org")}>{payment.org_name}</td>
                    <td data-label={t("payments.paidOn")}>{payment.paid_on}</td>
                    <td data-label={t("payments.reference")}>
                      {payment.reference}
                      {payment.reversed && (
                        <>
                          {" "}
                          <strong>{t("payments.reversedNote", { reason: payment.reversed.reason })}</strong>
                        </>
                      )}
                    </td>
                    <td data-label={t("payments.recorded")}>
                      {formatTime(payment.at)} · {payment.by ?? t("common.none")}
                    </td>
                    <td data-label={t("payments.amount")} class="num">
                      {payment.reversed ? <s>{rupiah(payment.amount)}</s> : rupiah(payment.amount)}
                    </td>
                    <td class="no-print">
                      {!payment.reversed && (
                        <button
                          type="button"
                          class="secondary"
                          aria-label={t("payments.reverseOne", { reference: payment.reference, org: payment.org_name })}
                          onClick={() => onReverse(payment)}
                        >
                          {t("payments.reverse")}
                        </button>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}

function PaymentForm({ path, balances, onRecorded }: { path: string; balances: Balance[]; onRecorded: () => void }) {
  const [orgId, setOrgId] = useState("");
  const [amount, setAmount] = useState("");
  const [paidOn, setPaidOn] = useState(localDate());
  const [reference, setReference] = useState("");
  const chosen = orgId || balances.find((balance) => balance.outstanding > 0)?.org_id || balances[0]?.org_id || "";
  const balance = balances.find((item) => item.org_id === chosen);
  const { submit, error, notice, busy } = useSubmit(async () => {
    await api.post(`${path}/payments`, { org_id: chosen, amount: Number(amount), paid_on: paidOn, reference: reference.trim() });
    setAmount("");
    setReference("");
    onRecorded();
    return t("payments.saved");
  });
  return (
    <form class="card form no-print" onSubmit={submit} aria-labelledby="payment-form-title">
      <h2 id="payment-form-title">{t("payments.record")}</h2>
      <p class="hint">{t("payments.recordHint")}</p>
      <Field label={t("payments.org")}>
        {(id) => (
          <select id={id} name="org_id" required value={chosen} onChange={onInput(setOrgId)}>
            {balances.map((item) => (
              <option key={item.org_id} value={item.org_id}>
                {t("payments.orgOption", { name: item.org_name, outstanding: rupiah(item.outstanding) })}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("payments.amount")} hint={balance ? t("payments.amountHint", { outstanding: rupiah(balance.outstanding) }) : undefined}>
        {(id, hintId) => (
          <input
            id={id}
            name="amount"
            type="number"
            min={1}
            step={1}
            required
            aria-describedby={hintId}
            value={amount}
            onInput={onInput(setAmount)}
          />
        )}
      </Field>
      <Field label={t("payments.paidOn")}>
        {(id) => <input id={id} name="paid_on" type="date" required value={paidOn} onInput={onInput(setPaidOn)} />}
      </Field>
      <Field label={t("payments.reference")}>
        {(id) => <input id={id} name="reference" required maxLength={100} value={reference} onInput={onInput(setReference)} />}
      </Field>
      <button type="submit" disabled={busy || !chosen}>
        {t("payments.recordButton")}
      </button>
      <Alert message={error} />
      <Notice message={notice} />
    </form>
  );
}

function ReverseForm({ path, payment, onDone, onCancel }: { path: string; payment: Payment; onDone: () => void; onCancel: () => void }) {
  return (
    <ReasonDialog
      id="reverse-title"
      class="no-print"
      title={t("payments.reverseTitle")}
      about={t("payments.reverseAbout", {
        amount: rupiah(payment.amount),
        org: payment.org_name,
        day: payment.paid_on,
        reference: payment.reference,
      })}
      reasonLabel={t("payments.reverseReason")}
      confirmLabel={t("payments.confirm")}
      confirmQuestion={t("payments.confirmReverse", { amount: rupiah(payment.amount), org: payment.org_name })}
      action={async (reason) => {
        await api.post(`${path}/payments/${encodeURIComponent(payment.payment_id)}/reverse`, { reason });
        onDone();
      }}
      onCancel={onCancel}
    />
  );
}
