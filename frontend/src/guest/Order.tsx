// One online order, from the QR to the code: the QR drawn here from the provider's qr_string
// (a data: URL, never an outside image service), a countdown to the provider's expiry, the
// deeplink and a saved image for a guest paying on this same phone, then polling Kuota until
// the code is there, "connect now" and a receipt. Reopening the order's link shows it again.

import QRCode from "qrcode";
import { useEffect, useRef, useState } from "preact/hooks";
import { GuestError } from "./api";
import { planData } from "./Buy";
import { mikrotikLoginUrl, type PageContext } from "./context";
import { dateTime, duration, minutesClock, rupiah } from "./format";
import { cancelOrder, readOrder, safeDeeplink, type GuestOrder } from "./orders";
import { t } from "./strings";

const POLL_MS = 3000;
const POLL_AFTER_ERROR_MS = 6000;
const LATE_PAYMENT_POLL_MS = 15000;

interface Props {
  orderId: string;
  initial: GuestOrder | null; // the order just created (its QR shows before the first poll)
  kept: boolean; // from this phone's storage, not the link: one that ended unpaid is dropped quietly
  controller: PageContext["controller"];
  onUseCode: (code: string, orgId: string | null) => void; // the page's own code entry: FAS login or status
  onStartAgain: () => void;
}

/** A poll's answer over what was known: the QR stays once the order stops carrying it. */
function merged(known: GuestOrder | null, next: GuestOrder): GuestOrder {
  return { ...next, qr_string: next.qr_string ?? known?.qr_string, deeplink: next.deeplink ?? known?.deeplink };
}

function usePolledOrder(orderId: string, initial: GuestOrder | null) {
  const [order, setOrder] = useState<GuestOrder | null>(initial);
  const [missing, setMissing] = useState(false);
  const [offline, setOffline] = useState(false);
  useEffect(() => {
    let live = true;
    let timer = 0;
    async function poll(): Promise<void> {
      let wait = POLL_MS;
      try {
        const next = await readOrder(orderId);
        if (!live) return;
        setOrder((known) => merged(known, next));
        setOffline(false);
        if (next.code || next.status === "failed" || next.status === "refunded") return;
        // A payment that reaches an expired or cancelled order is still honoured: keep looking, slowly.
        if (next.status === "expired" || next.status === "cancelled") wait = LATE_PAYMENT_POLL_MS;
      } catch (error) {
        if (!live) return;
        if (error instanceof GuestError && error.status === 404) {
          setMissing(true);
          return;
        }
        setOffline(true); // the network or a rate limit: keep trying, more slowly
        wait = POLL_AFTER_ERROR_MS;
      }
      timer = window.setTimeout(() => void poll(), wait);
    }
    timer = window.setTimeout(() => void poll(), initial ? POLL_MS : 0);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [orderId]);
  return { order, setOrder, missing, offline };
}

function useQrImage(qrString: string | null | undefined): string | null {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setSrc(null);
    if (qrString) {
      // A quiet zone of 4 modules: the saved image must scan from a gallery too.
      QRCode.toDataURL(qrString, { margin: 4, width: 480, errorCorrectionLevel: "M" })
        .then((url) => live && setSrc(url))
        .catch(() => undefined); // an unreadable string: the deeplink (if any) and the waiting note remain
    }
    return () => {
      live = false;
    };
  }, [qrString]);
  return src;
}

interface PendingProps {
  order: GuestOrder;
  offline: boolean;
  cancelling: boolean;
  cancelFailed: boolean;
  onCancel: () => void;
}

function Pending({ order, offline, cancelling, cancelFailed, onCancel }: PendingProps) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const qr = useQrImage(order.qr_string);
  const expiresAt = order.expires_at ? Date.parse(order.expires_at) : Number.NaN;
  const secondsLeft = Number.isNaN(expiresAt) ? null : Math.max(0, Math.floor((expiresAt - now) / 1000));
  const deeplink = safeDeeplink(order.deeplink);
  const amount = rupiah(order.amount);

  return (
    <section class="g-order" aria-labelledby="g-order-heading" data-testid="order-pending">
      <h2 id="g-order-heading">{t("pay.heading")}</h2>
      <dl class="g-figures">
        <div>
          <dt>{t("pay.amount")}</dt>
          <dd class="g-big" data-testid="order-amount">{amount}</dd>
        </div>
        <div>
          <dt>{t("receipt.plan")}</dt>
          <dd>{order.plan.name}</dd>
        </div>
      </dl>
      {secondsLeft !== 0 ? (
        <>
          <p class="g-note">{t("pay.scan")}</p>
          {qr && <img class="g-qr" src={qr} width={240} height={240} alt={t("pay.qrAlt", { amount })} />}
          {secondsLeft !== null && (
            <p class="g-countdown">
              {t("pay.countdown")}{" "}
              <strong class="g-big" data-testid="pay-countdown" aria-live="off">{minutesClock(secondsLeft)}</strong>
            </p>
          )}
          <div class="g-pay-actions">
            {deeplink && <a class="g-button" href={deeplink} rel="noreferrer">{t("pay.deeplink")}</a>}
            {qr && (
              <a class="g-button g-secondary" href={qr} download={`qris-${order.order_id}.png`}>{t("pay.save")}</a>
            )}
          </div>
          <p class="g-note">{t("pay.saveHint")}</p>
          <p class="g-msg g-waiting" role="status">{t("pay.waiting")}</p>
        </>
      ) : (
        <p class="g-msg g-warn" role="status">{t("pay.qrExpired")}</p>
      )}
      {offline && <p class="g-msg g-warn">{t("pay.offline")}</p>}
      {cancelFailed && <p class="g-msg g-error" role="alert">{t("err.cancel_failed")}</p>}
      <button type="button" class="g-link" disabled={cancelling} onClick={onCancel}>
        {cancelling ? t("busy") : t("pay.cancel")}
      </button>
    </section>
  );
}

