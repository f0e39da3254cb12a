// The guest page: enter a code, see what it has left (and, where the plan has them, its usage
// hours, data this period, and pausing), free a device slot, and continue to
// the hotspot's own login when a controller (MikroTik, openNDS FAS) opened this page; or, where
// the venue sells online, buy a voucher with QRIS and get its code here.

import { useEffect, useRef, useState } from "preact/hooks";
import { useSignal } from "../signal";
import { BrandMark } from "../brandmark";
import { cachedBrand, fasLogin, fasSession, GuestError, guestBrand, guestStatus, pauseVoucher, releaseDevice, type GuestStatus } from "./api";
import { Buy } from "./Buy";
import { mikrotikLoginUrl, type PageContext } from "./context";
import { OrderView } from "./Order";
import { forgetOrder, rememberOrder, rememberedOrder, showOrderInAddress, type GuestOrder } from "./orders";
import { bytes, countdown, dateTime, duration, soon, time } from "./format";
import { hasText, lang, setLang, t, type Lang } from "./strings";

const CONNECTABLE = new Set(["unused", "active"]);

function message(error: unknown): string {
  if (!(error instanceof GuestError)) return t("err.unknown");
  if (error.code === "too_many_attempts") {
    return t("err.too_many_attempts", { minutes: Math.max(1, Math.ceil((error.retryAfter ?? 600) / 60)) });
  }
  if (error.code === "validation_error") return /org_id/.test(error.message) ? t("err.no_venue") : t("err.code_format");
  return hasText(`err.${error.code}`) ? t(`err.${error.code}`) : t("err.unknown");
}

