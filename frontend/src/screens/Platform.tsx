// Platform admins: organizations, create one, revenue per organization, pick one to act in.

import { useState } from "preact/hooks";
import { api, getAllPages } from "../api";
import { localDate, rupiah } from "../format";
import { t } from "../i18n";
import { navigate } from "../router";
import { actingOrg, setActingOrg, type Org } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, Loading, Notice, onInput, Page, useLoad, useSubmit } from "../ui";
import type { SalesReport } from "./Reports";

export function Platform() {
  const orgs = useLoad(() => getAllPages<Org>("/v1/orgs", "orgs"));
  const acting = useSignal(actingOrg);
  const [name, setName] = useState("");
  const { submit: create, error, notice, busy } = useSubmit(async () => {
    await api.post<Org>("/v1/orgs", { name: name.trim() });
    setName("");
    orgs.reload();
    return t("platform.created");
  });

  return (
    <Page title={t("platform.title")}>
      <form class="card form inline-form" onSubmit={create} aria-labelledby="org-form-title">
        <h2 id="org-form-title">{t("platform.new")}</h2>
        <Field label={t("platform.name")}>
          {(id) => <input id={id} name="name" required maxLength={100} value={name} onInput={onInput(setName)} />}
        </Field>
        <button type="submit" disabled={busy}>
          {t("common.create")}
        </button>
        <Alert message={error} />
        <Notice message={notice} />
      </form>
      <h2>{t("platform.orgs")}</h2>
      <p class="hint">{t("platform.pick")}</p>
      <Loading show={orgs.loading} />
      <Alert message={orgs.error} />
      {orgs.data && orgs.data.length === 0 && <p>{t("common.empty")}</p>}
      {orgs.data && orgs.data.length > 0 && (
        <div class="table-wrap">
          <table class="orgs-table">
            <thead>
              <tr>
                <th scope="col">{t("platform.name")}</th>
                <th scope="col" class="num">{t("platform.revenue")}</th>
                <th scope="col">{t("common.actions")}</th>
              </tr>
            </thead>
            <tbody>
              {orgs.data.map((org) => (
                <tr key={org.org_id} class={acting?.org_id === org.org_id ? "selected" : ""}>
                  <td data-label={t("platform.name")}>
                    {org.name} <code class="id">{org.org_id}</code>
                  </td>
                  <td data-label={t("platform.revenue")} class="num">
                    <OrgRevenue orgId={org.org_id} />
                  </td>
                  <td>
                    {acting?.org_id === org.org_id ? (
                      <span class="badge">{t("platform.acting")}</span>
                    ) : (
                      <button
                        type="button"
                        class="secondary"
                        aria-label={`${t("platform.actIn")}: ${org.name}`}
                        onClick={() => {
                          setActingOrg(org);
                          navigate("#/dashboard");
                        }}
                      >
                        {t("platform.actIn")}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Page>
  );
}

function OrgRevenue({ orgId }: { orgId: string }) {
  const report = useLoad(
    () =>
      api.get<SalesReport>(`/v1/orgs/${encodeURIComponent(orgId)}/reports/sales`, {
        from: localDate(undefined, 29),
        to: localDate(),
        group_by: "site",
      }),
    [orgId],
  );
  if (report.loading) return <span>{t("common.loading")}</span>;
  if (report.error) return <span class="error" role="alert">{report.error}</span>;
  return <span>{rupiah(report.data?.total.amount ?? 0)}</span>;
}
