// What the page's address says about who opened it: the venue (org, site), and a hotspot
// controller waiting for the code (MikroTik's login variables, or openNDS FAS's fas/iv).

import { ORDER_ID } from "./orders";

export interface MikrotikLogin {
  kind: "mikrotik";
  loginUrl: string; // $(link-login-only): where the router takes username and password
  dst: string | null; // $(link-orig): where the guest wanted to go
  error: string | null; // $(error): the router's own message after a failed login
}

export interface FasLogin {
  kind: "fas";
  siteId: string;
  fas: string;
  iv: string;
}

export interface PageContext {
  orgId: string | null;
  siteId: string | null;
  controller: MikrotikLogin | FasLogin | null;
  code: string | null;
  orderId: string | null; // an online purchase to show (its code once paid)
}

const ID = /^[A-Za-z0-9_-]{1,64}$/;

function httpUrl(value: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    // Only web addresses: a javascript: or data: URL here would run in this page.
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

function id(value: string | null): string | null {
  return value && ID.test(value) ? value : null;
}

/**
 * `search` is the query string; `hash` may carry `#code=...` or `#order=...` (a fragment never
 * reaches a server's logs).
 */
export function readContext(search: string, hash = ""): PageContext {
  const params = new URLSearchParams(search);
  const orgId = id(params.get("org") ?? params.get("org_id"));
  const siteId = id(params.get("site") ?? params.get("site_id"));
  const fas = params.get("fas");
  const iv = params.get("iv");
  let controller: PageContext["controller"] = null;
  if (fas && iv && siteId) {
    controller = { kind: "fas", siteId, fas, iv };
  } else {
    const loginUrl = httpUrl(params.get("link-login-only") ?? params.get("link-login"));
    if (loginUrl) {
      controller = {
        kind: "mikrotik",
        loginUrl,
        dst: httpUrl(params.get("dst") ?? params.get("link-orig")),
        error: (params.get("error") || "").slice(0, 200) || null,
      };
    }
  }
  const fragment = new URLSearchParams(hash.replace(/^#/, ""));
  const code = (fragment.get("code") || "").slice(0, 40) || null;
  const order = fragment.get("order");
  return { orgId, siteId, controller, code, orderId: order && ORDER_ID.test(order) ? order : null };
}

/** The router's login address with the code as username and password (HTTP PAP), by GET. */
export function mikrotikLoginUrl(login: MikrotikLogin, code: string): string {
  const url = new URL(login.loginUrl);
  url.searchParams.set("username", code);
  url.searchParams.set("password", code);
  if (login.dst) url.searchParams.set("dst", login.dst);
  return url.href;
}