export function GuestPage({ context }: { context: PageContext }) {
  useSignal(lang); // re-render on a language switch
  const controller = context.controller;
  const [code, setCode] = useState(context.code ?? "");
  const [orgId, setOrgId] = useState(context.orgId);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [status, setStatus] = useState<GuestStatus | null>(null);
  const [checkedCode, setCheckedCode] = useState("");
  const [receivedAt, setReceivedAt] = useState(0);
  const [now, setNow] = useState(Date.now());
  const [fasToken, setFasToken] = useState<string | null>(null);
  const [fasDown, setFasDown] = useState(false);
  const statusHeading = useRef<HTMLHeadingElement>(null);
  const [brand, setBrand] = useState(cachedBrand);
  const siteId = context.siteId ?? (controller?.kind === "fas" ? controller.siteId : null);
  const [keptOrderId] = useState(() => (context.orderId ? null : rememberedOrder(siteId)));
  const [orderId, setOrderId] = useState(context.orderId ?? keptOrderId);
  const [newOrder, setNewOrder] = useState<GuestOrder | null>(null);

  useEffect(() => {
    if (orderId && !context.orderId) showOrderInAddress(orderId); // a kept order: its link works again
  }, []);

  function ordered(order: GuestOrder): void {
    rememberOrder(order.order_id, siteId);
    showOrderInAddress(order.order_id);
    setNewOrder(order);
    setOrderId(order.order_id);
  }

  function startAgain(): void {
    forgetOrder();
    showOrderInAddress(null);
    setNewOrder(null);
    setOrderId(null);
  }

  function connectWithCode(bought: string, orderOrgId: string | null): void {
    setCode(bought);
    if (!orgId && orderOrgId) setOrgId(orderOrgId);
    void check(bought, true, orgId ?? orderOrgId);
  }

  useEffect(() => {
    guestBrand()
      .then(setBrand)
      .catch(() => undefined); // unbranded (or last visit's brand) rather than an error for the guest
  }, []);

  useEffect(() => {
    if (controller?.kind !== "fas") return;
    fasSession(controller.siteId, controller.fas, controller.iv)
      .then((session) => {
        setFasToken(session.client_token);
        if (session.org_id && !orgId) setOrgId(session.org_id);
      })
      .catch(() => setFasDown(true)); // no FAS routes here (yet), or the router's request is stale
  }, []);

  useEffect(() => {
    if (context.code && orgId) void check(context.code, false);
  }, []);

  const counting = status?.status === "active";
  useEffect(() => {
    if (!counting) return;
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, [counting]);

  function show(next: GuestStatus, forCode: string): void {
    setStatus(next);
    setCheckedCode(forCode);
    setReceivedAt(Date.now());
    setNow(Date.now());
  }

  async function check(value: string, focus = true, org = orgId): Promise<void> {
    const entered = value.trim();
    setError(null);
    setNotice(null);
    if (entered.length < 4 || entered.length > 40) {
      setError(t("err.code_format"));
      return;
    }
    setBusy(true);
    try {
      if (controller?.kind === "fas" && fasToken) {
        await fasLogin(controller.siteId, fasToken, entered);
        setNotice(t("fas.connected"));
      }
      if (!org) {
        if (!(controller?.kind === "fas" && fasToken)) setError(t("err.no_venue"));
        return;
      }
      show(await guestStatus(org, entered), entered);
      if (focus) window.setTimeout(() => statusHeading.current?.focus(), 0);
    } catch (caught) {
      setError(message(caught));
      if (caught instanceof GuestError && caught.code === "invalid_code") setStatus(null);
    } finally {
      setBusy(false);
    }
  }

  async function release(slot: string): Promise<void> {
    if (!orgId) return;
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      show(await releaseDevice(orgId, checkedCode, slot), checkedCode);
      setNotice(t("devices.released"));
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
    }
  }

  async function pause(action: "pause" | "resume"): Promise<void> {
    if (!orgId) return;
    setError(null);
    setNotice(null);
    setBusy(true);
    try {
      await pauseVoucher(orgId, checkedCode, action);
      show(await guestStatus(orgId, checkedCode), checkedCode);
      setNotice(action === "pause" ? t("pause.done") : t("pause.resumed"));
    } catch (caught) {
      setError(message(caught));
    } finally {
      setBusy(false);
    }
  }

  const secondsLeft = status ? Math.max(0, status.seconds_left - (counting ? Math.floor((now - receivedAt) / 1000) : 0)) : 0;
  const fasMode = controller?.kind === "fas" && !!fasToken;

  return (
    <main class="g-page">
      <header class="g-top">
        {brand.name ? <BrandMark brand={brand} label={t("brand.by")} /> : <span class="g-brand">Kuota WiFi</span>}
        <div class="g-lang" role="group" aria-label={t("lang.switch")}>
          {(["id", "en"] as Lang[]).map((choice) => (
            <button type="button" class="g-chip" aria-pressed={lang.get() === choice} onClick={() => setLang(choice)}>
              {choice.toUpperCase()}
            </button>
          ))}
        </div>
      </header>

      <h1>{t("title")}</h1>

      {controller?.kind === "mikrotik" && controller.error && (
        <p class="g-msg g-error" role="alert">{t("mikrotik.error", { message: controller.error })}</p>
      )}
      {fasDown && <p class="g-msg g-warn">{t("fas.unavailable")}</p>}
      {!orgId && !fasMode && !orderId && <p class="g-msg g-warn">{t("err.no_venue")}</p>}

      {orderId && (
        <OrderView
          key={orderId}
          orderId={orderId}
          initial={newOrder?.order_id === orderId ? newOrder : null}
          kept={orderId === keptOrderId}
          controller={controller}
          onUseCode={connectWithCode}
          onStartAgain={startAgain}
        />
      )}

      <form
        class="g-form"
        onSubmit={(event) => {
          event.preventDefault();
          void check(code);
        }}
      >
        <label for="g-code">{t("code.label")}</label>
        <input
          id="g-code"
          name="code"
          value={code}
          onInput={(event) => setCode((event.target as HTMLInputElement).value)}
          autocomplete="off"
          autocapitalize="characters"
          spellcheck={false}
          maxLength={40}
          aria-describedby="g-code-hint"
          required
        />
        <small id="g-code-hint">{t("code.hint")}</small>
        <button type="submit" disabled={busy}>{busy ? t("busy") : fasMode ? t("code.connect") : t("code.check")}</button>
      </form>

      <div aria-live="polite">
        {error && <p class="g-msg g-error" role="alert">{error}</p>}
        {notice && <p class="g-msg g-ok" role="status">{notice}</p>}
      </div>

      {status && (
        <section class="g-status" aria-labelledby="g-status-heading">
          <h2 id="g-status-heading" tabIndex={-1} ref={statusHeading}>
            {t("status.heading")}: <span class={`g-badge g-${status.status}`}>{t(`status.${status.status}`)}</span>
          </h2>
          <dl class="g-figures">
            <div>
              <dt>{status.status === "unused" ? t("time.total") : t("time.left")}</dt>
              <dd class="g-big" data-testid="time-left" aria-live="off">
                {status.status === "unused" ? duration(status.seconds_left) : countdown(secondsLeft)}
              </dd>
            </div>
            <div>
              <dt>{t("data.left")}</dt>
              <dd class="g-big" data-testid="data-left">
                {status.data_remaining_bytes !== null
                  ? bytes(status.data_remaining_bytes)
                  : status.period // no total, but a limit per period: that is what is left to use
                    ? bytes(status.period.data_remaining_bytes)
                    : t("data.unlimited")}
              </dd>
            </div>
            {status.expires_at && (
              <div>
                <dt>
                  {status.status === "unused" ? t("expires.unused") : CONNECTABLE.has(status.status) || status.status === "paused"
                    ? t("expires.active") : t("expires.ended")}
                </dt>
                <dd>{dateTime(status.expires_at)}</dd>
              </div>
            )}
          </dl>
          {status.status === "unused" && <p class="g-note">{t("unused.note")}</p>}

          {(status.window || status.period) && (
            <ul class="g-terms">
              {status.window && (status.window.closes_at || status.window.next_opens_at) && (
                <li data-testid="window">
                  {status.window.closes_at
                    ? t("window.openUntil", { at: soon(status.window.closes_at) })
                    : t("window.nextOpens", { at: soon(status.window.next_opens_at as string) })}
                </li>
              )}
              {status.period && (
                <li data-testid="period">
                  {t(`period.${periodOf(status.period.resets_at)}`, {
                    left: bytes(status.period.data_remaining_bytes),
                    at: soon(status.period.resets_at),
                  })}
                </li>
              )}
            </ul>
          )}

          {status.pause?.allowed && (status.status === "active" || status.status === "paused") && (
            <div class="g-pause">
              <h3>{t("pause.heading")}</h3>
              <p data-testid="pauses-left">{t("pause.left", { n: status.pause.pauses_left })}</p>
              {status.status === "active" ? (
                <>
                  <button type="button" class="g-secondary" disabled={busy || status.pause.pauses_left < 1} onClick={() => void pause("pause")}>
                    {t("pause.button")}
                  </button>
                  <p class="g-note">{t("pause.hint")}</p>
                </>
              ) : (
                <button type="button" disabled={busy} onClick={() => void pause("resume")}>
                  {t("pause.resume")}
                </button>
              )}
            </div>
          )}

          <h3>{t("devices.heading")}</h3>
          <p data-testid="devices-used">{t("devices.used", { used: status.devices_used, max: status.max_devices })}</p>
          {status.devices.length === 0 ? (
            <p class="g-note">{t("devices.none")}</p>
          ) : (
            <>
              <ul class="g-devices">
                {status.devices.map((device, index) => (
                  <li>
                    <span>
                      <strong>{t("devices.item", { n: index + 1 })}</strong>
                      <small>
                        {device.last_seen_at ? t("devices.seen", { at: time(device.last_seen_at) }) : t("devices.notseen")}
                      </small>
                    </span>
                    <button
                      type="button"
                      class="g-secondary"
                      disabled={busy}
                      aria-label={t("devices.releaseFor", { n: index + 1 })}
                      onClick={() => void release(device.slot)}
                    >
                      {t("devices.release")}
                    </button>
                  </li>
                ))}
              </ul>
              <p class="g-note">{t("devices.why")}</p>
            </>
          )}
          <button type="button" class="g-link" disabled={busy} onClick={() => void check(checkedCode, false)}>
            {t("refresh")}
          </button>
        </section>
      )}

      {controller?.kind === "mikrotik" && status && CONNECTABLE.has(status.status) && (
        <section class="g-continue">
          <a class="g-button" href={mikrotikLoginUrl(controller, checkedCode)} rel="noreferrer">{t("continue")}</a>
          <p class="g-note">{t("continue.hint")}</p>
        </section>
      )}

      {siteId && !orderId && <Buy siteId={siteId} onOrder={ordered} />}
    </main>
  );
}


/**
 * Which period the data left is for, read from when it resets (the status does not name it): a
 * day resets at the next midnight, a week on a Monday, a month on the 1st. When that could be more
 * than one of them (tomorrow is a Monday or the 1st), or the phone's clock is not in the venue's
 * zone (the reset is not at its midnight), the words say only "this period".
 */
function periodOf(resetsAt: string): "day" | "week" | "month" | "any" {
  const at = new Date(resetsAt);
  if (at.getHours() !== 0 || at.getMinutes() !== 0) return "any";
  const days = Math.round((at.getTime() - new Date().setHours(0, 0, 0, 0)) / 86_400_000);
  const monday = at.getDay() === 1;
  const first = at.getDate() === 1;
  if (days <= 1) return monday || first ? "any" : "day";
  if (monday && !first && days <= 7) return "week";
  if (first && !monday) return "month";
  return "any";
}
