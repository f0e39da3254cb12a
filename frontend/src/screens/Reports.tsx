// Sales report: date range and grouping, table (gross, voids, refunds, net), bar chart, CSV download
// (fetched with auth), and the way to a site's monthly statement.

import { useState } from "preact/hooks";
import { api, download, errorText } from "../api";
import { localDate, rupiah } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, BarChart, Field, Loading, onInput, Page } from "../ui";

export interface Figures {
  count: number;
  amount: number;
  gross_count: number;
  gross_amount: number;
  voided_count: number;
  voided_amount: number;
  refunded_count: number;
  refunded_amount: number;
}

export interface SalesLine extends Figures {
  key: string;
  name: string | null;
}

export interface SalesReport {
  from: string;
  to: string;
  group_by: "day" | "site" | "plan" | "cashier";
  lines: SalesLine[];
  total: Figures;
}

export type GroupBy = SalesReport["group_by"];

export function fetchReport(from: string, to: string, groupBy: GroupBy): Promise<SalesReport> {
  return api.get<SalesReport>(orgPath("/reports/sales"), { from, to, group_by: groupBy });
}

export function Reports() {
  const [from, setFrom] = useState(localDate(undefined, 29));
  const [to, setTo] = useState(localDate());
  const [groupBy, setGroupBy] = useState<GroupBy>("day");
  const [report, setReport] = useState<SalesReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [csvError, setCsvError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const show = async (event?: Event) => {
    event?.preventDefault();
    setError(null);
    setLoading(true);
    try {
      setReport(await fetchReport(from, to, groupBy));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  const downloadCsv = async (event: Event) => {
    event.preventDefault();
    setCsvError(null);
    try {
      await download(orgPath("/reports/sales"), { from, to, group_by: groupBy, format: "csv" }, `kuota-sales-${from}-${to}-${groupBy}.csv`);
    } catch (err) {
      setCsvError(errorText(err));
    }
  };

  const label = (line: SalesLine) => line.name ?? (line.key === "(printed)" ? t("reports.printed") : line.key);

  return (
    <Page title={t("reports.title")} actions={<a class="button secondary" href="#/statement">{t("statement.title")}</a>}>
      <form class="card form inline-form" onSubmit={show} aria-label={t("reports.title")}>
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" required value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" required value={to} onInput={onInput(setTo)} />}</Field>
        <Field label={t("reports.groupBy")}>
          {(id) => (
            <select id={id} name="group_by" value={groupBy} onChange={onInput((v) => setGroupBy(v as GroupBy))}>
              <option value="day">{t("reports.day")}</option>
              <option value="site">{t("reports.site")}</option>
              <option value="plan">{t("reports.plan")}</option>
              <option value="cashier">{t("reports.cashier")}</option>
            </select>
          )}
        </Field>
        <button type="submit" disabled={loading}>
          {t("reports.show")}
        </button>
        <a class="button secondary csv-link" href="#/reports" role="button" onClick={downloadCsv}>
          {t("reports.csv")}
        </a>
        <Alert message={error} />
        <Alert message={csvError} />
      </form>
      <Loading show={loading} />
      {report && (
        <>
          <BarChart title={t("reports.chart")} bars={report.lines.map((line) => ({ label: label(line), value: line.amount }))} />
          <div class="table-wrap">
            <table class="report-table">
              <thead>
                <tr>
                  <th scope="col">{t(`reports.${report.group_by}`)}</th>
                  <th scope="col" class="num">{t("reports.grossAmount")}</th>
                  <th scope="col" class="num">{t("reports.voidedAmount")}</th>
                  <th scope="col" class="num">{t("reports.refundedAmount")}</th>
                  <th scope="col" class="num">{t("reports.count")}</th>
                  <th scope="col" class="num">{t("reports.amount")}</th>
                </tr>
              </thead>
              <tbody>
                {report.lines.length === 0 && (
                  <tr>
                    <td colSpan={6}>{t("common.empty")}</td>
                  </tr>
                )}
                {report.lines.map((line) => (
                  <tr key={line.key}>
                    <td data-label={t(`reports.${report.group_by}`)}>{label(line)}</td>
                    <FigureCells line={line} />
                  </tr>
                ))}
              </tbody>
              <tfoot>
                <tr>
                  <th scope="row">{t("common.total")}</th>
                  <FigureCells line={report.total} />
                </tr>
              </tfoot>
            </table>
          </div>
        </>
      )}
    </Page>
  );
}

/** Gross, the reversals (negative), then the net: count and amount. */
function FigureCells({ line }: { line: Figures }) {
  return (
    <>
      <td data-label={t("reports.grossAmount")} class="num">{rupiah(line.gross_amount)}</td>
      <td data-label={t("reports.voidedAmount")} class="num">{rupiah(line.voided_amount)}</td>
      <td data-label={t("reports.refundedAmount")} class="num">{rupiah(line.refunded_amount)}</td>
      <td data-label={t("reports.count")} class="num">{line.count}</td>
      <td data-label={t("reports.amount")} class="num">{rupiah(line.amount)}</td>
    </>
  );
}
