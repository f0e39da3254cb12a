// Small shared pieces: language switcher, labelled fields, alerts, charts, data hooks.

import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { api, errorText } from "./api";
import { lang, setLang, t, type Lang } from "./i18n";
import { orgPath } from "./session";
import { rupiah } from "./format";
import { useSignal } from "./signal";

export function useLang(): Lang {
  return useSignal(lang);
}

export function LanguageSwitch() {
  const current = useLang();
  return (
    <label class="lang">
      <span class="visually-hidden">{t("lang.label")}</span>
      <select
        aria-label="Language"
        value={current}
        onChange={(event) => setLang((event.currentTarget as HTMLSelectElement).value as Lang)}
      >
        <option value="id">Bahasa Indonesia</option>
        <option value="en">English</option>
      </select>
    </label>
  );
}

let fieldCounter = 0;
export function useId(prefix = "f"): string {
  const ref = useRef<string | null>(null);
  if (!ref.current) ref.current = `${prefix}-${++fieldCounter}`;
  return ref.current;
}

interface FieldProps {
  label: string;
  hint?: string;
  error?: string | null;
  children: (id: string, describedBy: string | undefined) => JSX.Element;
}

/** A label tied to its control, with an optional hint and an error next to it. */
export function Field({ label, hint, error, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children(id, hintId)}
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function Alert({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="error" role="alert">
      {message}
    </p>
  );
}

export function Notice({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="notice" role="status">
      {message}
    </p>
  );
}

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Kuota`;
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => void;
  setData: (data: T) => void;
}

/** Load something once (and again on reload); errors become a message, never silence. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    load()
      .then((value) => live && setData(value))
      .catch((err) => live && setError(errorText(err)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [tick, ...deps]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload, setData };
}

export interface Paged<T> {
  items: T[];
  more: boolean;
  error: string | null;
  loading: boolean;
  /** The first page again (new filters), or with `more` the next one after what is shown. */
  load: (more: boolean) => Promise<void>;
  setItems: (items: T[]) => void;
  setError: (error: string | null) => void;
}

/** A list read a page at a time through the API's `next_cursor` (audit log, alerts, sales). */
export function usePages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const load = async (more: boolean) => {
    setError(null);
    setLoading(true);
    try {
      const page = await fetchPage(more && cursor ? cursor : undefined);
      setItems(more ? [...items, ...page.items] : page.items);
      setCursor(page.next_cursor);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    void load(false);
  }, []);
  return { items, more: cursor !== null, error, loading, load, setItems, setError };
}

export interface Site {
  site_id: string;
  org_id: string;
  name: string;
  timezone: string;
  business_hours: { opens?: string; closes?: string };
  // Voucher print settings (null when unset).
  venue_name?: string | null;
  ssid?: string | null;
  logo?: string | null;
}

export type Day = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export type QuotaPeriod = "day" | "week" | "month";

/** When a voucher may be used, in the site's local time (`end` before `start` runs past midnight). */
export interface PlanWindow {
  days: Day[];
  start: string;
  end: string;
}

export interface PlanPause {
  by: "staff" | "guest";
  max_pauses: number;
  max_pause_minutes: number;
}

export interface Plan {
  plan_id: string;
  name: string;
  price: number;
  duration_minutes: number;
  validity_days: number;
  time_mode: "wallclock" | "usage";
  data_quota_mb: number | null;
  rate_up_kbps: number | null;
  rate_down_kbps: number | null;
  max_devices: number;
  archived: boolean;
  // How venues sell (issue 16); absent from a server that predates them.
  kind?: "voucher" | "topup";
  windows?: PlanWindow[] | null;
  period_quota_mb?: number | null;
  quota_period?: QuotaPeriod | null;
  pause?: PlanPause | null;
  device_policy?: "shared" | "first_devices";
  idle_release_minutes?: number | null;
}

export const loadSites = () => api.get<{ sites: Site[] }>(orgPath("/sites")).then((r) => r.sites);
export const loadPlans = () => api.get<{ plans: Plan[] }>(orgPath("/plans")).then((r) => r.plans);

export function Loading({ show }: { show: boolean }) {
  return show ? (
    <p class="loading" role="status">
      {t("common.loading")}
    </p>
  ) : null;
}

export function CopyButton({ text, label }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "ok" | "fail">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("ok");
    } catch {
      setState("fail");
    }
  };
  return (
    <span class="copy">
      <button type="button" class="secondary" onClick={copy}>
        {label ?? t("common.copy")}
      </button>
      <span role="status" class="copy-status">
        {state === "ok" ? t("common.copied") : state === "fail" ? t("common.copyFailed") : ""}
      </span>
    </span>
  );
}

export interface Bar {
  label: string;
  value: number;
}

/** Plain SVG bars: no chart library, nothing inline that a strict CSP would block. */
export function BarChart({ bars, title }: { bars: Bar[]; title: string }) {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const width = 600;
  const height = 180;
  const gap = 4;
  const barWidth = bars.length ? Math.max(2, (width - gap * bars.length) / bars.length) : 0;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={title} preserveAspectRatio="none">
        <title>{title}</title>
        <line x1="0" y1={height} x2={width} y2={height} class="axis" />
        {bars.map((bar, index) => {
          const h = Math.round((bar.value / max) * (height - 10));
          return (
            <rect
              key={bar.label}
              class="bar"
              x={index * (barWidth + gap)}
              y={height - h}
              width={barWidth}
              height={h}
            >
              <title>{`${bar.label}: ${rupiah(bar.value)}`}</title>
            </rect>
          );
        })}
      </svg>
      {bars.length > 0 && (
        <figcaption class="chart-caption">
          <span>{bars[0].label}</span>
          <span>{t("common.total")}: {rupiah(bars.reduce((sum, bar) => sum + bar.value, 0))}</span>
          <span>{bars[bars.length - 1].label}</span>
        </figcaption>
      )}
    </figure>
  );
}

export function intOrNull(value: string): number | null {
  const trimmed = value.trim();
  if (!trimmed) return null;
  const number = Number(trimmed);
  return Number.isFinite(number) ? Math.trunc(number) : null;
}

export function onInput(setter: (value: string) => void) {
  return (event: Event) => setter((event.currentTarget as HTMLInputElement).value);
}

/** A form's submit: clears old messages, shows busy, turns an API error into a message. */
export function useSubmit(action: () => Promise<string | void>) {
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      const message = await action();
      if (message) setNotice(message);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return { submit, error, notice, busy };
}

/** Asks why before an action that cannot be undone (void a sale, reverse a payment): a reason, then a confirm. */
export function ReasonDialog({ id, title, about, reasonLabel, confirmLabel, confirmQuestion, action, onCancel, class: extra = "" }: {
  id: string;
  title: string;
  about: ComponentChildren;
  reasonLabel: string;
  confirmLabel: string;
  confirmQuestion: string;
  action: (reason: string) => Promise<void>;
  onCancel: () => void;
  class?: string;
}) {
  const [reason, setReason] = useState("");
  const { submit, error, busy } = useSubmit(() => action(reason.trim()));
  const onSubmit = (event: Event) => {
    event.preventDefault();
    if (window.confirm(confirmQuestion)) void submit(event);
  };
  return (
    <form class={`card form revoke-form ${extra}`.trim()} onSubmit={onSubmit} aria-labelledby={id}>
      <h2 id={id}>{title}</h2>
      <p>{about}</p>
      <Field label={reasonLabel}>
        {(fieldId) => <input id={fieldId} name="reason" required maxLength={500} value={reason} onInput={onInput(setReason)} />}
      </Field>
      <Alert message={error} />
      <div class="buttons">
        <button type="submit" class="danger" disabled={busy || !reason.trim()}>
          {confirmLabel}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}
