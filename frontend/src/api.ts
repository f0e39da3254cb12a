// The one module every request goes through: base URL from /config.json, the
// bearer token, one silent refresh on 401 (single-flight), and errors as ApiError.

import { t } from "./i18n";

const ACCESS = "kuota.access_token";
const REFRESH = "kuota.refresh_token";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly field?: string,
    readonly retryAfter?: number,
    /** The server's own message, as it sent it (the message above may be the table's). */
    readonly detail?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

let apiBase: string | null = null;
let refreshing: Promise<boolean> | null = null;
const signedOutListeners: Array<() => void> = [];

export function onSignedOut(listener: () => void): void {
  signedOutListeners.push(listener);
}

export async function loadConfig(): Promise<string> {
  if (apiBase !== null) return apiBase;
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new ApiError(t("err.config"), response.status, "config");
  const config = (await response.json()) as { apiBase?: string };
  apiBase = String(config.apiBase || "").replace(/\/$/, "");
  return apiBase;
}

export function getApiBase(): string {
  return apiBase ?? "";
}

export function hasSession(): boolean {
  return Boolean(sessionStorage.getItem(ACCESS));
}

function storeTokens(pair: { access_token: string; refresh_token: string }): void {
  sessionStorage.setItem(ACCESS, pair.access_token);
  sessionStorage.setItem(REFRESH, pair.refresh_token);
}

function clearTokens(): void {
  sessionStorage.removeItem(ACCESS);
  sessionStorage.removeItem(REFRESH);
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | undefined | null>;
  headers?: Record<string, string>;
  auth?: boolean;
  raw?: boolean; // return the Response (for CSV downloads)
}

function buildUrl(path: string, query?: RequestOptions["query"]): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return `${getApiBase()}${path}${qs ? `?${qs}` : ""}`;
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const token = sessionStorage.getItem(ACCESS);
  if (options.auth !== false && token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(buildUrl(path, options.query), {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(t("err.network"), 0, "network");
  }
}

async function refreshOnce(): Promise<boolean> {
  // Several requests may see 401 together; they all wait on the same refresh.
  if (!refreshing) {
    refreshing = (async () => {
      const refreshToken = sessionStorage.getItem(REFRESH);
      if (!refreshToken) return false;
      try {
        const response = await send("/v1/auth/refresh", {
          method: "POST",
          body: { refresh_token: refreshToken },
          auth: false,
        });
        if (!response.ok) return false;
        storeTokens(await response.json());
        return true;
      } catch {
        return false;
      }
    })().finally(() => {
      refreshing = null;
    });
  }
  return refreshing;
}

async function toError(response: Response): Promise<ApiError> {
  let code = "error";
  let message = "";
  let field: string | undefined;
  try {
    const data = (await response.json()) as { error?: { code?: string; message?: string; field?: string } };
    code = data.error?.code ?? code;
    message = data.error?.message ?? "";
    field = data.error?.field;
  } catch {
    // not JSON: fall back to a message by status
  }
  const retry = Number(response.headers.get("Retry-After")) || undefined;
  return new ApiError(messageFor(response.status, code, message, field), response.status, code, field, retry, message || undefined);
}

function messageFor(status: number, code: string, message: string, field?: string): string {
  const known = t(`code.${code}`);
  if (known !== `code.${code}`) {
    return field ? `${known} (${field})${message ? `: ${message}` : ""}` : known;
  }
  if (message) return field && !message.includes(field) ? `${field}: ${message}` : message;
  if (status >= 500) return t("err.server");
  return t("err.generic");
}

export async function request<T = unknown>(path: string, options: RequestOptions = {}): Promise<T> {
  await loadConfig();
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false) {
    if (await refreshOnce()) {
      response = await send(path, options);
    }
    if (response.status === 401) {
      clearTokens();
      signedOutListeners.forEach((listener) => listener());
      throw await toError(response);
    }
  }
  if (!response.ok) throw await toError(response);
  if (options.raw) return response as unknown as T;
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export const api = {
  get: <T>(path: string, query?: RequestOptions["query"]) => request<T>(path, { query }),
  post: <T>(path: string, body?: unknown, headers?: Record<string, string>) =>
    request<T>(path, { method: "POST", body: body ?? {}, headers }),
  patch: <T>(path: string, body: unknown) => request<T>(path, { method: "PATCH", body }),
  put: <T>(path: string, body: unknown) => request<T>(path, { method: "PUT", body }),
  del: <T>(path: string) => request<T>(path, { method: "DELETE" }),
};

/** Every item of a paged list (`limit`/`cursor` in, `next_cursor` out), for a screen that needs the
 * whole list (a dropdown, a list it sorts itself): reads the largest pages until `next_cursor` is null. */
export async function getAllPages<T>(path: string, field: string, query: RequestOptions["query"] = {}): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Record<string, unknown> = await request<Record<string, unknown>>(path, { query: { ...query, limit: 200, cursor } });
    items.push(...((page[field] as T[] | undefined) ?? []));
    cursor = (page.next_cursor as string | null | undefined) ?? null;
  } while (cursor !== null);
  return items;
}

/** Fetch a file with the session's token (a CSV export) and hand it to the browser as a download. */
export async function download(path: string, query: RequestOptions["query"], filename: string): Promise<void> {
  const response = await request<Response>(path, { query, raw: true });
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export async function login(email: string, password: string): Promise<void> {
  await loadConfig();
  const response = await send("/v1/auth/login", { method: "POST", body: { email, password }, auth: false });
  if (response.status === 401) throw new ApiError(t("login.bad"), 401, "invalid_credentials");
  if (response.status === 429) {
    const seconds = Number(response.headers.get("Retry-After"));
    const message = seconds > 0 ? t("login.lockedMinutes", { m: Math.ceil(seconds / 60) }) : t("login.locked");
    throw new ApiError(message, 429, "too_many_attempts", undefined, seconds || undefined);
  }
  if (!response.ok) throw await toError(response);
  storeTokens(await response.json());
}

export async function logout(): Promise<void> {
  const refreshToken = sessionStorage.getItem(REFRESH);
  clearTokens();
  if (refreshToken) {
    try {
      await send("/v1/auth/logout", { method: "POST", body: { refresh_token: refreshToken }, auth: false });
    } catch {
      // Signed out here either way; the refresh token expires on its own.
    }
  }
}

/**
 * The route is not there (yet): a 404, or the 403 without a Kuota error body that
 * API Gateway and `chalice local` answer for an unknown path. Lets a screen fall back
 * while a new endpoint is being deployed.
 */
export function isMissingEndpoint(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.status === 404 || (error.status === 403 && error.code === "error");
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.message) return error.message;
  return t("err.generic");
}

/** A fresh id per attempt of the same submit (Idempotency-Key). */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
