import { useEffect, useState } from "preact/hooks";
import { errorText, login } from "../api";
import { brand, loadBrand } from "../brand";
import { BrandMark } from "../brandmark";
import { t } from "../i18n";
import { loadMe, type Me } from "../session";
import { useSignal } from "../signal";
import { Alert, Field, LanguageSwitch, onInput } from "../ui";

export function Login({ onSignedIn, notice }: { onSignedIn: (who: Me) => void; notice?: string | null }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isp = useSignal(brand);

  useEffect(() => {
    void loadBrand();
  }, []);

  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await login(email.trim(), password);
      setPassword("");
      const who = await loadMe();
      if (who) onSignedIn(who);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-wrap">
      <div class="login-top">
        <span class="brand">Kuota</span>
        <LanguageSwitch />
      </div>
      <main class="login" id="main">
        {isp.name && (
          <div class="login-isp">
            <BrandMark brand={isp} label={t("brand.by")} />
          </div>
        )}
        <h1 id="page-title" tabIndex={-1}>
          {t("login.title")}
        </h1>
        {notice && !error && (
          <p class="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate={false}>
          <Field label={t("login.email")}>
            {(id) => (
              <input id={id} name="email" type="email" autocomplete="username" required value={email} onInput={onInput(setEmail)} />
            )}
          </Field>
          <Field label={t("login.password")}>
            {(id) => (
              <input
                id={id}
                name="password"
                type="password"
                autocomplete="current-password"
                required
                value={password}
                onInput={onInput(setPassword)}
              />
            )}
          </Field>
          <Alert message={error} />
          <button type="submit" disabled={busy}>
            {t("login.submit")}
          </button>
        </form>
      </main>
    </div>
  );
}
