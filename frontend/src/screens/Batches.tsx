// Batches: issue vouchers with a live progress bar, and the organization's batches
// from GET /v1/orgs/{org}/batches (every page, shown newest first); unfinished ones are polled until done.

import { useEffect, useState } from "preact/hooks";
import { api, errorText, getAllPages } from "../api";
import { formatTime } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, Field, loadPlans, loadSites, Loading, onInput, Page, type Site, useLoad } from "../ui";

export interface Batch {
  batch_id: string;
  status: "pending" | "running" | "done" | "failed";
  issued: number;
  quantity: number;
  plan_id: string;
  site_id: string | null;
  valid_until: string;
  entropy_bits: number;
  warnings: string[];
  created_at?: string | null;
}

// The API pages batches in id order, which says nothing about time: read them all, sort newest first.
export const loadBatches = () =>
  getAllPages<Batch>(orgPath("/batches"), "batches").then((batches) =>
    batches.sort((a, b) => (b.created_at ?? "").localeCompare(a.created_at ?? "")),
  );

const unfinished = (batch: Batch) => batch.status === "pending" || batch.status === "running";

const POLL_MS = 1000;

export function Batches() {
  const plans = useLoad(loadPlans);
  const sites = useLoad(loadSites);
  const [planId, setPlanId] = useState("");
  const [siteId, setSiteId] = useState("");
  const [quantity, setQuantity] = useState("20");
  const [codeLength, setCodeLength] = useState("10");
  const [alphabet, setAlphabet] = useState("mixed");
  const [prefix, setPrefix] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [current, setCurrent] = useState<Batch | null>(null);
  const [list, setList] = useState<Batch[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [listTick, setListTick] = useState(0);

  // A top-up is never a new voucher: it is sold onto a code from the voucher screen.
  const activePlans = plans.data?.filter((plan) => !plan.archived && plan.kind !== "topup") ?? [];
  useEffect(() => {
    if (!planId && activePlans.length) setPlanId(activePlans[0].plan_id);
  }, [plans.data]);

  // Put fresh copies of some batches into the list (the rest stay as they are).
  const merge = (fresh: Batch[]) => {
    const byId = new Map(fresh.map((batch) => [batch.batch_id, batch]));
    setList((prev) => prev && prev.map((batch) => byId.get(batch.batch_id) ?? batch));
  };

  // Poll while the batch is being issued.
  useEffect(() => {
    if (!current || (current.status !== "pending" && current.status !== "running")) return;
    const timer = window.setTimeout(async () => {
      try {
        const fresh = await api.get<Batch>(orgPath(`/batches/${current.batch_id}`));
        setCurrent({ ...fresh, warnings: current.warnings.length ? current.warnings : fresh.warnings });
        merge([fresh]);
      } catch (err) {
        setError(errorText(err));
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [current]);

  // The organization's batches, newest first (again after each issue).
  useEffect(() => {
    let live = true;
    loadBatches()
      .then((batches) => {
        if (!live) return;
        setList(batches);
        setListError(null);
      })
      .catch((err) => live && setListError(errorText(err)));
    return () => {
      live = false;
    };
  }, [listTick]);

  // Poll the listed batches still being issued, as the progress card does (it merges
  // its own batch here while it is unfinished, so that one is not fetched twice).
  const currentPolls = current !== null && unfinished(current);
  useEffect(() => {
    const running = (list ?? []).filter((batch) => unfinished(batch) && !(currentPolls && batch.batch_id === current?.batch_id));
    if (running.length === 0) return;
    const timer = window.setTimeout(async () => {
      try {
        merge(await Promise.all(running.map((batch) => api.get<Batch>(orgPath(`/batches/${batch.batch_id}`)))));
        setListError(null);
      } catch (err) {
        setListError(errorText(err));
      }
    }, POLL_MS);
    return () => window.clearTimeout(timer);
  }, [list, currentPolls]);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const batch = await api.post<Batch>(orgPath("/batches"), {
        plan_id: planId,
        site_id: siteId || null,
        quantity: Number(quantity),
        code_length: Number(codeLength),
        alphabet,
        prefix: prefix.trim(),
      });
      setCurrent(batch);
      setListTick((n) => n + 1); // the new batch heads the list
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Page title={t("batches.title")}>
      <form class="card form" onSubmit={submit} aria-labelledby="batch-form-title">
        <h2 id="batch-form-title">{t("batches.new")}</h2>
        <Alert message={plans.error ?? sites.error} />
        <div class="grid">
          <Field label={t("batches.plan")}>
            {(id) => (
              <select id={id} name="plan" required value={planId} onChange={onInput(setPlanId)}>
                {activePlans.map((plan) => (
                  <option key={plan.plan_id} value={plan.plan_id}>
                    {plan.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("batches.site")}>
            {(id) => (
              <select id={id} name="site" value={siteId} onChange={onInput(setSiteId)}>
                <option value="">{t("batches.anySite")}</option>
                {sites.data?.map((site) => (
                  <option key={site.site_id} value={site.site_id}>
                    {site.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t("batches.quantity")}>
            {(id) => <input id={id} name="quantity" type="number" min={1} max={100000} required value={quantity} onInput={onInput(setQuantity)} />}
          </Field>
          <Field label={t("batches.codeLength")}>
            {(id) => <input id={id} name="code_length" type="number" min={6} max={16} value={codeLength} onInput={onInput(setCodeLength)} />}
          </Field>
          <Field label={t("batches.alphabet")}>
            {(id) => (
              <select id={id} name="alphabet" value={alphabet} onChange={onInput(setAlphabet)}>
                <option value="mixed">{t("batches.mixed")}</option>
                <option value="digits">{t("batches.digits")}</option>
                <option value="letters">{t("batches.letters")}</option>
              </select>
            )}
          </Field>
          <Field label={t("batches.prefix")} hint={t("common.optional")}>
            {(id, hint) => <input id={id} name="prefix" maxLength={8} value={prefix} aria-describedby={hint} onInput={onInput(setPrefix)} />}
          </Field>
        </div>
        <Alert message={error} />
        <button type="submit" disabled={busy || !planId}>
          {t("batches.issue")}
        </button>
      </form>

      {current && <BatchProgress batch={current} />}

      <h2 id="batches-list-title">{t("batches.list")}</h2>
      <Loading show={list === null && !listError} />
      <Alert message={listError} />
      {list && list.length === 0 && <p>{t("common.empty")}</p>}
      {list && list.length > 0 && (
        <div class="table-wrap">
          <table class="batches-table" aria-labelledby="batches-list-title">
            <thead>
              <tr>
                <th scope="col">{t("batches.id")}</th>
                <th scope="col">{t("batches.plan")}</th>
                <th scope="col">{t("batches.site")}</th>
                <th scope="col">{t("batches.created")}</th>
                <th scope="col">{t("common.status")}</th>
                <th scope="col">{t("common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((batch) => (
                <BatchRow
                  key={batch.batch_id}
                  batch={batch}
                  planName={plans.data?.find((plan) => plan.plan_id === batch.plan_id)?.name}
                  site={batch.site_id ? sites.data?.find((site) => site.site_id === batch.site_id) : undefined}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function BatchProgress({ batch }: { batch: Batch }) {
  const percent = batch.quantity ? Math.round((batch.issued / batch.quantity) * 100) : 0;
  const weak = batch.entropy_bits < 40;
  return (
    <div class="card batch-progress" aria-live="polite">
      <h2>{t("batches.progress")}</h2>
      <p>
        {t("batches.id")} <code>{batch.batch_id}</code> · {t(`status.${batch.status}`)}
      </p>
      <label class="progress-label">
        {t("batches.issued", { issued: batch.issued, quantity: batch.quantity })}
        <progress max={batch.quantity} value={batch.issued} aria-valuetext={`${percent}%`}>
          {percent}%
        </progress>
      </label>
      <p class="hint">{t("batches.entropy", { bits: Math.floor(batch.entropy_bits) })}</p>
      {(weak || batch.warnings.length > 0) && (
        <div class="warning" role="alert">
          {weak && <p>{t("batches.weak")}</p>}
          {batch.warnings.map((warning) => (
            <p key={warning}>{warning}</p>
          ))}
        </div>
      )}
      {batch.status === "done" && (
        <a class="button" href={`#/batches/${batch.batch_id}/print`}>
          {t("batches.open")}
        </a>
      )}
    </div>
  );
}

function BatchRow({ batch, planName, site }: { batch: Batch; planName?: string; site?: Site }) {
  return (
    <tr>
      <td data-label={t("batches.id")}>
        <code>{batch.batch_id}</code>
      </td>
      <td data-label={t("batches.plan")}>{planName ?? batch.plan_id}</td>
      <td data-label={t("batches.site")}>{batch.site_id ? site?.name ?? batch.site_id : t("common.allSites")}</td>
      <td data-label={t("batches.created")}>{formatTime(batch.created_at, site?.timezone)}</td>
      <td data-label={t("common.status")}>
        {`${t(`status.${batch.status}`)} (${batch.issued}/${batch.quantity})`}
        {unfinished(batch) && (
          <progress max={batch.quantity} value={batch.issued} aria-label={t("batches.issued", { issued: batch.issued, quantity: batch.quantity })} />
        )}
      </td>
      <td>
        {batch.status === "done" ? <a href={`#/batches/${batch.batch_id}/print`}>{t("batches.open")}</a> : t("common.none")}
      </td>
    </tr>
  );
}
