// Print view: one card per code, A4 sheet or 58 mm thermal roll; print CSS makes clean pages.

import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { brand, loadBrand } from "../brand";
import { BrandMark } from "../brandmark";
import { duration, groupCode, rupiah } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { useSignal } from "../signal";
import { QrImage } from "../qr";
import { Alert, loadPlans, loadSites, Loading, Page, type Plan, type Site } from "../ui";
import { venueOf, type Venue } from "../venue";
import type { Batch } from "./Batches";

type Layout = "a4" | "thermal";
const LAYOUT_KEY = "kuota.print_layout";

interface PrintData {
  batch: Batch;
  codes: string[];
  plan: Plan | undefined;
  site: Site | undefined;
}

export function PrintView({ batchId }: { batchId: string }) {
  const [data, setData] = useState<PrintData | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [layout, setLayoutState] = useState<Layout>(
    (localStorage.getItem(LAYOUT_KEY) as Layout | null) === "thermal" ? "thermal" : "a4",
  );

  const setLayout = (next: Layout) => {
    localStorage.setItem(LAYOUT_KEY, next);
    setLayoutState(next);
  };

  useEffect(() => {
    let live = true;
    (async () => {
      const batch = await api.get<Batch>(orgPath(`/batches/${encodeURIComponent(batchId)}`));
      if (batch.status !== "done") throw new Error(t("print.notReady", { status: t(`status.${batch.status}`) }));
      const [codes, plans, sites] = await Promise.all([
        api.get<{ codes: string[] }>(orgPath(`/batches/${encodeURIComponent(batchId)}/codes`)),
        loadPlans(),
        loadSites(),
        loadBrand(), // the ISP's mark is on every card: there before the sheet is
      ]);
      return {
        batch,
        codes: codes.codes,
        plan: plans.find((plan) => plan.plan_id === batch.plan_id),
        site: sites.find((site) => site.site_id === batch.site_id) ?? (sites.length === 1 ? sites[0] : undefined),
      };
    })()
      .then((value) => live && setData(value))
      .catch((err) => live && setError(err instanceof Error ? err.message : String(err)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [batchId]);

  const venue: Venue = venueOf(data?.site);

  return (
    <Page
      title={t("print.title")}
      actions={
        <div class="print-controls no-print">
          <label>
            {t("print.layout")}{" "}
            <select value={layout} onChange={(e) => setLayout((e.currentTarget as HTMLSelectElement).value as Layout)}>
              <option value="a4">{t("print.a4")}</option>
              <option value="thermal">{t("print.thermal")}</option>
            </select>
          </label>
          <button type="button" onClick={() => window.print()} disabled={!data}>
            {t("print.print")}
          </button>
          <a href="#/batches">{t("print.back")}</a>
        </div>
      }
    >
      <Loading show={loading} />
      <Alert message={error} />
      {data && (
        <>
          <p class="no-print hint">
            {t("print.count", { n: data.codes.length })} · {t("print.venueHint")}
          </p>
          <div class={`sheet ${layout}`} data-layout={layout}>
            {data.codes.map((code) => (
              <VoucherCard key={code} code={code} plan={data.plan} venue={venue} />
            ))}
          </div>
        </>
      )}
    </Page>
  );
}

export function VoucherCard({ code, plan, venue, expiresText }: { code: string; plan: Plan | undefined | { name: string; price: number; duration_minutes: number }; venue: Venue; expiresText?: string }) {
  const grouped = groupCode(code);
  const isp = useSignal(brand);
  return (
    <article class="voucher-card" aria-label={`${t("print.code")} ${grouped}`}>
      <header class="vc-head">
        {venue.logo && <img class="vc-logo" src={venue.logo} alt="" />}
        <div>
          <p class="vc-venue">{venue.venueName || "Kuota WiFi"}</p>
          {venue.ssid && (
            <p class="vc-ssid">
              {t("print.wifi")}: <strong>{venue.ssid}</strong>
            </p>
          )}
        </div>
      </header>
      <div class="vc-body">
        <QrImage code={code} />
        <div class="vc-text">
          <p class="vc-code-label">{t("print.code")}</p>
          <p class="vc-code">{grouped}</p>
          {plan && (
            <>
              <p class="vc-plan">{plan.name}</p>
              <p class="vc-terms">
                <span class="vc-price">{rupiah(plan.price)}</span> · <span class="vc-duration">{duration(plan.duration_minutes)}</span>
              </p>
            </>
          )}
          {expiresText && <p class="vc-expires">{expiresText}</p>}
        </div>
      </div>
      {isp.name && (
        <footer class="vc-isp">
          <BrandMark brand={isp} label={t("brand.by")} compact />
        </footer>
      )}
    </article>
  );
}
