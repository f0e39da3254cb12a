// Buying a voucher online: the plans a site sells, creating an order (the price is the
// server's, from the plan), and reading it back until the code is there. The order id is the
// guest's only hold on the purchase, so it lives in the address fragment and this phone's storage.

import { get, post } from "./api";

export interface OnlinePlan {
  plan_id: string;
  name: string;
  price: number;
  duration_minutes: number;
  data_quota_mb: number | null;
}

/** What POST /v1/guest/orders answers: the QR to pay, and until when the provider accepts it. */
export interface NewOrder {
  order_id: string;
  status: "pending";
  amount: number;
  qr_string: string;
  deeplink?: string | null;
  expires_at: string;
}

export type OrderStatus = "pending" | "paid" | "fulfilled" | "expired" | "cancelled" | "failed" | "refunded";

export interface GuestOrder {
  order_id: string;
  status: OrderStatus;
  amount: number;
  plan: { plan_id: string; name: string; duration_minutes: number; data_quota_mb: number | null };
  expires_at: string | null;
  code?: string | null;
  site_id?: string;
  org_id?: string;
  venue?: string | null;
  site_name?: string | null;
  created_at?: string;
  paid_at?: string | null;
  qr_string?: string | null;
  deeplink?: string | null;
}

export const ORDER_ID = /^[A-Za-z0-9_-]{8,64}$/;

export async function onlinePlans(siteId: string): Promise<OnlinePlan[]> {
  const answer = await get<{ plans?: OnlinePlan[] }>(`/v1/guest/plans?site_id=${encodeURIComponent(siteId)}`);
  return answer?.plans ?? [];
}

export function createOrder(siteId: string, planId: string): Promise<NewOrder> {
  return post<NewOrder>("/v1/guest/orders", { site_id: siteId, plan_id: planId });
}

export function readOrder(orderId: string): Promise<GuestOrder> {
  return get<GuestOrder>(`/v1/guest/orders/${encodeURIComponent(orderId)}`);
}

/** The guest gives up: Kuota expires the provider's QR first, so a payment that beat it still yields the code. */
export function cancelOrder(orderId: string): Promise<GuestOrder> {
  return post<GuestOrder>(`/v1/guest/orders/${encodeURIComponent(orderId)}/cancel`, {});
}

/** The order as a GuestOrder at once, so the QR shows without waiting for the first poll. */
export function pendingFrom(order: NewOrder, plan: OnlinePlan): GuestOrder {
  const { plan_id, name, duration_minutes, data_quota_mb } = plan;
  return { ...order, plan: { plan_id, name, duration_minutes, data_quota_mb } };
}

const BLOCKED_SCHEMES = new Set(["javascript:", "data:", "vbscript:", "blob:", "file:"]);

/** A provider's deeplink (https: or an app's own scheme such as gojek:), never one that would run in this page. */
export function safeDeeplink(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return BLOCKED_SCHEMES.has(url.protocol) ? null : url.href;
  } catch {
    return null;
  }
}

// A phone's captive-portal window often closes while the guest pays in the e-wallet app; the
// portal then reopens without the fragment, so the last order is kept here for a day too.
const ORDER_KEY = "kuota.guest.order";
const KEEP_MS = 24 * 3600 * 1000;

export function rememberOrder(orderId: string, siteId: string | null): void {
  try {
    localStorage.setItem(ORDER_KEY, JSON.stringify({ order_id: orderId, site_id: siteId, at: Date.now() }));
  } catch {
    // private browsing: the address fragment still holds it
  }
}

/** The order this phone bought last at this site (any site when the page does not say which), for a day. */
export function rememberedOrder(siteId: string | null): string | null {
  try {
    type Kept = { order_id?: string; site_id?: string | null; at?: number } | null;
    const kept = JSON.parse(localStorage.getItem(ORDER_KEY) || "null") as Kept;
    const recent = Date.now() - (kept?.at ?? 0) < KEEP_MS;
    const here = !siteId || kept?.site_id === siteId;
    if (kept?.order_id && ORDER_ID.test(kept.order_id) && recent && here) return kept.order_id;
  } catch {
    // unreadable: as if nothing was kept
  }
  return null;
}

export function forgetOrder(): void {
  try {
    localStorage.removeItem(ORDER_KEY);
  } catch {
    // nothing kept
  }
}

/** Puts the order id in the address fragment (or takes it out), keeping the query the controller gave. */
export function showOrderInAddress(orderId: string | null): void {
  const fragment = orderId ? `#order=${encodeURIComponent(orderId)}` : "";
  history.replaceState(null, "", window.location.pathname + window.location.search + fragment);
}