function Receipt({ order }: { order: GuestOrder }) {
  const venue = [order.venue, order.site_name].filter(Boolean).join(" · ");
  const at = order.paid_at ?? order.created_at;
  return (
    <section class="g-receipt" aria-labelledby="g-receipt-heading" data-testid="receipt">
      <h3 id="g-receipt-heading">{t("receipt.heading")}</h3>
      <dl>
        {venue && (
          <div>
            <dt>{t("receipt.venue")}</dt>
            <dd>{venue}</dd>
          </div>
        )}
        <div>
          <dt>{t("receipt.plan")}</dt>
          <dd>
            {order.plan.name} ({duration(order.plan.duration_minutes * 60)}, {planData(order.plan.data_quota_mb)})
          </dd>
        </div>
        <div>
          <dt>{t("receipt.amount")}</dt>
          <dd>{rupiah(order.amount)}</dd>
        </div>
        <div>
          <dt>{t("receipt.method")}</dt>
          <dd>QRIS</dd>
        </div>
        {at && (
          <div>
            <dt>{t("receipt.time")}</dt>
            <dd>{dateTime(at)}</dd>
          </div>
        )}
        <div>
          <dt>{t("receipt.order")}</dt>
          <dd class="g-mono" data-testid="receipt-order">{order.order_id}</dd>
        </div>
      </dl>
    </section>
  );
}

function Fulfilled({ order, code, controller, onUseCode, onStartAgain }: Omit<Props, "orderId" | "initial" | "kept"> & {
  order: GuestOrder;
  code: string;
}) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  return (
    <section class="g-order g-done" aria-labelledby="g-done-heading" data-testid="order-done">
      <h2 id="g-done-heading" tabIndex={-1} ref={heading}>{t("done.heading")}</h2>
      <p class="g-note">{t("done.code")}</p>
      <p class="g-code" data-testid="order-code">{code}</p>
      {controller?.kind === "mikrotik" ? (
        <a class="g-button" href={mikrotikLoginUrl(controller, code)} rel="noreferrer">{t("done.connect")}</a>
      ) : (
        <button type="button" onClick={() => onUseCode(code, order.org_id ?? null)}>
          {controller?.kind === "fas" ? t("done.connect") : t("done.check")}
        </button>
      )}
      <p class="g-note">{t("done.keep")}</p>
      <Receipt order={order} />
      <button type="button" class="g-link" onClick={onStartAgain}>{t("buy.another")}</button>
    </section>
  );
}

const UNPAID_ENDS: ReadonlySet<string> = new Set(["expired", "cancelled", "failed"]);

export function OrderView({ orderId, initial, kept, controller, onUseCode, onStartAgain }: Props) {
  const { order, setOrder, missing, offline } = usePolledOrder(orderId, initial);
  // A QR left unpaid on an earlier visit: the plans again, rather than a stale "time is up".
  const forgettable = kept && (missing || (!!order && !order.code && UNPAID_ENDS.has(order.status)));
  useEffect(() => {
    if (forgettable) onStartAgain();
  }, [forgettable]);
  const [cancelling, setCancelling] = useState(false);
  const [cancelFailed, setCancelFailed] = useState(false);

  async function cancel(): Promise<void> {
    setCancelling(true);
    setCancelFailed(false);
    try {
      const answer = await cancelOrder(orderId);
      if (answer.status === "cancelled" || answer.status === "expired") onStartAgain();
      else setOrder((known) => merged(known, answer)); // paid before the QR closed: the code follows
    } catch {
      setCancelFailed(true);
    } finally {
      setCancelling(false);
    }
  }

  if (forgettable) return null;
  if (missing) {
    return (
      <section class="g-order" data-testid="order-ended">
        <p class="g-msg g-error" role="alert">{t("err.order_not_found")}</p>
        <button type="button" class="g-secondary" onClick={onStartAgain}>{t("end.again")}</button>
      </section>
    );
  }
  if (!order) {
    return (
      <section class="g-order">
        <p class="g-note" role="status">{offline ? t("pay.offline") : t("pay.loading")}</p>
      </section>
    );
  }
  if (order.status === "pending") {
    return (
      <Pending order={order} offline={offline} cancelling={cancelling} cancelFailed={cancelFailed} onCancel={() => void cancel()} />
    );
  }
  if (order.code && (order.status === "fulfilled" || order.status === "paid")) {
    return (
      <Fulfilled order={order} code={order.code} controller={controller} onUseCode={onUseCode} onStartAgain={onStartAgain} />
    );
  }
  if (order.status === "paid" || order.status === "fulfilled") {
    return (
      <section class="g-order" data-testid="order-paid">
        <p class="g-msg g-ok" role="status">{t("pay.paid")}</p>
        {offline && <p class="g-msg g-warn">{t("pay.offline")}</p>}
      </section>
    );
  }
  return (
    <section class="g-order" data-testid="order-ended">
      <p class="g-msg g-error" role="alert">{t(`end.${order.status}`)}</p>
      {order.status === "refunded" ? (
        <Receipt order={order} />
      ) : (
        <p class="g-note">{order.plan.name} · {rupiah(order.amount)}</p>
      )}
      <button type="button" class="g-secondary" onClick={onStartAgain}>{t("end.again")}</button>
    </section>
  );
}
