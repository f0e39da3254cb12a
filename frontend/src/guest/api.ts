// The guest page's requests: the API base from the same /config.json the console reads,
// no credentials (the code is the guest's only one), errors as GuestError.

import { NO_BRAND, type Brand } from "../brandmark";

export class GuestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = "GuestError";
  }
}

export interface DeviceSlot {
  slot: string;
  last_seen_at: string | null;
}

export interface GuestStatus {
  status: "unused" | "active" | "paused" | "expired" | "exhausted" | "revoked";
  expires_at: string | null;
  seconds_left: number;
  data_remaining_bytes: number | null;
  devices_used: number;
  max_devices: number;
  devices: DeviceSlot[];
  // Where the plan has them: its usage hours (closes_at null while closed), data per period, pausing.
  window?: { closes_at: string | null; next_opens_at: string | null } | null;
  period?: { data_remaining_bytes: number; resets_at: string } | null;
  pause?: { allowed: boolean; pauses_left: number } | null;
}

let apiBase: Promise<string> | null = null;

function base(): Promise<string> {
  apiBase ??= fetch("/config.json", { cache: "no-store" })
    .then(async (response) => {
      if (!response.ok) throw new GuestError("config", response.status, "network");
      const config = (await response.json()) as { apiBase?: string };
      return String(config.apiBase || "").replace(/\/$/, "");
    })
    .catch((error: unknown) => {
      apiBase = null; // try again on the next request
      throw error instanceof GuestError ? error : new GuestError("config", 0, "network");
    });
  return apiBase;
}

export function post<T>(path: string, body: unknown): Promise<T> {
  return send<T>("POST", path, body);
}

export function get<T>(path: string): Promise<T> {
  return send<T>("GET", path);
}

async function send<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const root = await base();
  let response: Response;
  try {
    response = await fetch(`${root}${path}`, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new GuestError("network", 0, "network");
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const retry = Number(response.headers.get("Retry-After") || "") || undefined;
    throw new GuestError(error?.message || response.statusText, response.status, error?.code || "unknown", retry);
  }
  return data as T;
}

const BRAND_KEY = "kuota.guest.brand";

/** The brand this phone saw last (shown at once on a return visit while the network answers). */
export function cachedBrand(): Brand {
  try {
    const raw = localStorage.getItem(BRAND_KEY);
    return raw ? { ...NO_BRAND, ...(JSON.parse(raw) as Partial<Brand>) } : NO_BRAND;
  } catch {
    return NO_BRAND;
  }
}

/**
 * The ISP's brand: one small GET the browser may keep a minute (Cache-Control), then kept in
 * localStorage so the next visit draws it before any request. A failure keeps what was there.
 */
export async function guestBrand(): Promise<Brand> {
  const root = await base();
  const response = await fetch(`${root}/v1/brand`, { credentials: "omit" });
  if (!response.ok) throw new GuestError("brand", response.status, "network");
  const brand = { ...NO_BRAND, ...((await response.json()) as Partial<Brand>) };
  try {
    localStorage.setItem(BRAND_KEY, JSON.stringify(brand));
  } catch {
    // private browsing or a full store: shown this time only
  }
  return brand;
}

export function guestStatus(orgId: string, code: string): Promise<GuestStatus> {
  return post<GuestStatus>("/v1/guest/status", { org_id: orgId, code });
}

export function releaseDevice(orgId: string, code: string, slot: string): Promise<GuestStatus> {
  return post<GuestStatus>("/v1/guest/release", { org_id: orgId, code, slot });
}

/** Pause a running voucher (its clock stops) or resume it, where the plan lets guests do so. */
export function pauseVoucher(orgId: string, code: string, action: "pause" | "resume"): Promise<{ status: string; expires_at: string | null }> {
  return post<{ status: string; expires_at: string | null }>(`/v1/guest/${action}`, { org_id: orgId, code });
}

export interface FasSession {
  client_token: string;
  org_id?: string;
}

export function fasSession(siteId: string, fas: string, iv: string): Promise<FasSession> {
  return post<FasSession>("/v1/fas/session", { site_id: siteId, fas, iv });
}

export function fasLogin(siteId: string, clientToken: string, code: string): Promise<unknown> {
  return post<unknown>("/v1/fas/login", { site_id: siteId, client_token: clientToken, code });
}
