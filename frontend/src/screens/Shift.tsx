// A cashier's shift: open it with the cash in the drawer, watch the takings, close it by
// declaring the cash counted and see what was expected and the difference. Owners, managers
// and auditors also see every shift; a cashier sees their own.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, errorText, getAllPages } from "../api";
import { DEFAULT_TZ, formatTime, rupiah } from "../format";
import { t } from "../i18n";
import { me, orgPath } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, loadSites, Loading, onInput, Page, type Site, useLoad } from "../ui";
import { utcDate } from "./Sales";

export interface Shift {
  shift_id: string;
  site_id: string;
  user_id: string;
  user_email: string | null;
  status: "open" | "closed";
  opened_at: string;
  opening_cash: number;
  closed_at: string | null;
  sales_count: number | null;
  sales_total: number | null;
  voids_total: number | null;
  expected_cash: number | null;
  declared_cash: number | null;
  difference: number | null;
  note: string | null;
}

const WORKERS = ["owner", "manager", "cashier", "platform_admin"];

/** "Short by Rp 3.000", "Over by …", or "Exact": the difference in words as well as in rupiah. */
function differenceText(difference: number): string {
  if (difference === 0) return t("shift.exact");
  return difference < 0 ? t("shift.short", { amount: rupiah(-difference) }) : t("shift.over", { amount: rupiah(difference) });
}

