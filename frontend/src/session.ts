// The small session store: who is signed in and which organization they act in.

import { api, hasSession } from "./api";
import { signal } from "./signal";

export type Role = "owner" | "manager" | "cashier" | "auditor" | "platform_admin";

export interface Me {
  user_id: string;
  email: string;
  role: Role;
  org_id: string | null;
}

export interface Org {
  org_id: string;
  name: string;
  created_at?: string | null;
}

const ACT_ORG = "kuota.act_org";

export const me = signal<Me | null>(null);
export const actingOrg = signal<Org | null>(readActingOrg());

function readActingOrg(): Org | null {
  try {
    const raw = sessionStorage.getItem(ACT_ORG);
    return raw ? (JSON.parse(raw) as Org) : null;
  } catch {
    return null;
  }
}

export function setActingOrg(org: Org | null): void {
  if (org) sessionStorage.setItem(ACT_ORG, JSON.stringify(org));
  else sessionStorage.removeItem(ACT_ORG);
  actingOrg.set(org);
}

export async function loadMe(): Promise<Me | null> {
  if (!hasSession()) {
    me.set(null);
    return null;
  }
  const who = await api.get<Me>("/v1/me");
  if (who.org_id) {
    try {
      const org = await api.get<Org>(`/v1/orgs/${who.org_id}`);
      setActingOrg(org);
    } catch {
      setActingOrg({ org_id: who.org_id, name: who.org_id });
    }
  } else if (who.role !== "platform_admin") {
    setActingOrg(null);
  }
  me.set(who);
  return who;
}

export function clearSession(): void {
  me.set(null);
  setActingOrg(null);
}

/** The org the signed-in user acts in (their own, or the one a platform admin picked). */
export function orgId(): string | null {
  const who = me.get();
  return who?.org_id ?? actingOrg.get()?.org_id ?? null;
}

/** Path prefix for org-scoped endpoints. */
export function orgPath(rest = ""): string {
  const id = orgId();
  if (!id) throw new Error("no-org");
  return `/v1/orgs/${encodeURIComponent(id)}${rest}`;
}

export type Screen =
  | "dashboard"
  | "plans"
  | "sites"
  | "batches"
  | "print"
  | "sell"
  | "vouchers"
  | "reports"
  | "audit"
  | "alerts"
  | "users"
  | "platform"
  | "nas"
  | "connect"
  | "sales"
  | "shift"
  | "statement"
  | "shares"
  | "settlements"
  | "brand"
  | "compliance"
  | "resellers"
  | "policy"
  | "address-space"
  | "payments"
  | "orders";

const ACCESS: Record<Screen, Role[]> = {
  dashboard: ["owner", "manager", "auditor", "platform_admin"],
  plans: ["owner", "manager", "platform_admin"],
  sites: ["owner", "manager", "platform_admin"],
  batches: ["owner", "manager", "platform_admin"],
  print: ["owner", "manager", "platform_admin"],
  sell: ["owner", "manager", "cashier", "platform_admin"],
  vouchers: ["owner", "manager", "cashier", "auditor", "platform_admin"],
  reports: ["owner", "manager", "auditor", "platform_admin"],
  audit: ["owner", "auditor", "platform_admin"],
  alerts: ["owner", "manager", "auditor", "platform_admin"],
  users: ["owner", "platform_admin"],
  platform: ["platform_admin"],
  nas: ["owner", "manager", "platform_admin"],
  connect: ["owner", "manager", "platform_admin"],
  sales: ["owner", "manager", "cashier", "auditor", "platform_admin"],
  shift: ["owner", "manager", "cashier", "auditor", "platform_admin"],
  statement: ["owner", "manager", "auditor", "platform_admin"],
  shares: ["platform_admin"],
  settlements: ["platform_admin"],
  brand: ["platform_admin"],
  compliance: ["owner", "manager", "auditor", "platform_admin"],
  resellers: ["platform_admin"],
  policy: ["platform_admin"],
  "address-space": ["platform_admin"],
  payments: ["owner", "platform_admin"],
  orders: ["owner", "manager", "auditor", "platform_admin"],
};

export function mayUse(screen: Screen, role: Role | undefined): boolean {
  return role ? ACCESS[screen].includes(role) : false;
}

export function homeFor(role: Role): string {
  if (role === "cashier") return "#/sell";
  if (role === "platform_admin" && !actingOrg.get()) return "#/platform";
  return "#/dashboard";
}

/** Only an owner (or a platform admin acting for one) moves money back: refunds of online orders. */
export function mayRefund(role: Role | undefined): boolean {
  return role === "owner" || role === "platform_admin";
}

/** May this role change things (create, edit, revoke) in the org? */
export function mayManage(role: Role | undefined): boolean {
  return role === "owner" || role === "manager" || role === "platform_admin";
}
