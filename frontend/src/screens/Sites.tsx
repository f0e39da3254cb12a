// Sites (timezone, business hours, print settings) and their controller/POS API keys.

import { useState } from "preact/hooks";
import { api, errorText, getApiBase } from "../api";
import { formatTime, zoneName } from "../format";
import { t } from "../i18n";
import { me, orgPath, type Org } from "../session";
import { useSignal } from "../signal";
import { Alert, CopyButton, Field, loadSites, Loading, Notice, onInput, Page, type Site, useLoad } from "../ui";
import { downscaleLogo } from "../venue";

const LOGO_MAX_UPLOAD_BYTES = 10_000_000; // larger files are not worth decoding to make a 256 px logo

export const TIMEZONES = ["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura", "Asia/Pontianak", "UTC"];

export function Sites() {
  const sites = useLoad(loadSites);
  const [open, setOpen] = useState<string | null>(null); // the site whose keys and settings are shown

  const who = useSignal(me);
  return (
    <Page title={t("sites.title")}>
      {(who?.role === "owner" || who?.role === "platform_admin") && <OrgSettings />}
      <SiteForm onCreated={() => sites.reload()} />
      <h2>{t("sites.title")}</h2>
      <Loading show={sites.loading} />
      <Alert message={sites.error} />
      {sites.data && sites.data.length === 0 && <p>{t("common.empty")}</p>}
      <ul class="site-list">
        {sites.data?.map((site) => (
          <li key={site.site_id} class="card site">
            <h3>{site.name}</h3>
            <p class="meta">
              {t("sites.timezone")}: {site.timezone} ({zoneName(site.timezone)}) · {t("sites.hours")}:{" "}
              {site.business_hours?.opens ?? "08:00"}–{site.business_hours?.closes ?? "22:00"}
            </p>
            <button
              type="button"
              class="secondary"
              aria-expanded={open === site.site_id}
              onClick={() => setOpen(open === site.site_id ? null : site.site_id)}
            >
              {t("sites.manageKeys")}: {site.name}
            </button>
            {open === site.site_id && <SiteDetail site={site} onChanged={sites.reload} />}
          </li>
        ))}
      </ul>
    </Page>
  );
}