export function ShiftScreen() {
  const who = useSignal(me);
  const sites = useLoad(loadSites);
  const works = WORKERS.includes(who?.role ?? "");
  const [current, setCurrent] = useState<Shift | null>(null);
  const [closed, setClosed] = useState<Shift | null>(null);
  const [loading, setLoading] = useState(works);
  const [error, setError] = useState<string | null>(null);
  const [listTick, setListTick] = useState(0);

  const loadCurrent = async () => {
    setError(null);
    setLoading(true);
    try {
      setCurrent(await api.get<Shift>(orgPath("/shifts/current")));
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setCurrent(null);
      else setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  useEffect(() => {
    if (works) void loadCurrent();
  }, []);

  const siteOf = (id: string): Site | undefined => sites.data?.find((site) => site.site_id === id);

  return (
    <Page title={t("shift.title")}>
      <Loading show={loading} />
      <Alert message={error ?? sites.error} />
      {closed && <ShiftSummary shift={closed} site={siteOf(closed.site_id)} />}
      {works && !loading && !current && (
        <OpenForm
          sites={sites.data ?? []}
          onOpened={(shift) => {
            setClosed(null);
            setCurrent(shift);
            setListTick((n) => n + 1);
          }}
        />
      )}
      {current && (
        <CurrentShift
          shift={current}
          site={siteOf(current.site_id)}
          onRefresh={loadCurrent}
          onClosed={(shift) => {
            setCurrent(null);
            setClosed(shift);
            setListTick((n) => n + 1);
          }}
        />
      )}
      <ShiftList siteOf={siteOf} mine={who?.role === "cashier"} tick={listTick} />
    </Page>
  );
}

function OpenForm({ sites, onOpened }: { sites: Site[]; onOpened: (shift: Shift) => void }) {
  const [siteId, setSiteId] = useState(localStorage.getItem("kuota.sell_site") ?? "");
  const [cash, setCash] = useState("0");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (sites.length && !sites.some((site) => site.site_id === siteId)) setSiteId(sites[0].site_id);
  }, [sites]);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      onOpened(await api.post<Shift>(orgPath("/shifts"), { site_id: siteId, opening_cash: Number(cash) }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card form" onSubmit={submit} aria-labelledby="open-title">
      <h2 id="open-title">{t("shift.open")}</h2>
      <p>{t("shift.none")}</p>
      {sites.length === 0 && <p>{t("shift.noSites")}</p>}
      <Field label={t("common.site")}>
        {(id) => (
          <select id={id} name="site" required value={siteId} onChange={onInput(setSiteId)}>
            {sites.map((site) => (
              <option key={site.site_id} value={site.site_id}>
                {site.name}
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("shift.openingCash")}>
        {(id) => <input id={id} name="opening_cash" type="number" min={0} step={1} required value={cash} onInput={onInput(setCash)} />}
      </Field>
      <Alert message={error} />
      <button type="submit" disabled={busy || !siteId}>
        {t("shift.open")}
      </button>
    </form>
  );
}

function Figures({ shift }: { shift: Shift }) {
  return (
    <div class="stat-row">
      <div class="stat">
        <span class="stat-label">{t("shift.opening")}</span>
        <span class="stat-value" data-testid="opening-cash">{rupiah(shift.opening_cash)}</span>
      </div>
      <div class="stat">
        <span class="stat-label">{t("shift.salesTotal")} ({shift.sales_count ?? 0})</span>
        <span class="stat-value" data-testid="sales-total">{rupiah(shift.sales_total ?? 0)}</span>
      </div>
      <div class="stat">
        <span class="stat-label">{t("shift.voidsTotal")}</span>
        <span class="stat-value" data-testid="voids-total">{rupiah(-(shift.voids_total ?? 0))}</span>
      </div>
      <div class="stat">
        <span class="stat-label" title={t("shift.expectedHow")}>{t("shift.expected")}</span>
        <span class="stat-value" data-testid="expected-cash">{rupiah(shift.expected_cash ?? 0)}</span>
      </div>
    </div>
  );
}

function CurrentShift({
  shift,
  site,
  onRefresh,
  onClosed,
}: {
  shift: Shift;
  site: Site | undefined;
  onRefresh: () => void;
  onClosed: (shift: Shift) => void;
}) {
  const [declared, setDeclared] = useState("");
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!window.confirm(t("shift.confirmClose", { amount: rupiah(Number(declared)) }))) return;
    setError(null);
    setBusy(true);
    try {
      const body: Record<string, unknown> = { declared_cash: Number(declared) };
      if (note.trim()) body.note = note.trim();
      onClosed(await api.post<Shift>(orgPath(`/shifts/${encodeURIComponent(shift.shift_id)}/close`), body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card" aria-labelledby="current-title">
      <div class="page-head">
        <h2 id="current-title">{t("shift.current")}</h2>
        <div class="buttons">
          <a class="button secondary" href="#/sell">
            {t("shift.sell")}
          </a>
          <button type="button" class="secondary" onClick={onRefresh}>
            {t("common.refresh")}
          </button>
        </div>
      </div>
      <dl class="facts">
        <dt>{t("common.site")}</dt>
        <dd>{site?.name ?? t("common.none")}</dd>
        <dt>{t("shift.openedAt")}</dt>
        <dd>{formatTime(shift.opened_at, site?.timezone ?? DEFAULT_TZ)}</dd>
      </dl>
      <Figures shift={shift} />
      <form class="form revoke-form" onSubmit={submit} aria-labelledby="close-title">
        <h3 id="close-title">{t("shift.close")}</h3>
        <Field label={t("shift.declaredCash")}>
          {(id) => <input id={id} name="declared_cash" type="number" min={0} step={1} required value={declared} onInput={onInput(setDeclared)} />}
        </Field>
        <Field label={t("shift.note")} hint={t("common.optional")}>
          {(id, hint) => <input id={id} name="note" maxLength={500} aria-describedby={hint} value={note} onInput={onInput(setNote)} />}
        </Field>
        <Alert message={error} />
        <button type="submit" disabled={busy || declared.trim() === ""}>
          {t("shift.close")}
        </button>
      </form>
    </section>
  );
}

function ShiftSummary({ shift, site }: { shift: Shift; site: Site | undefined }) {
  const difference = shift.difference ?? 0;
  return (
    <section class="card" aria-labelledby="summary-title" role="status">
      <h2 id="summary-title">{t("shift.summary")}</h2>
      <p>{t("shift.closed")}</p>
      <dl class="facts">
        <dt>{t("common.site")}</dt>
        <dd>{site?.name ?? t("common.none")}</dd>
        <dt>{t("shift.closedAt")}</dt>
        <dd>{formatTime(shift.closed_at, site?.timezone ?? DEFAULT_TZ)}</dd>
      </dl>
      <Figures shift={shift} />
      <div class="stat-row">
        <div class="stat">
          <span class="stat-label">{t("shift.declared")}</span>
          <span class="stat-value" data-testid="declared-cash">{rupiah(shift.declared_cash ?? 0)}</span>
        </div>
        <div class={`stat ${difference < 0 ? "short" : difference > 0 ? "over" : "exact"}`}>
          <span class="stat-label">{t("shift.difference")}</span>
          <span class="stat-value" data-testid="difference">{rupiah(difference)}</span>
          <span>{differenceText(difference)}</span>
        </div>
      </div>
    </section>
  );
}

function ShiftList({ siteOf, mine, tick }: { siteOf: (id: string) => Site | undefined; mine: boolean; tick: number }) {
  const [from, setFrom] = useState(utcDate(6));
  const [to, setTo] = useState(utcDate());
  const [shifts, setShifts] = useState<Shift[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const load = async () => {
    setError(null);
    setLoading(true);
    try {
      setShifts(await getAllPages<Shift>(orgPath("/shifts"), "shifts", { from, to }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load();
  }, [tick]);
  const title = mine ? t("shift.mine") : t("shift.all");
  return (
    <section aria-labelledby="shifts-title">
      <h2 id="shifts-title">{title}</h2>
      <form
        class="card form inline-form"
        aria-label={title}
        onSubmit={(event) => {
          event.preventDefault();
          void load();
        }}
      >
        <Field label={t("common.from")}>{(id) => <input id={id} name="from" type="date" required value={from} onInput={onInput(setFrom)} />}</Field>
        <Field label={t("common.to")}>{(id) => <input id={id} name="to" type="date" required value={to} onInput={onInput(setTo)} />}</Field>
        <button type="submit" disabled={loading}>
          {t("common.apply")}
        </button>
        <Alert message={error} />
      </form>
      <Loading show={loading} />
      {shifts && (
        <div class="table-wrap">
          <table class="shifts-table" aria-label={title}>
            <thead>
              <tr>
                <th scope="col">{t("shift.who")}</th>
                <th scope="col">{t("common.site")}</th>
                <th scope="col">{t("shift.openedAt")}</th>
                <th scope="col">{t("shift.closedAt")}</th>
                <th scope="col">{t("common.status")}</th>
                <th scope="col" class="num">{t("shift.expected")}</th>
                <th scope="col" class="num">{t("shift.declared")}</th>
                <th scope="col" class="num">{t("shift.difference")}</th>
              </tr>
            </thead>
            <tbody>
              {shifts.length === 0 && (
                <tr>
                  <td colSpan={8}>{t("common.empty")}</td>
                </tr>
              )}
              {shifts.map((shift) => {
                const site = siteOf(shift.site_id);
                const tz = site?.timezone ?? DEFAULT_TZ;
                return (
                  <tr key={shift.shift_id}>
                    <td data-label={t("shift.who")}>{shift.user_email ?? t("common.none")}</td>
                    <td data-label={t("common.site")}>{site?.name ?? t("common.none")}</td>
                    <td data-label={t("shift.openedAt")}>{formatTime(shift.opened_at, tz)}</td>
                    <td data-label={t("shift.closedAt")}>{formatTime(shift.closed_at, tz)}</td>
                    <td data-label={t("common.status")}>{t(`shift.status.${shift.status}`)}</td>
                    <td data-label={t("shift.expected")} class="num">
                      {shift.expected_cash === null ? t("common.none") : rupiah(shift.expected_cash)}
                    </td>
                    <td data-label={t("shift.declared")} class="num">
                      {shift.declared_cash === null ? t("common.none") : rupiah(shift.declared_cash)}
                    </td>
                    <td data-label={t("shift.difference")} class="num">
                      {shift.difference === null ? t("common.none") : rupiah(shift.difference)}
                      {shift.note && <span class="hint"> · {shift.note}</span>}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
