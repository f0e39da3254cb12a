// A site's monthly statement: every local day and every plan (count, gross, voids, refunds, net),
// as a page to print (print CSS hides the form and the navigation). Route: #/statement[/<site>/<YYYY-MM>].

import { useEffect, useState } from "preact/hooks";
import { api, errorText } from "../api";
import { formatTime, localDate, rupiah, zoneName } from "../format";
import { t } from "../i18n";
import { navigate } from "../router";
import { orgPath } from "../session";
import { Alert, Field, loadSites, Loading, onInput, Page, useLoad } from "../ui";

export interface StatementLine {
  key: string;
  name: string | null;
  count: number;
  gross: number;
  voids: number;
  refunds: number;
  net: number;
}

export interface MonthlyStatement {
  site_id: string;
  site_name: string;
  timezone: string;
  month: string;
  from: string;
  to: string;
  days: StatementLine[];
  plans: StatementLine[];
  total: StatementLine;
}

function lastMonth(): string {
  const today = localDate();
  const [year, month] = today.split("-").map(Number);
  return month === 1 ? `${year - 1}-12` : `${year}-${String(month - 1).padStart(2, "0")}`;
}

export function Statement({ siteId, month }: { siteId?: string; month?: string }) {
  const sites = useLoad(loadSites);
  const [site, setSite] = useState(siteId ?? "");
  const [chosenMonth, setChosenMonth] = useState(month ?? lastMonth());
  const [statement, setStatement] = useState<MonthlyStatement | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  useEffect(() => {
    if (!site && sites.data && sites.data.length > 0) setSite(sites.data[0].site_id);
  }, [sites.data]);

  useEffect(() => {
    if (!siteId || !month) return;
    let live = true;
    setLoading(true);
    setError(null);
    api
      .get<MonthlyStatement>(orgPath("/reports/statement"), { site_id: siteId, month })
      .then((value) => live && setStatement(value))
      .catch((err) => live && setError(errorText(err)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [siteId, month]);

  const show = (event: Event) => {
    event.preventDefault();
    if (site && chosenMonth) navigate(`#/statement/${encodeURIComponent(site)}/${chosenMonth}`);
  };

  return (
    <Page
      title={t("statement.title")}
      actions={
        <div class="print-controls no-print">
          <button type="button" onClick={() => window.print()} disabled={!statement}>
            {t("common.print")}
          </button>
          <a href="#/reports">{t("statement.back")}</a>
        </div>
      }
    >
      <form class="card form inline-form" onSubmit={show} aria-label={t("statement.title")}>
        <Field label={t("common.site")}>
          {(id) => (
            <select id={id} name="site_id" required value={site} onChange={onInput(setSite)}>
              {(sites.data ?? []).map((option) => (
                <option key={option.site_id} value={option.site_id}>
                  {option.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("statement.month")}>
          {(id) => <input id={id} name="month" type="month" required value={chosenMonth} onInput={onInput(setChosenMonth)} />}
        </Field>
        <button type="submit" disabled={loading || !site}>
          {t("reports.show")}
        </button>
        <Alert message={sites.error} />
      </form>
      <Loading show={loading || sites.loading} />
      <Alert message={error} />
      {statement && <StatementSheet statement={statement} />}
    </Page>
  );
}

function StatementSheet({ statement }: { statement: MonthlyStatement }) {
  return (
    <article class="statement-sheet" aria-labelledby="statement-heading">
      <header class="statement-head">
        <h2 id="statement-heading">
          {t("statement.heading", { site: statement.site_name, month: statement.month })}
        </h2>
        <p>
          {t("statement.period", { from: statement.from, to: statement.to, zone: zoneName(statement.timezone) })}
        </p>
        <p class="statement-printed">{t("statement.printedAt", { at: formatTime(new Date().toISOString(), statement.timezone) })}</p>
      </header>
      <h3>{t("statement.byDay")}</h3>
      <StatementTable label={t("reports.day")} lines={statement.days} total={statement.total} />
      <h3>{t("statement.byPlan")}</h3>
      <StatementTable label={t("reports.plan")} lines={statement.plans} total={statement.total} />
    </article>
  );
}

function StatementTable({ label, lines, total }: { label: string; lines: StatementLine[]; total: StatementLine }) {
  return (
    <div class="table-wrap">
      <table class="report-table statement-table">
        <thead>
          <tr>
            <th scope="col">{label}</th>
            <th scope="col" class="num">{t("reports.count")}</th>
            <th scope="col" class="num">{t("reports.grossAmount")}</th>
            <th scope="col" class="num">{t("reports.voidedAmount")}</th>
            <th scope="col" class="num">{t("reports.refundedAmount")}</th>
            <th scope="col" class="num">{t("reports.amount")}</th>
          </tr>
        </thead>
        <tbody>
          {lines.length === 0 && (
            <tr>
              <td colSpan={6}>{t("common.empty")}</td>
            </tr>
          )}
          {lines.map((line) => (
            <tr key={line.key}>
              <td data-label={label}>{line.name ?? line.key}</td>
              <StatementCells line={line} />
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">{t("common.total")}</th>
            <StatementCells line={total} />
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function StatementCells({ line }: { line: StatementLine }) {
  return (
    <>
      <td data-label={t("reports.count")} class="num">{line.count}</td>
      <td data-label={t("reports.grossAmount")} class="num">{rupiah(line.gross)}</td>
      <td data-label={t("reports.voidedAmount")} class="num">{rupiah(line.voids)}</td>
      <td data-label={t("reports.refundedAmount")} class="num">{rupiah(line.refunds)}</td>
      <td data-label={t("reports.amount")} class="num">{rupiah(line.net)}</td>
    </>
  );
}
