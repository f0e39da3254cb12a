// Online payments (owners): connect the venue's own Midtrans or Xendit merchant account, for the whole
// organization or for chosen sites. Keys are write-only (the API answers with a hint of their last
// characters); the webhook URL to paste into the provider's dashboard is shown with a copy button, and
// the fee each plan pays per QRIS payment, so a venue sees that fixed fees weigh most on cheap vouchers.
// Kuota never holds the money: guests pay the venue's account directly.

import { useState } from "preact/hooks";
import { api, ApiError, errorText } from "../api";
import { rupiah } from "../format";
import { t } from "../i18n";
import { orgPath } from "../session";
import {
  Alert,
  CopyButton,
  Field,
  loadPlans,
  loadSites,
  Loading,
  Notice,
  onInput,
  Page,
  type Plan,
  type Site,
  useLoad,
  useSubmit,
} from "../ui";

export type ProviderName = "midtrans" | "xendit";
type Environment = "sandbox" | "production";

export const PROVIDERS: ProviderName[] = ["midtrans", "xendit"];

interface PlanFee {
  plan_id: string;
  price: number;
  fee: number;
}

export interface PaymentAccount {
  account_id: string;
  provider: ProviderName;
  environment: Environment;
  key_hint: string;
  webhook_url: string;
  /** null: every site of the organization, also those added later. */
  site_ids: string[] | null;
  fees?: PlanFee[];
}

const accountPath = (provider: ProviderName) => orgPath(`/payment-accounts/${provider}`);

