// Platform admins: the ISP's brand (name, tagline, colour, logo) with a preview of where guests see it.

import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { loadBrand, setBrand } from "../brand";
import { BrandMark, readableInk, type Brand } from "../brandmark";
import { t } from "../i18n";
import { Alert, Field, Loading, Notice, onInput, Page, useSubmit } from "../ui";

export const BRAND_LOGO_MAX_BYTES = 100_000; // the API's limit on the decoded image
const LOGO_TYPES = ["image/png", "image/svg+xml"];
const DEFAULT_COLOUR = "#0b5cad";

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("read"));
    reader.readAsDataURL(file);
  });
}

/** Bytes of the image a base64 data: URL holds. */
function logoBytes(logo: string): number {
  const payload = logo.slice(logo.indexOf(",") + 1);
  const padding = payload.endsWith("==") ? 2 : payload.endsWith("=") ? 1 : 0;
  return Math.floor((payload.length * 3) / 4) - padding;
}

export function BrandScreen() {
  const [loaded, setLoaded] = useState(false);
  const [name, setName] = useState("");
  const [tagline, setTagline] = useState("");
  const [colour, setColour] = useState<string | null>(null);
  const [logo, setLogo] = useState<string | null>(null);
  const [logoError, setLogoError] = useState<string | null>(null);

  useEffect(() => {
    void loadBrand().then((current) => {
      setName(current.name ?? "");
      setTagline(current.tagline ?? "");
      setColour(current.colour);
      setLogo(current.logo);
      setLoaded(true);
    });
  }, []);

  const { submit, error, notice, busy } = useSubmit(async () => {
    const saved = await api.put<Brand>("/v1/platform/brand", {
      name: name.trim(),
      tagline: tagline.trim() || null,
      logo,
      colour,
    });
    setBrand(saved);
    setLogo(saved.logo);
    return t("brand.saved");
  });

  const pickLogo = async (event: Event) => {
    const input = event.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    setLogoError(null);
    if (!file) return;
    if (!LOGO_TYPES.includes(file.type)) {
      setLogoError(t("brand.logoType"));
      input.value = "";
      return;
    }
    if (file.size > BRAND_LOGO_MAX_BYTES) {
      setLogoError(t("brand.logoTooBig", { size: file.size.toLocaleString() }));
      input.value = "";
      return;
    }
    setLogo(await readAsDataUrl(file)); // the API checks the image itself (PNG signature, a safe SVG)
  };

  const preview: Brand = { name: name.trim() || null, tagline: tagline.trim() || null, logo, colour };

  return (
    <Page title={t("brand.title")}>
      <p class="hint">{t("brand.intro")}</p>
      <Loading show={!loaded} />
      {loaded && (
        <div class="brand-layout">
          <form class="card form brand-form" onSubmit={submit} aria-label={t("brand.title")}>
            <Field label={t("brand.name")} hint={t("brand.nameHint")}>
              {(id, hint) => (
                <input id={id} name="name" required maxLength={60} aria-describedby={hint} value={name} onInput={onInput(setName)} />
              )}
            </Field>
            <Field label={t("brand.tagline")} hint={t("brand.taglineHint")}>
              {(id, hint) => (
                <input id={id} name="tagline" maxLength={120} aria-describedby={hint} value={tagline} onInput={onInput(setTagline)} />
              )}
            </Field>
            <Field label={t("brand.colour")} hint={t("brand.colourHint")}>
              {(id, hint) => (
                <div class="colour-row">
                  <input
                    id={id}
                    name="colour"
                    type="color"
                    aria-describedby={hint}
                    disabled={colour === null}
                    value={colour ?? DEFAULT_COLOUR}
                    onInput={onInput(setColour)}
                  />
                  <label>
                    <input
                      type="checkbox"
                      checked={colour !== null}
                      onChange={(event) => setColour((event.currentTarget as HTMLInputElement).checked ? DEFAULT_COLOUR : null)}
                    />{" "}
                    {t("brand.useColour")}
                  </label>
                  <code>{colour ?? t("brand.noColour")}</code>
                </div>
              )}
            </Field>
            {colour && !readableInk(colour) && <p class="hint">{t("brand.lowContrast")}</p>}
            <Field label={t("brand.logo")} hint={t("brand.logoHint")}>
              {(id, hint) => (
                <input id={id} name="logo" type="file" accept={LOGO_TYPES.join(",")} aria-describedby={hint} onChange={pickLogo} />
              )}
            </Field>
            <Alert message={logoError} />
            {logo && (
              <p>
                <span data-testid="logo-size">{t("brand.logoSize", { size: logoBytes(logo).toLocaleString() })}</span>{" "}
                <button type="button" class="secondary" onClick={() => setLogo(null)}>
                  {t("brand.removeLogo")}
                </button>
              </p>
            )}
            <button type="submit" disabled={busy || !name.trim()}>
              {t("common.save")}
            </button>
            <Alert message={error} />
            <Notice message={notice} />
          </form>
          <section class="card brand-preview" aria-labelledby="brand-preview-title">
            <h2 id="brand-preview-title">{t("brand.preview")}</h2>
            {preview.name ? (
              <>
                <h3>{t("brand.previewSignIn")}</h3>
                <div class="preview-box" data-testid="brand-preview">
                  <BrandMark brand={preview} label={t("brand.by")} />
                </div>
                <h3>{t("brand.previewCard")}</h3>
                <div class="preview-box">
                  <BrandMark brand={preview} label={t("brand.by")} compact />
                </div>
              </>
            ) : (
              <p>{t("brand.unset")}</p>
            )}
          </section>
        </div>
      )}
    </Page>
  );
}
