// Connect a controller: for one site, the exact configuration to paste into a MikroTik, UniFi,
// Omada or openNDS controller and into FreeRADIUS, filled with the site's values.

import { useEffect, useState } from "preact/hooks";
import { api, ApiError, errorText, getApiBase, isMissingEndpoint } from "../api";
import { configText, FAMILIES, type ControllerValues, newRadiusSecret } from "../controllers";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, CopyButton, Field, loadSites, Loading, onInput, Page, useLoad } from "../ui";

interface FasConfig {
  site_id: string;
  gateway_name: string;
  gateway_hash: string;
  faskey_hint: string;
  fasremotefqdn: string;
  fasport: number;
  faspath: string;
  faskey?: string; // only in the answer that created it
}

/** Where routers reach the API when the site has no FAS configuration yet: the console's API base. */
function fasDefaults(siteId: string): Pick<ControllerValues, "FASREMOTEFQDN" | "FASPORT" | "FASPATH"> {
  const base = new URL(getApiBase() || window.location.origin, window.location.href);
  const port = base.port || (base.protocol === "https:" ? "443" : "80");
  return {
    FASREMOTEFQDN: base.hostname,
    FASPORT: port,
    FASPATH: `${base.pathname.replace(/\/$/, "")}/v1/fas/gateways/${siteId}`,
  };
}

export function Connect({ initialSite }: { initialSite?: string }) {
  const sites = useLoad(loadSites);
  const [siteId, setSiteId] = useState(initialSite ?? "");
  const site = sites.data?.find((s) => s.site_id === siteId) ?? sites.data?.[0];

  return (
    <Page title={t("connect.title")}>
      <p>{t("connect.intro")}</p>
      <Loading show={sites.loading} />
      <Alert message={sites.error} />
      {sites.data && sites.data.length === 0 && <p>{t("connect.noSites")}</p>}
      {site && (
        <>
          <Field label={t("connect.site")}>
            {(id) => (
              <select id={id} name="site" value={site.site_id} onChange={onInput(setSiteId)}>
                {sites.data!.map((s) => (
                  <option key={s.site_id} value={s.site_id}>
                    {s.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <SiteConfig key={site.site_id} siteId={site.site_id} />
        </>
      )}
    </Page>
  );
}

function SiteConfig({ siteId }: { siteId: string }) {
  const [radiusServer, setRadiusServer] = useState("");
  const [nasIp, setNasIp] = useState("");
  const [nasIdentifier, setNasIdentifier] = useState(`kuota-${siteId}`);
  const [secret, setSecret] = useState(newRadiusSecret);
  const [profile, setProfile] = useState("hsprof1");
  const [fas, setFas] = useState<FasConfig | null>(null);
  const [fasError, setFasError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api
      .get<FasConfig>(orgPath(`/sites/${siteId}/fas`))
      .then(setFas)
      .catch((err) => {
        // No configuration yet (404), or a role that may not read it: the page still shows the text.
        if (!(isMissingEndpoint(err) || (err instanceof ApiError && err.status === 403))) setFasError(errorText(err));
      });
  }, [siteId]);

  const setUpFas = async () => {
    if (fas && !window.confirm(t("connect.fasConfirmRotate"))) return;
    setFasError(null);
    setBusy(true);
    try {
      setFas(await api.post<FasConfig>(orgPath(`/sites/${siteId}/fas`), {}));
    } catch (err) {
      setFasError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const values: Partial<ControllerValues> = {
    SITE_ID: siteId,
    RADIUS_SERVER: radiusServer.trim(),
    RADIUS_SECRET: secret.trim(),
    NAS_IDENTIFIER: nasIdentifier.trim(),
    NAS_IP: nasIp.trim(),
    HOTSPOT_PROFILE: profile.trim(),
    INTERIM_SECONDS: "300",
    GUEST_PAGE_HOST: window.location.hostname,
    ...fasDefaults(siteId),
    ...(fas
      ? {
          GATEWAY_NAME: fas.gateway_name,
          FASREMOTEFQDN: fas.fasremotefqdn,
          FASPORT: String(fas.fasport),
          FASPATH: fas.faspath,
          FASKEY: fas.faskey ?? "",
        }
      : {}),
  };

  return (
    <div class="connect">
      <form class="card form" aria-label={t("connect.values")} onSubmit={(event) => event.preventDefault()}>
        <h2>{t("connect.values")}</h2>
        <div class="grid">
          <Field label={t("connect.radiusServer")} hint={t("connect.radiusServerHint")}>
            {(id) => <input id={id} name="radius-server" value={radiusServer} onInput={onInput(setRadiusServer)} />}
          </Field>
          <Field label={t("connect.secret")} hint={t("connect.secretHint")}>
            {(id) => <input id={id} name="radius-secret" value={secret} onInput={onInput(setSecret)} />}
          </Field>
          <Field label={t("connect.nasIdentifier")}>
            {(id) => <input id={id} name="nas-identifier" value={nasIdentifier} onInput={onInput(setNasIdentifier)} />}
          </Field>
          <Field label={t("connect.nasIp")}>
            {(id) => <input id={id} name="nas-ip" value={nasIp} onInput={onInput(setNasIp)} />}
          </Field>
          <Field label={t("connect.hotspotProfile")}>
            {(id) => <input id={id} name="hotspot-profile" value={profile} onInput={onInput(setProfile)} />}
          </Field>
        </div>
        <button type="button" class="secondary" onClick={() => setSecret(newRadiusSecret())}>
          {t("connect.newSecret")}
        </button>
        <p class="hint">{t("connect.registerNas")}</p>
      </form>
      {FAMILIES.map((family) => (
        <section key={family} class="card config" aria-labelledby={`config-${family}-title`}>
          <h2 id={`config-${family}-title`}>{t(`connect.family.${family}`)}</h2>
          <p>{t(`connect.about.${family}`)}</p>
          {family === "opennds" && (
            <OpenNdsSetup fas={fas} busy={busy} error={fasError} onSetUp={setUpFas} />
          )}
          <pre class="config-text" data-family={family}>
            <code>{configText(family, values)}</code>
          </pre>
          <CopyButton text={configText(family, values)} />
          <p class="hint">
            {t("connect.guide", { file: `docs/integrations/${family === "freeradius" ? "mikrotik" : family}.md` })}
          </p>
        </section>
      ))}
    </div>
  );
}

function OpenNdsSetup(props: { fas: FasConfig | null; busy: boolean; error: string | null; onSetUp: () => void }) {
  const { fas, busy, error, onSetUp } = props;
  return (
    <div class="fas-setup">
      {fas?.faskey ? (
        <p class="notice" role="status">{t("connect.faskeyOnce")}</p>
      ) : fas ? (
        <p>{t("connect.fasConfigured", { hint: fas.faskey_hint })}</p>
      ) : (
        <p>{t("connect.fasMissing")}</p>
      )}
      <button type="button" disabled={busy} onClick={onSetUp}>
        {fas ? t("connect.fasRotate") : t("connect.fasSetUp")}
      </button>
      <Alert message={error} />
    </div>
  );
}