/** The connected account, or null when there is none (the API answers 404). */
async function loadAccount(provider: ProviderName): Promise<PaymentAccount | null> {
  try {
    return await api.get<PaymentAccount>(accountPath(provider));
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export function Payments() {
  const sites = useLoad(loadSites);
  const plans = useLoad(loadPlans);
  return (
    <Page title={t("pay.title")}>
      <p class="explain">{t("pay.intro")}</p>
      <Alert message={sites.error ?? plans.error} />
      {PROVIDERS.map((provider) => (
        <ProviderCard key={provider} provider={provider} sites={sites.data ?? []} plans={plans.data ?? []} />
      ))}
      <p class="hint">{t("pay.guide")}</p>
    </Page>
  );
}

function ProviderCard({ provider, sites, plans }: { provider: ProviderName; sites: Site[]; plans: Plan[] }) {
  const account = useLoad(() => loadAccount(provider), [provider]);
  const [editing, setEditing] = useState(false);
  // A key, not a sentence: the notice follows a change of language.
  const [notice, setNotice] = useState<"pay.saved" | "pay.disconnected" | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const name = t(`pay.provider.${provider}`);
  const titleId = `pay-${provider}-title`;
  const connected = account.data;

  const disconnect = async () => {
    setError(null);
    setNotice(null);
    if (!window.confirm(t("pay.confirmDisconnect", { provider: name }))) return;
    setBusy(true);
    try {
      await api.del(accountPath(provider));
      account.setData(null);
      setEditing(false);
      setNotice("pay.disconnected");
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card payment-account" aria-labelledby={titleId} data-provider={provider}>
      <h2 id={titleId}>
        {name}{" "}
        {connected ? (
          <span class={`badge env-${connected.environment}`}>
            {t("pay.connectedIn", { environment: t(`pay.env.${connected.environment}`) })}
          </span>
        ) : (
          account.data === null && !account.loading && !account.error && <span class="badge">{t("pay.notConnected")}</span>
        )}
      </h2>
      <Loading show={account.loading} />
      <Alert message={account.error ?? error} />
      <Notice message={notice && t(notice, { provider: name })} />
      {connected && (
        <>
          {connected.environment === "sandbox" && <p class="warning">{t("pay.sandboxNote")}</p>}
          <dl class="facts">
            <dt>{t("pay.keyHint")}</dt>
            <dd>
              <code data-testid={`${provider}-key-hint`}>{connected.key_hint}</code>
            </dd>
            <dt>{t("pay.sitesLabel")}</dt>
            <dd>{siteNames(connected.site_ids, sites)}</dd>
            <dt>{t("pay.webhook")}</dt>
            <dd>
              <code class="api-key" data-testid={`${provider}-webhook-url`}>
                {connected.webhook_url}
              </code>{" "}
              <CopyButton text={connected.webhook_url} label={t("pay.copyWebhook")} />
            </dd>
          </dl>
          <p class="hint">{t(`pay.webhookWhere.${provider}`)}</p>
          {!editing && (
            <div class="buttons">
              <button type="button" class="secondary" onClick={() => { setNotice(null); setEditing(true); }}>
                {t("pay.change")}
              </button>
              <button type="button" class="danger" disabled={busy} onClick={disconnect}>
                {t("pay.disconnect")}
              </button>
            </div>
          )}
          <FeeTable provider={provider} fees={connected.fees ?? []} plans={plans} />
        </>
      )}
      {!account.loading && !account.error && (!connected || editing) && (
        <ConnectForm
          provider={provider}
          account={connected}
          sites={sites}
          onSaved={(saved) => {
            account.setData(saved);
            setEditing(false);
            setNotice("pay.saved");
          }}
          onCancel={connected ? () => setEditing(false) : undefined}
        />
      )}
    </section>
  );
}

function siteNames(siteIds: string[] | null, sites: Site[]): string {
  if (siteIds === null) return t("pay.allSites");
  if (siteIds.length === 0) return t("common.none");
  return siteIds.map((id) => sites.find((site) => site.site_id === id)?.name ?? id).join(", ");
}

interface Keys {
  server_key: string;
  secret_key: string;
  callback_token: string;
}

function ConnectForm({ provider, account, sites, onSaved, onCancel }: {
  provider: ProviderName;
  account: PaymentAccount | null;
  sites: Site[];
  onSaved: (account: PaymentAccount) => void;
  onCancel?: () => void;
}) {
  const [environment, setEnvironment] = useState<Environment>(account?.environment ?? "sandbox");
  const [keys, setKeys] = useState<Keys>({ server_key: "", secret_key: "", callback_token: "" });
  const [everySite, setEverySite] = useState(account ? account.site_ids === null : true);
  const [chosen, setChosen] = useState<string[]>(account?.site_ids ?? []);
  const name = t(`pay.provider.${provider}`);
  const formId = `pay-${provider}-form`;

  const { submit, error, busy } = useSubmit(async () => {
    const secrets =
      provider === "midtrans"
        ? { server_key: keys.server_key.trim() }
        : { secret_key: keys.secret_key.trim(), callback_token: keys.callback_token.trim() };
    const saved = await api.put<PaymentAccount>(accountPath(provider), {
      environment,
      ...secrets,
      site_ids: everySite ? null : chosen,
    });
    // The keys leave the page once sent: nothing keeps them in memory for a second look.
    setKeys({ server_key: "", secret_key: "", callback_token: "" });
    onSaved(saved);
  });

  const toggleSite = (siteId: string, on: boolean) =>
    setChosen((current) => (on ? [...current, siteId] : current.filter((id) => id !== siteId)));

  const secretField = (key: keyof Keys, label: string, hint: string) => (
    <Field label={label} hint={hint}>
      {(id, hintId) => (
        <input
          id={id}
          name={key}
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          maxLength={200}
          aria-describedby={hintId}
          value={keys[key]}
          onInput={onInput((value) => setKeys((current) => ({ ...current, [key]: value })))}
        />
      )}
    </Field>
  );

  return (
    <form class="form connect-account" onSubmit={submit} aria-labelledby={formId}>
      <h3 id={formId}>{account ? t("pay.changeTitle", { provider: name }) : t("pay.connectTitle", { provider: name })}</h3>
      <p class="hint">{t(`pay.keysWhere.${provider}`)}</p>
      <div class="grid">
        <Field label={t("pay.environment")} hint={t("pay.environmentHint")}>
          {(id, hintId) => (
            <select id={id} name="environment" aria-describedby={hintId} value={environment} onChange={onInput((value) => setEnvironment(value as Environment))}>
              <option value="sandbox">{t("pay.env.sandbox")}</option>
              <option value="production">{t("pay.env.production")}</option>
            </select>
          )}
        </Field>
        {provider === "midtrans" && secretField("server_key", t("pay.serverKey"), t(`pay.serverKeyHint.${environment}`))}
        {provider === "xendit" && secretField("secret_key", t("pay.secretKey"), t(`pay.secretKeyHint.${environment}`))}
        {provider === "xendit" && secretField("callback_token", t("pay.callbackToken"), t("pay.callbackTokenHint"))}
      </div>
      {account && <p class="hint">{t("pay.keysAgain", { hint: account.key_hint })}</p>}
      <fieldset class="choices">
        <legend>{t("pay.sitesLabel")}</legend>
        <label class="check">
          <input type="radio" name={`${provider}-scope`} checked={everySite} onChange={() => setEverySite(true)} /> {t("pay.allSites")}
        </label>
        <label class="check">
          <input type="radio" name={`${provider}-scope`} checked={!everySite} onChange={() => setEverySite(false)} /> {t("pay.chosenSites")}
        </label>
        {!everySite && (
          <div class="site-choices">
            {sites.length === 0 && <p class="hint">{t("pay.noSites")}</p>}
            {sites.map((site) => (
              <label class="check" key={site.site_id}>
                <input
                  type="checkbox"
                  name="site_ids"
                  value={site.site_id}
                  checked={chosen.includes(site.site_id)}
                  onChange={(event) => toggleSite(site.site_id, (event.currentTarget as HTMLInputElement).checked)}
                />{" "}
                {site.name}
              </label>
            ))}
          </div>
        )}
      </fieldset>
      <Alert message={error} />
      <div class="buttons">
        <button type="submit" disabled={busy || (!everySite && chosen.length === 0)}>
          {account ? t("common.save") : t("pay.connect", { provider: name })}
        </button>
        {onCancel && (
          <button type="button" class="secondary" onClick={onCancel}>
            {t("common.cancel")}
          </button>
        )}
      </div>
    </form>
  );
}

/** What each plan pays per payment through this account, and what the venue keeps. */
function FeeTable({ provider, fees, plans }: { provider: ProviderName; fees: PlanFee[]; plans: Plan[] }) {
  const titleId = `pay-${provider}-fees`;
  const planName = (planId: string) => plans.find((plan) => plan.plan_id === planId)?.name ?? planId;
  const rows = [...fees].sort((a, b) => a.price - b.price);
  return (
    <section aria-labelledby={titleId}>
      <h3 id={titleId}>{t("pay.feesTitle")}</h3>
      <p class="hint">{t(`pay.feesRule.${provider}`)}</p>
      {rows.length === 0 ? (
        <p>{t("pay.noFees")}</p>
      ) : (
        <div class="table-wrap">
          <table class="fee-table">
            <thead>
              <tr>
                <th scope="col">{t("common.plan")}</th>
                <th scope="col" class="num">{t("pay.price")}</th>
                <th scope="col" class="num">{t("pay.fee")}</th>
                <th scope="col" class="num">{t("pay.feeShare")}</th>
                <th scope="col" class="num">{t("pay.venueKeeps")}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.plan_id} data-plan={row.plan_id}>
                  <td data-label={t("common.plan")}>{planName(row.plan_id)}</td>
                  <td data-label={t("pay.price")} class="num">{rupiah(row.price)}</td>
                  <td data-label={t("pay.fee")} class="num">{rupiah(row.fee)}</td>
                  <td data-label={t("pay.feeShare")} class="num">{feeShare(row)}</td>
                  <td data-label={t("pay.venueKeeps")} class="num">{rupiah(row.price - row.fee)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function feeShare(row: PlanFee): string {
  if (row.price <= 0) return t("common.none");
  const percent = (row.fee / row.price) * 100;
  return `${percent.toLocaleString("id-ID", { minimumFractionDigits: 1, maximumFractionDigits: 1 })} %`;
}