/** Organization-wide settings the owner sets (audited): whether it sells only through the POS. */
function OrgSettings() {
  const org = useLoad(() => api.get<Org & { pos_only_sales?: boolean }>(orgPath("")));
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const change = async (posOnly: boolean) => {
    if (!org.data) return;
    const before = org.data;
    setError(null);
    setSaved(null);
    setBusy(true);
    org.setData({ ...before, pos_only_sales: posOnly }); // shown at once, put back if the change fails
    try {
      org.setData(await api.patch<Org & { pos_only_sales: boolean }>(orgPath(""), { pos_only_sales: posOnly }));
      setSaved(t("org.saved"));
    } catch (err) {
      org.setData(before);
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card form" aria-labelledby="org-settings-title">
      <h2 id="org-settings-title">{t("org.settings")}</h2>
      <Loading show={org.loading} />
      <Alert message={org.error ?? error} />
      {org.data && (
        <label class="check">
          <input
            type="checkbox"
            name="pos_only_sales"
            checked={Boolean(org.data.pos_only_sales)}
            disabled={busy}
            onChange={(event) => void change((event.target as HTMLInputElement).checked)}
          />{" "}
          {t("org.posOnly")}
        </label>
      )}
      <p class="hint">{t("org.posOnlyHint")}</p>
      <Notice message={saved} />
    </section>
  );
}

function SiteForm({ onCreated }: { onCreated: (siteId: string) => void }) {
  const [name, setName] = useState("");
  const [timezone, setTimezone] = useState("Asia/Jakarta");
  const [opens, setOpens] = useState("08:00");
  const [closes, setCloses] = useState("22:00");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const created = await api.post<{ site_id: string }>(orgPath("/sites"), {
        name: name.trim(),
        timezone,
        business_hours: { opens, closes },
      });
      setName("");
      onCreated(created.site_id);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card form" onSubmit={submit} aria-labelledby="site-form-title">
      <h2 id="site-form-title">{t("sites.new")}</h2>
      <div class="grid">
        <Field label={t("sites.name")}>
          {(id) => <input id={id} name="name" required maxLength={100} value={name} onInput={onInput(setName)} />}
        </Field>
        <Field label={t("sites.timezone")}>
          {(id) => (
            <select id={id} name="timezone" value={timezone} onChange={onInput(setTimezone)}>
              {TIMEZONES.map((zone) => (
                <option key={zone} value={zone}>
                  {zone} ({zoneName(zone)})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t("sites.opens")}>
          {(id) => <input id={id} name="opens" type="time" value={opens} onInput={onInput(setOpens)} />}
        </Field>
        <Field label={t("sites.closes")}>
          {(id) => <input id={id} name="closes" type="time" value={closes} onInput={onInput(setCloses)} />}
        </Field>
      </div>
      <Alert message={error} />
      <button type="submit" disabled={busy}>
        {t("common.create")}
      </button>
    </form>
  );
}

interface Key {
  key_id: string;
  site_id: string;
  kind: "controller" | "pos";
  name: string;
  created_at: string;
  revoked_at: string | null;
}

function SiteDetail({ site, onChanged }: { site: Site; onChanged: () => void }) {
  const keys = useLoad(() => api.get<{ keys: Key[] }>(orgPath(`/sites/${site.site_id}/keys`)).then((r) => r.keys), [site.site_id]);
  const [kind, setKind] = useState<"controller" | "pos">("controller");
  const [name, setName] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [revokeError, setRevokeError] = useState<{ id: string; message: string } | null>(null);
  const [created, setCreated] = useState<{ key_id: string; api_key: string; kind: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      const result = await api.post<{ key_id: string; api_key: string }>(orgPath(`/sites/${site.site_id}/keys`), {
        kind,
        name: name.trim(),
      });
      setCreated({ ...result, kind });
      setName("");
      keys.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (key: Key) => {
    setRevokeError(null);
    if (!window.confirm(t("sites.confirmRevoke", { name: key.name }))) return;
    try {
      await api.del(orgPath(`/sites/${site.site_id}/keys/${key.key_id}`));
      keys.reload();
    } catch (err) {
      setRevokeError({ id: key.key_id, message: errorText(err) });
    }
  };

  return (
    <div class="site-detail">
      <HoursForm site={site} onSaved={onChanged} />
      <VenueForm site={site} onSaved={onChanged} />
      <h4>{t("sites.keysFor", { name: site.name })}</h4>
      <form class="form inline-form" onSubmit={create} aria-label={t("sites.createKey")}>
        <Field label={t("sites.keyKind")}>
          {(id) => (
            <select id={id} name="kind" value={kind} onChange={onInput((v) => setKind(v as "controller" | "pos"))}>
              <option value="controller">{t("sites.kindController")}</option>
              <option value="pos">{t("sites.kindPos")}</option>
            </select>
          )}
        </Field>
        <Field label={t("sites.keyName")}>
          {(id) => <input id={id} name="key-name" required maxLength={100} value={name} onInput={onInput(setName)} />}
        </Field>
        <button type="submit" disabled={busy}>
          {t("sites.createKey")}
        </button>
        <Alert message={error} />
      </form>
      {created && <KeyOnce created={created} />}
      <Loading show={keys.loading} />
      <Alert message={keys.error} />
      {keys.data && keys.data.length > 0 && (
        <div class="table-wrap">
          <table class="keys-table">
            <thead>
              <tr>
                <th scope="col">{t("sites.keyName")}</th>
                <th scope="col">{t("sites.keyKind")}</th>
                <th scope="col">{t("sites.created")}</th>
                <th scope="col">{t("common.status")}</th>
              </tr>
            </thead>
            <tbody>
              {keys.data.map((key) => (
                <tr key={key.key_id}>
                  <td data-label={t("sites.keyName")}>{key.name}</td>
                  <td data-label={t("sites.keyKind")}>{key.kind === "pos" ? t("sites.kindPos") : t("sites.kindController")}</td>
                  <td data-label={t("sites.created")}>{formatTime(key.created_at, site.timezone)}</td>
                  <td data-label={t("common.status")}>
                    {key.revoked_at ? (
                      t("sites.revoked", { at: formatTime(key.revoked_at, site.timezone) })
                    ) : (
                      <button type="button" class="danger" aria-label={`${t("sites.revoke")} ${key.name}`} onClick={() => revoke(key)}>
                        {t("sites.revoke")}
                      </button>
                    )}
                    {revokeError?.id === key.key_id && <Alert message={revokeError.message} />}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function KeyOnce({ created }: { created: { key_id: string; api_key: string; kind: string } }) {
  const base = getApiBase() || window.location.origin;
  const header = `Authorization: Bearer ${created.api_key}`;
  const isPos = created.kind === "pos";
  const settings = isPos
    ? [`API base URL: ${base}`, `POST ${base}/v1/pos/sales`, header, "Idempotency-Key: <uuid per sale>"]
    : [`API base URL: ${base}`, `POST ${base}/v1/redeem`, `POST ${base}/v1/accounting`, header];
  return (
    <div class="card key-once" role="region" aria-label={t("sites.apiKey")}>
      <p class="warning">{t("sites.keyOnce")}</p>
      <p>
        <strong>{t("sites.apiKey")}:</strong> <code class="api-key">{created.api_key}</code>{" "}
        <CopyButton text={created.api_key} />
      </p>
      <h5>{isPos ? t("sites.posSettings") : t("sites.settings")}</h5>
      <dl class="settings">
        <dt>{t("sites.apiBase")}</dt>
        <dd>
          <code>{base}</code>
        </dd>
        <dt>{t("sites.endpoints")}</dt>
        <dd>
          {isPos ? (
            <code>POST /v1/pos/sales</code>
          ) : (
            <>
              <code>POST /v1/redeem</code>, <code>POST /v1/accounting</code>
            </>
          )}
        </dd>
        <dt>{t("sites.header")}</dt>
        <dd>
          <code>{header}</code>
        </dd>
      </dl>
      <CopyButton text={settings.join("\n")} label={`${t("common.copy")}: ${isPos ? t("sites.posSettings") : t("sites.settings")}`} />
    </div>
  );
}

function HoursForm({ site, onSaved }: { site: Site; onSaved: () => void }) {
  const [opens, setOpens] = useState(site.business_hours?.opens ?? "08:00");
  const [closes, setCloses] = useState(site.business_hours?.closes ?? "22:00");
  const [timezone, setTimezone] = useState(site.timezone);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    try {
      await api.patch(orgPath(`/sites/${site.site_id}`), { timezone, business_hours: { opens, closes } });
      setNotice(t("sites.hoursSaved"));
      onSaved();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form class="form inline-form" onSubmit={submit} aria-label={t("sites.hours")}>
      <Field label={t("sites.timezone")}>
        {(id) => (
          <select id={id} value={timezone} onChange={onInput(setTimezone)}>
            {(TIMEZONES.includes(timezone) ? TIMEZONES : [timezone, ...TIMEZONES]).map((zone) => (
              <option key={zone} value={zone}>
                {zone} ({zoneName(zone)})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field label={t("sites.opens")}>{(id) => <input id={id} type="time" value={opens} onInput={onInput(setOpens)} />}</Field>
      <Field label={t("sites.closes")}>{(id) => <input id={id} type="time" value={closes} onInput={onInput(setCloses)} />}</Field>
      <button type="submit" class="secondary">
        {t("sites.saveHours")}
      </button>
      <Alert message={error} />
      <Notice message={notice} />
    </form>
  );
}

function VenueForm({ site, onSaved }: { site: Site; onSaved: () => void }) {
  const [venueName, setVenueName] = useState(site.venue_name ?? "");
  const [ssid, setSsid] = useState(site.ssid ?? "");
  const [logo, setLogo] = useState<string | null>(site.logo ?? null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const pickLogo = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    setError(null);
    setNotice(null);
    if (file.size > LOGO_MAX_UPLOAD_BYTES) {
      setError(t("sites.logoTooBig"));
      input.value = "";
      return;
    }
    try {
      setLogo(await downscaleLogo(file));
    } catch {
      setError(t("sites.logoUnreadable"));
      input.value = "";
    }
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    setBusy(true);
    const body: Record<string, string | null> = { venue_name: venueName.trim(), ssid: ssid.trim() };
    if (logo !== (site.logo ?? null)) body.logo = logo; // null removes it
    try {
      await api.patch(orgPath(`/sites/${site.site_id}`), body);
      setNotice(t("sites.venueSaved"));
      onSaved();
    } catch (err) {
      setError(errorText(err)); // e.g. a 400 for a logo over the API's limit
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form inline-form" onSubmit={submit} aria-label={t("sites.venue")}>
      <h4>{t("sites.venue")}</h4>
      <Field label={t("sites.venueName")} hint={t("sites.venueNameHint", { name: site.name })}>
        {(id, hint) => (
          <input
            id={id}
            name="venue-name"
            maxLength={100}
            placeholder={site.name}
            aria-describedby={hint}
            value={venueName}
            onInput={onInput(setVenueName)}
          />
        )}
      </Field>
      <Field label={t("sites.ssid")}>{(id) => <input id={id} name="ssid" maxLength={32} value={ssid} onInput={onInput(setSsid)} />}</Field>
      <Field label={t("sites.logo")} hint={t("sites.logoHint")}>
        {(id, hint) => (
          <input id={id} name="logo" type="file" accept="image/png,image/jpeg,image/svg+xml" aria-describedby={hint} onChange={pickLogo} />
        )}
      </Field>
      {logo && (
        <>
          <img class="logo-preview" src={logo} alt={t("sites.logo")} />
          <button type="button" class="secondary" onClick={() => setLogo(null)}>
            {t("sites.removeLogo")}
          </button>
        </>
      )}
      <button type="submit" class="secondary" disabled={busy}>
        {t("common.save")}
      </button>
      <Alert message={error} />
      <Notice message={notice} />
    </form>
  );
}
