// RADIUS: each site's NAS devices (the NAS identity picks the site) and the organisation's
// `radius` keys that FreeRADIUS authenticates to Kuota with (shown once).

import { useState } from "preact/hooks";
import { api, errorText, isMissingEndpoint } from "../api";
import { formatTime } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import { Alert, CopyButton, Field, loadSites, Loading, Notice, onInput, Page, type Site, useLoad, useSubmit } from "../ui";

interface Nas {
  nas_id: string;
  name: string;
  nas_identifier: string | null;
  nas_ip: string | null;
  site_id: string;
  created_at: string;
}

export function NasScreen() {
  const sites = useLoad(loadSites);
  const [siteId, setSiteId] = useState("");
  const site = sites.data?.find((s) => s.site_id === siteId) ?? sites.data?.[0];

  return (
    <Page title={t("nas.title")}>
      <RadiusKeyForm />
      <Loading show={sites.loading} />
      <Alert message={sites.error} />
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
          <SiteNas key={site.site_id} site={site} />
        </>
      )}
    </Page>
  );
}

function SiteNas({ site }: { site: Site }) {
  const path = orgPath(`/sites/${site.site_id}/nas`);
  // The NAS API arrives with the RADIUS endpoints; until the server has it, say so plainly.
  const list = useLoad<Nas[] | "missing">(
    () =>
      api
        .get<{ nas: Nas[] }>(path)
        .then((r) => r.nas)
        .catch((err) => {
          if (isMissingEndpoint(err)) return "missing";
          throw err;
        }),
    [site.site_id],
  );
  const [name, setName] = useState("");
  const [identifier, setIdentifier] = useState("");
  const [ip, setIp] = useState("");
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const form = useSubmit(async () => {
    const body: Record<string, string> = { name: name.trim() };
    if (identifier.trim()) body.nas_identifier = identifier.trim();
    if (ip.trim()) body.nas_ip = ip.trim();
    await api.post(path, body);
    setName("");
    setIdentifier("");
    setIp("");
    list.reload();
    return t("nas.registered");
  });
  const remove = async (nas: Nas) => {
    setDeleteError(null);
    if (!window.confirm(t("nas.confirmDelete", { name: nas.name }))) return;
    try {
      await api.del(`${path}/${nas.nas_id}`);
      list.reload();
    } catch (err) {
      setDeleteError(errorText(err));
    }
  };
  const missing = list.data === "missing";
  const devices = Array.isArray(list.data) ? list.data : null;

  return (
    <section class="card" aria-labelledby="nas-list-title">
      <h2 id="nas-list-title">{t("nas.forSite", { name: site.name })}</h2>
      {missing ? (
        <p role="status">{t("nas.unavailable")}</p>
      ) : (
        <>
          <form class="form inline-form" onSubmit={form.submit} aria-label={t("nas.register")}>
            <Field label={t("nas.name")}>
              {(id) => <input id={id} name="nas-name" required maxLength={100} value={name} onInput={onInput(setName)} />}
            </Field>
            <Field label={t("nas.identifier")}>
              {(id) => <input id={id} name="nas-identifier" maxLength={253} value={identifier} onInput={onInput(setIdentifier)} />}
            </Field>
            <Field label={t("nas.ip")}>
              {(id) => <input id={id} name="nas-ip" maxLength={45} value={ip} onInput={onInput(setIp)} />}
            </Field>
            <button type="submit" disabled={form.busy}>
              {t("nas.register")}
            </button>
          </form>
          <p class="hint">{t("nas.oneOfTwo")}</p>
          <Alert message={form.error} />
          <Notice message={form.notice} />
          <Loading show={list.loading} />
          <Alert message={list.error} />
          <Alert message={deleteError} />
          {devices && devices.length === 0 && <p>{t("common.empty")}</p>}
          {devices && devices.length > 0 && (
            <div class="table-wrap">
              <table class="nas-table">
                <thead>
                  <tr>
                    <th scope="col">{t("nas.name")}</th>
                    <th scope="col">{t("nas.identifier")}</th>
                    <th scope="col">{t("nas.ip")}</th>
                    <th scope="col">{t("sites.created")}</th>
                    <th scope="col">{t("common.status")}</th>
                  </tr>
                </thead>
                <tbody>
                  {devices.map((nas) => (
                    <tr key={nas.nas_id}>
                      <td data-label={t("nas.name")}>{nas.name}</td>
                      <td data-label={t("nas.identifier")}>{nas.nas_identifier ?? "—"}</td>
                      <td data-label={t("nas.ip")}>{nas.nas_ip ?? "—"}</td>
                      <td data-label={t("sites.created")}>{formatTime(nas.created_at, site.timezone)}</td>
                      <td data-label={t("common.status")}>
                        <button type="button" class="danger" aria-label={`${t("nas.delete")} ${nas.name}`} onClick={() => remove(nas)}>
                          {t("nas.delete")}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </section>
  );
}

function RadiusKeyForm() {
  const [name, setName] = useState("");
  const [created, setCreated] = useState<{ key_id: string; api_key: string } | null>(null);
  const form = useSubmit(async () => {
    try {
      setCreated(await api.post<{ key_id: string; api_key: string }>(orgPath("/keys"), { kind: "radius", name: name.trim() }));
    } catch (err) {
      if (isMissingEndpoint(err)) throw new Error(t("nas.keysUnavailable"));
      throw err;
    }
    setName("");
  });
  return (
    <section class="card" aria-labelledby="radius-keys-title">
      <h2 id="radius-keys-title">{t("nas.radiusKey")}</h2>
      <p>{t("nas.radiusKeyAbout")}</p>
      <form class="form inline-form" onSubmit={form.submit} aria-label={t("nas.createKey")}>
        <Field label={t("sites.keyName")}>
          {(id) => <input id={id} name="radius-key-name" required maxLength={100} value={name} onInput={onInput(setName)} />}
        </Field>
        <button type="submit" disabled={form.busy}>
          {t("nas.createKey")}
        </button>
      </form>
      <Alert message={form.error} />
      {created && (
        <div class="card key-once" role="region" aria-label={t("sites.apiKey")}>
          <p class="warning">{t("sites.keyOnce")}</p>
          <p>
            <strong>{t("sites.apiKey")}:</strong> <code class="api-key">{created.api_key}</code> <CopyButton text={created.api_key} />
          </p>
        </div>
      )}
    </section>
  );
}
