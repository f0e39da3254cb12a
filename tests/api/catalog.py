"""Every route of the API, with a valid request for each, for table-driven tests.

Tests iterate over the app's own route registry, so a route added without an
entry here fails them until someone says who may call it.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from chalicelib.api.http import ROUTES, RouteSpec
from tests.support import PASSWORD, Api, Tenant, World

ALL_ORG_ROLES = {"owner", "manager", "cashier", "auditor", "platform_admin"}
OWNER = {"owner", "platform_admin"}
OWNER_MANAGER = {"owner", "manager", "platform_admin"}
SHIFT_WORKERS = {"owner", "manager", "cashier", "platform_admin"}

# Who may call each user route (from the API contract); everyone else gets 403.
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("GET", "/v1/me"): ALL_ORG_ROLES,
    ("POST", "/v1/orgs"): {"platform_admin"},
    ("GET", "/v1/orgs"): {"platform_admin"},
    ("GET", "/v1/orgs/{org_id}"): ALL_ORG_ROLES,
    ("POST", "/v1/orgs/{org_id}/users"): OWNER,
    ("GET", "/v1/orgs/{org_id}/users"): OWNER,
    ("PATCH", "/v1/orgs/{org_id}/users/{user_id}"): OWNER,
    ("POST", "/v1/orgs/{org_id}/sites"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/sites"): ALL_ORG_ROLES,
    ("GET", "/v1/orgs/{org_id}/sites/{site_id}"): ALL_ORG_ROLES,
    ("PATCH", "/v1/orgs/{org_id}/sites/{site_id}"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/keys"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/sites/{site_id}/keys"): OWNER_MANAGER,
    ("DELETE", "/v1/orgs/{org_id}/sites/{site_id}/keys/{key_id}"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/audit"): {"owner", "auditor", "platform_admin"},
    ("GET", "/v1/orgs/{org_id}/audit/verify"): {"owner", "auditor", "platform_admin"},
    ("GET", "/v1/orgs/{org_id}/alerts"): {"owner", "manager", "auditor", "platform_admin"},
    ("GET", "/v1/orgs/{org_id}/quality"): {"owner", "manager", "auditor", "platform_admin"},
    ("GET", "/v1/platform/quality"): {"platform_admin"},
    ("PATCH", "/v1/orgs/{org_id}"): OWNER,
    ("GET", "/v1/orgs/{org_id}/reports/sales"): {"owner", "manager", "auditor", "platform_admin"},
    ("GET", "/v1/orgs/{org_id}/reports/statement"): {"owner", "manager", "auditor", "platform_admin"},
    ("POST", "/v1/orgs/{org_id}/plans"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/plans"): ALL_ORG_ROLES,
    ("GET", "/v1/orgs/{org_id}/plans/{plan_id}"): ALL_ORG_ROLES,
    ("PATCH", "/v1/orgs/{org_id}/plans/{plan_id}"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/plans/{plan_id}/archive"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/batches"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/batches/{batch_id}"): ALL_ORG_ROLES,
    ("GET", "/v1/orgs/{org_id}/batches"): ALL_ORG_ROLES,
    ("GET", "/v1/orgs/{org_id}/dashboard"): {"owner", "manager", "auditor", "platform_admin"},
    ("GET", "/v1/orgs/{org_id}/batches/{batch_id}/codes"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/sales"): {"owner", "manager", "cashier", "platform_admin"},
    # Everyone who may read sales; the catalog's sale was made by the cashier, who sees their own.
    ("GET", "/v1/orgs/{org_id}/sales/{sale_id}"): ALL_ORG_ROLES,
    ("POST", "/v1/orgs/{org_id}/sales/{sale_id}/void"): OWNER_MANAGER,
    # The sales list: a cashier gets their own sales only.
    ("GET", "/v1/orgs/{org_id}/sales"): ALL_ORG_ROLES,
    ("POST", "/v1/orgs/{org_id}/shifts"): SHIFT_WORKERS,
    ("GET", "/v1/orgs/{org_id}/shifts/current"): SHIFT_WORKERS,
    # The catalog's shift is the cashier's: a cashier closes their own, owners and managers any.
    ("POST", "/v1/orgs/{org_id}/shifts/{shift_id}/close"): SHIFT_WORKERS,
    ("GET", "/v1/orgs/{org_id}/shifts"): ALL_ORG_ROLES,
    ("GET", "/v1/orgs/{org_id}/vouchers/{code}"): ALL_ORG_ROLES,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/revoke"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/refund"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/extend"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/pause"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/resume"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/topup"): SHIFT_WORKERS,
    ("POST", "/v1/orgs/{org_id}/keys"): OWNER,
    ("GET", "/v1/orgs/{org_id}/keys"): OWNER,
    ("DELETE", "/v1/orgs/{org_id}/keys/{key_id}"): OWNER,
    ("POST", "/v1/platform/keys"): {"platform_admin"},
    ("GET", "/v1/platform/keys"): {"platform_admin"},
    ("DELETE", "/v1/platform/keys/{key_id}"): {"platform_admin"},
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/nas"): OWNER_MANAGER,
    ("GET", "/v1/orgs/{org_id}/sites/{site_id}/nas"): OWNER_MANAGER,
    ("DELETE", "/v1/orgs/{org_id}/sites/{site_id}/nas/{nas_id}"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/devices/{slot}/release"): OWNER_MANAGER,
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/fas"): OWNER,
    ("GET", "/v1/orgs/{org_id}/sites/{site_id}/fas"): OWNER,
    ("DELETE", "/v1/orgs/{org_id}/sites/{site_id}/fas"): OWNER,
    ("PUT", "/v1/platform/orgs/{org_id}/share"): {"platform_admin"},
    ("GET", "/v1/platform/orgs/{org_id}/share"): {"platform_admin"},
    ("POST", "/v1/platform/settlements"): {"platform_admin"},
    ("GET", "/v1/platform/settlements"): {"platform_admin"},
    ("GET", "/v1/platform/settlements/{settlement_id}"): {"platform_admin"},
    ("POST", "/v1/platform/settlements/{settlement_id}/adjustments"): {"platform_admin"},
    ("PUT", "/v1/platform/address-space"): {"platform_admin"},
    ("GET", "/v1/platform/address-space"): {"platform_admin"},
    ("GET", "/v1/orgs/{org_id}/uplinks"): {"owner", "manager", "auditor", "platform_admin"},
    ("POST", "/v1/platform/settlements/{settlement_id}/payments"): {"platform_admin"},
    ("POST", "/v1/platform/settlements/{settlement_id}/payments/{payment_id}/reverse"): {"platform_admin"},
    ("PUT", "/v1/platform/orgs/{org_id}/agreement"): {"platform_admin"},
    ("GET", "/v1/orgs/{org_id}/agreement"): OWNER,
    ("GET", "/v1/platform/agreements"): {"platform_admin"},
    ("GET", "/v1/orgs/{org_id}/compliance"): {"owner", "manager", "auditor", "platform_admin"},
    ("POST", "/v1/platform/orgs/{org_id}/stage"): {"platform_admin"},
    ("POST", "/v1/platform/orgs/{org_id}/sites/{site_id}/stage"): {"platform_admin"},
    ("GET", "/v1/platform/resellers"): {"platform_admin"},
    ("PUT", "/v1/platform/policy"): {"platform_admin"},
    ("GET", "/v1/platform/policy"): {"platform_admin"},
    ("PUT", "/v1/platform/brand"): {"platform_admin"},
    ("PUT", "/v1/orgs/{org_id}/payment-accounts/{provider}"): OWNER,
    ("GET", "/v1/orgs/{org_id}/payment-accounts/{provider}"): OWNER,
    ("DELETE", "/v1/orgs/{org_id}/payment-accounts/{provider}"): OWNER,
    ("GET", "/v1/orgs/{org_id}/orders"): {"owner", "manager", "auditor", "platform_admin"},
    ("POST", "/v1/orgs/{org_id}/orders/{order_id}/refund"): OWNER,
}

PUBLIC = {
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/logout"),
    ("GET", "/v1/openapi.json"),
    ("GET", "/v1/brand"),  # the guest page and the console's sign-in show it
    ("POST", "/v1/guest/status"),
    ("POST", "/v1/guest/release"),
    ("POST", "/v1/guest/pause"),
    ("POST", "/v1/guest/resume"),
    # openNDS FAS: the guest page, and the router's FAS URL (authmon authenticates with its gateway hash).
    ("POST", "/v1/fas/session"),
    ("POST", "/v1/fas/login"),
    ("GET", "/v1/fas/gateways/{site_id}"),
    ("POST", "/v1/fas/gateways/{site_id}"),
    # Online purchase: the guest page holds nothing but the site and its own (unguessable) order id;
    # the providers' webhooks prove themselves by signature or token.
    ("GET", "/v1/guest/plans"),
    ("POST", "/v1/guest/orders"),
    ("GET", "/v1/guest/orders/{order_id}"),
    ("POST", "/v1/guest/orders/{order_id}/cancel"),
    ("POST", "/v1/payments/{provider}/webhook/{account_id}"),
}
# Path parameters that name no object of an organisation (a provider's name is the same in every org).
NOT_OBJECTS = {"{provider}", "{org_id}"}
POS_KEY_ROUTES = {("POST", "/v1/pos/sales"), ("POST", "/v1/pos/topups")}
RADIUS_KEY_ROUTES = {
    ("POST", "/v1/radius/authorize"),
    ("POST", "/v1/radius/accounting"),
    ("POST", "/v1/radius/post-auth"),
}
API_KEY_ROUTES = (
    {("GET", "/v1/keys/self"), ("POST", "/v1/redeem"), ("POST", "/v1/accounting")} | POS_KEY_ROUTES | RADIUS_KEY_ROUTES
)


_settled_days = itertools.count()


def _unsettled_day() -> str:
    """A day long past that no settlement has covered yet (settlements never overlap)."""
    return (date(2001, 1, 1) + timedelta(days=next(_settled_days))).isoformat()


def _unsettled_period() -> dict[str, str]:
    day = _unsettled_day()
    return {"from": day, "to": day}


def _unique_email() -> str:
    return f"new-{uuid.uuid4().hex[:8]}@example.com"


AGREEMENT: dict[str, str] = {
    "legal_name": "CV Toko Baru",
    "nib": "9120001234567",
    "agreement_no": "PKS/2026/001",
    "starts_on": "2026-01-01",
    "ends_on": "2027-12-31",
    "contact_name": "Budi",
    "contact_phone": "+628123456789",
}


BODIES: dict[tuple[str, str], Callable[[Targets], dict[str, Any]]] = {
    ("POST", "/v1/orgs"): lambda t: {"name": "Toko Baru"},
    ("PATCH", "/v1/orgs/{org_id}"): lambda t: {"pos_only_sales": True},
    ("POST", "/v1/orgs/{org_id}/users"): lambda t: {"email": _unique_email(), "password": PASSWORD, "role": "cashier"},
    ("PATCH", "/v1/orgs/{org_id}/users/{user_id}"): lambda t: {"role": "auditor"},
    ("POST", "/v1/orgs/{org_id}/sites"): lambda t: {"name": "Cabang", "timezone": "Asia/Makassar"},
    ("PATCH", "/v1/orgs/{org_id}/sites/{site_id}"): lambda t: {"name": "Cabang Baru"},
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/keys"): lambda t: {"kind": "pos", "name": "Kasir 2"},
    ("POST", "/v1/orgs/{org_id}/plans"): lambda t: {
        "name": "1 Jam",
        "price": 5000,
        "duration_minutes": 60,
        "validity_days": 30,
    },
    ("PATCH", "/v1/orgs/{org_id}/plans/{plan_id}"): lambda t: {"price": 6000},
    ("POST", "/v1/orgs/{org_id}/batches"): lambda t: {"plan_id": t.ids["plan_id"], "quantity": 2},
    ("POST", "/v1/orgs/{org_id}/sales"): lambda t: {
        "site_id": t.ids["site_id"],
        "plan_id": t.ids["plan_id"],
        "quantity": 1,
    },
    ("POST", "/v1/orgs/{org_id}/sales/{sale_id}/void"): lambda t: {"reason": "customer changed their mind"},
    ("POST", "/v1/orgs/{org_id}/shifts"): lambda t: {"site_id": t.ids["site_id"], "opening_cash": 100000},
    ("POST", "/v1/orgs/{org_id}/shifts/{shift_id}/close"): lambda t: {"declared_cash": 100000},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/revoke"): lambda t: {"reason": "refund at the counter"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/refund"): lambda t: {"reason": "could not connect"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/extend"): lambda t: {"minutes": 30, "reason": "network down"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/pause"): lambda t: {"reason": "guest away for the weekend"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/resume"): lambda t: {"reason": "guest is back"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/topup"): lambda t: {
        "plan_id": t.ids["topup_plan_id"],
        "site_id": t.ids["site_id"],
    },
    ("POST", "/v1/orgs/{org_id}/keys"): lambda t: {"kind": "radius", "name": "FreeRADIUS"},
    ("POST", "/v1/platform/keys"): lambda t: {"kind": "radius", "name": "FreeRADIUS ISP"},
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/nas"): lambda t: {"name": "hAP", "nas_identifier": _unique_nas()},
    ("POST", "/v1/orgs/{org_id}/sites/{site_id}/fas"): lambda t: {},
    ("PUT", "/v1/platform/orgs/{org_id}/share"): lambda t: {
        "percent": 12.5,
        "effective_from": "2099-01-01",
        "reason": "kontrak baru",
    },
    ("POST", "/v1/platform/settlements"): lambda t: _unsettled_period(),
    ("PUT", "/v1/platform/orgs/{org_id}/agreement"): lambda t: AGREEMENT,
    # grace stops nothing, so the routes tried after it on the same org still answer as usual
    ("POST", "/v1/platform/orgs/{org_id}/stage"): lambda t: {"stage": "grace", "reason": "manual", "note": "test"},
    ("POST", "/v1/platform/orgs/{org_id}/sites/{site_id}/stage"): lambda t: {
        "stage": "grace",
        "reason": "uplink_unregistered",
        "note": "test",
    },
    ("PUT", "/v1/platform/policy"): lambda t: {
        "grace_days": 14,
        "restricted_days": 7,
        "triggers": {"uplink_unregistered": "warn"},
        "quality": {"min_availability": 0.9, "max_reject_rate": 0.2},
    },
    ("POST", "/v1/platform/settlements/{settlement_id}/adjustments"): lambda t: {
        "org_id": t.tenant.org_id,
        "amount": 1000,
        "reason": "koreksi",
    },
    ("PUT", "/v1/platform/address-space"): lambda t: {
        "prefixes": [{"cidr": "192.0.2.0/24", "asn": 64500, "note": "ISP"}, {"cidr": "2001:db8::/32", "asn": 64500}]
    },
    ("PUT", "/v1/platform/brand"): lambda t: {"name": "NusaNet", "tagline": "Internet resmi", "colour": "#0b5cad"},
    ("POST", "/v1/platform/settlements/{settlement_id}/payments"): lambda t: {
        "org_id": t.tenant.org_id,
        "amount": 1,
        "paid_on": "2026-11-30",
        "reference": "TRF 0001",
    },
    ("POST", "/v1/platform/settlements/{settlement_id}/payments/{payment_id}/reverse"): lambda t: {
        "reason": "salah catat",
    },
    ("PUT", "/v1/orgs/{org_id}/payment-accounts/{provider}"): lambda t: {
        "environment": "sandbox",
        "server_key": "SB-Mid-server-catalog-key-0001",
    },
    ("POST", "/v1/orgs/{org_id}/orders/{order_id}/refund"): lambda t: {"reason": "koneksi mati"},
}


def _unique_nas() -> str:
    return f"nas-{uuid.uuid4().hex[:10]}"


# Routes whose path names an object by a parameter that other routes use for another kind of
# object: the org's radius keys and the platform's are `{key_id}` like a site's controller key.
PATH_IDS: dict[tuple[str, str], dict[str, str]] = {
    ("DELETE", "/v1/orgs/{org_id}/keys/{key_id}"): {"key_id": "radius_key_id"},
    ("DELETE", "/v1/platform/keys/{key_id}"): {"key_id": "platform_key_id"},
    # Pausing needs a running voucher whose plan pauses; resuming, one that is paused.
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/pause"): {"code": "running_code"},
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/resume"): {"code": "paused_code"},
}


# Query strings of routes whose query has required parameters.
QUERIES: dict[tuple[str, str], str] = {
    ("GET", "/v1/orgs/{org_id}/reports/sales"): "from=2026-11-01&to=2026-11-30&group_by=site",
    ("GET", "/v1/orgs/{org_id}/audit/verify"): "from=2026-11-01&to=2026-11-02",
    ("GET", "/v1/orgs/{org_id}/quality"): "from=2026-11-01&to=2026-11-30",
    ("GET", "/v1/platform/quality"): "from=2026-11-01&to=2026-11-30",
    ("GET", "/v1/orgs/{org_id}/sales"): "from=2026-11-01&to=2026-11-30",
    ("GET", "/v1/orgs/{org_id}/shifts"): "from=2026-11-01&to=2026-11-30",
    ("GET", "/v1/orgs/{org_id}/reports/statement"): "site_id={site_id}&month=2026-11",
    ("GET", "/v1/orgs/{org_id}/orders"): "from=2026-11-01&to=2026-11-30",
}


@dataclass
class Targets:
    """Objects of one org that a route's path parameters can point at."""

    tenant: Tenant
    ids: dict[str, str]
    spent: set[str] = field(default_factory=set)  # ids a one-shot route has used up
    controller: str = ""  # the site's controller key, to put a device on the voucher
    admin: str = ""  # a platform admin's token, to make platform objects (payments) afresh

    def path(self, spec: RouteSpec) -> str:
        ids = dict(self.ids)
        for name, source in PATH_IDS.get((spec.method, spec.path), {}).items():
            ids[name] = self.ids[source]
        return spec.path.format(org_id=self.tenant.org_id, **ids)

    def path_org(self) -> str:
        return f"/v1/orgs/{self.tenant.org_id}"

    def mixed_with(self, other: Targets) -> Targets:
        """This org in the path, the other org's objects inside it."""
        return Targets(tenant=self.tenant, ids=other.ids, controller=other.controller, admin=other.admin)


def object_params(spec: RouteSpec) -> int:
    """How many of the path's parameters name an organisation's objects (another org's: 404)."""
    return sum(1 for part in spec.path.split("/") if part.startswith("{") and part not in NOT_OBJECTS)


def targets(world: World, tenant: Tenant, spec: RouteSpec | None = None) -> Targets:
    """One org's objects for `spec`: its site, controller key and plan always, the rest only where the route
    names it (every kind when `spec` is None). Each object costs requests, and these run for every route."""
    path = spec.path if spec is not None else None
    aliases = set(PATH_IDS.get((spec.method, spec.path), {}).values()) if spec is not None else set()

    def needs(*names: str) -> bool:
        return path is None or any(f"{{{name}}}" in path or name in aliases for name in names)

    def about(*words: str) -> bool:
        return path is None or any(word in path for word in words)

    org, owner = f"/v1/orgs/{tenant.org_id}", tenant.owner.token
    site_id = world.site(tenant)
    key_id, controller = world.key(tenant, site_id)
    plan_id = world.plan(tenant)
    ids = {"site_id": site_id, "key_id": key_id, "plan_id": plan_id}
    if about("/fas"):
        fas = world.api.post(f"{org}/sites/{site_id}/fas", {}, token=owner)
        assert fas.status == 201, fas.body
    if needs("user_id"):
        ids["user_id"] = world.user_in(tenant.org_id, "cashier", as_token=owner).user_id
    if needs("batch_id", "code", "slot"):
        batch = world.api.post(f"{org}/batches", {"plan_id": plan_id, "quantity": 2}, token=owner)
        ids["batch_id"] = batch.json["batch_id"]
        ids["code"] = world.api.get(f"{org}/batches/{ids['batch_id']}/codes", token=owner).json["codes"][0]
    if needs("radius_key_id"):
        ids["radius_key_id"] = _radius_key(world.api, f"{org}/keys", owner)
    if needs("platform_key_id"):
        ids["platform_key_id"] = _radius_key(world.api, "/v1/platform/keys", world.admin.token)
    if needs("nas_id"):
        ids["nas_id"] = _new_nas(world.api, tenant.org_id, site_id, owner)
    if needs("sale_id"):
        ids["sale_id"] = _new_sale(world.api, tenant.org_id, site_id, plan_id, world.member(tenant, "cashier").token)
    if needs("slot") or about("/vouchers/{code}/refund"):  # a printed code is sold by its first use
        ids["slot"] = _new_device(world.api, tenant.org_id, ids["code"], controller, owner)
    if needs("topup_plan_id") or about("/topup"):
        ids["topup_plan_id"] = world.plan(tenant, name="+1 Jam", kind="topup", price=3000)
    if needs("running_code"):
        ids["running_code"] = _running_code(world.api, tenant.org_id, controller, owner)
    if needs("paused_code"):
        ids["paused_code"] = _paused_code(world.api, tenant.org_id, controller, owner)
    if needs("shift_id"):
        ids["shift_id"] = _new_shift(world.api, tenant.org_id, site_id, world.member(tenant, "cashier").token)
    if about("agreement", "/stage", "/compliance", "/resellers"):
        agreement = world.api.call("PUT", f"/v1/platform/orgs/{tenant.org_id}/agreement", json_body=AGREEMENT,
                                   token=world.admin.token)  # fmt: skip
        assert agreement.status == 200, agreement.body
    if needs("settlement_id", "payment_id"):
        settlement = world.api.post("/v1/platform/settlements", _unsettled_period(), token=world.admin.token)
        assert settlement.status == 201, settlement.body
        ids["settlement_id"] = settlement.json["settlement_id"]
        # The org owes on it (an adjustment: it sold nothing that day) and has paid a little of it.
        owed = world.api.post(f"/v1/platform/settlements/{ids['settlement_id']}/adjustments",
                              {"org_id": tenant.org_id, "amount": 100_000, "reason": "tagihan"},
                              token=world.admin.token)  # fmt: skip
        assert owed.status == 201, owed.body
        ids["payment_id"] = _new_payment(world.api, ids["settlement_id"], tenant.org_id, world.admin.token)
    if needs("provider", "order_id"):
        ids["provider"] = _connected_midtrans(world, tenant)
    if needs("order_id"):
        ids["order_id"] = _paid_order(world, tenant, site_id, plan_id)
    return Targets(tenant=tenant, ids=ids, controller=controller, admin=world.admin.token)


def _connected_midtrans(world: World, tenant: Tenant) -> str:
    """The org's Midtrans account, on the fake provider's default key."""
    body = {"environment": "sandbox", "server_key": world.providers.midtrans.credentials.server_key}
    reply = world.api.call("PUT", f"/v1/orgs/{tenant.org_id}/payment-accounts/midtrans", json_body=body,
                           token=tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    return "midtrans"


def _reconnect(api: Api, target: Targets) -> str:
    body = {"environment": "sandbox", "server_key": "SB-Mid-server-catalog-key-0002"}
    reply = api.call("PUT", f"{target.path_org()}/payment-accounts/midtrans", json_body=body,
                     token=target.tenant.owner.token)  # fmt: skip
    assert reply.status == 200, reply.body
    return "midtrans"


def _paid_order(world: World, tenant: Tenant, site_id: str, plan_id: str) -> str:
    """An online order a guest paid (its voucher made), for the refund route."""
    online = {"sold_online": True, "online_sites": [site_id]}
    plan = world.api.patch(f"/v1/orgs/{tenant.org_id}/plans/{plan_id}", online, token=tenant.owner.token)
    assert plan.status == 200, plan.body
    order = world.api.post("/v1/guest/orders", {"site_id": site_id, "plan_id": plan_id})
    assert order.status == 201, order.body
    order_id = str(order.json["order_id"])
    assert [d.status for d in world.providers.midtrans.simulate_payment(order_id)] == [200]
    return order_id


def user_routes() -> list[RouteSpec]:
    return [spec for spec in ROUTES if spec.auth == "user"]


def org_routes() -> list[RouteSpec]:
    return [spec for spec in ROUTES if "{org_id}" in spec.path]


def route_id(spec: RouteSpec) -> str:
    return f"{spec.method} {spec.path}"


def _radius_key(api: Api, path: str, token: str) -> str:
    reply = api.post(path, {"kind": "radius", "name": "FreeRADIUS"}, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["key_id"])


def _new_nas(api: Api, org_id: str, site_id: str, token: str) -> str:
    body = {"name": "hAP", "nas_identifier": _unique_nas()}
    reply = api.post(f"/v1/orgs/{org_id}/sites/{site_id}/nas", body, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["nas_id"])


def _new_sale(api: Api, org_id: str, site_id: str, plan_id: str, token: str) -> str:
    body = {"site_id": site_id, "plan_id": plan_id, "quantity": 1}
    reply = api.post(f"/v1/orgs/{org_id}/sales", body, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["sale_id"])


def _new_sold_code(api: Api, org_id: str, site_id: str, plan_id: str, token: str) -> str:
    body = {"site_id": site_id, "plan_id": plan_id, "quantity": 1}
    reply = api.post(f"/v1/orgs/{org_id}/sales", body, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["vouchers"][0]["code"])
def _new_payment(api: Api, settlement_id: str, org_id: str, token: str) -> str:
    body = {"org_id": org_id, "amount": 1, "paid_on": "2026-11-30", "reference": "TRF 0000"}
    reply = api.post(f"/v1/platform/settlements/{settlement_id}/payments", body, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["payment_id"])


def _new_shift(api: Api, org_id: str, site_id: str, token: str) -> str:
    reply = api.post(f"/v1/orgs/{org_id}/shifts", {"site_id": site_id, "opening_cash": 50000}, token=token)
    assert reply.status == 201, reply.body
    return str(reply.json["shift_id"])


def _with_open_shift(api: Api, target: Targets, token: str) -> None:
    """Before asking for the caller's open shift: open one (a 403 or 404 here is the route's to give)."""
    org = target.path_org()
    api.post(f"{org}/shifts", {"site_id": target.ids["site_id"]}, token=token)


def _without_open_shift(api: Api, target: Targets, token: str) -> None:
    """Before opening a shift: close the caller's open one (one open shift per person)."""
    org = target.path_org()
    current = api.get(f"{org}/shifts/current", token=token)
    if current.status == 200:
        api.post(f"{org}/shifts/{current.json['shift_id']}/close", {"declared_cash": 0}, token=token)


# Calls that set the caller's state up first (who has a shift open) without counting as the route's.
PREPARE: dict[tuple[str, str], Callable[[Api, Targets, str], None]] = {
    ("GET", "/v1/orgs/{org_id}/shifts/current"): _with_open_shift,
    ("POST", "/v1/orgs/{org_id}/shifts"): _without_open_shift,
}


def _running_code(api: Api, org_id: str, controller: str, token: str) -> str:
    """A voucher in use whose plan lets staff pause it (often)."""
    pausing = {"by": "staff", "max_pauses": 100, "max_pause_minutes": 60}
    plan = {"name": "Mingguan", "price": 50000, "duration_minutes": 7 * 24 * 60, "validity_days": 30, "pause": pausing}
    plan_id = api.post(f"/v1/orgs/{org_id}/plans", plan, token=token).json["plan_id"]
    batch = api.post(f"/v1/orgs/{org_id}/batches", {"plan_id": plan_id, "quantity": 1}, token=token).json
    code = str(api.get(f"/v1/orgs/{org_id}/batches/{batch['batch_id']}/codes", token=token).json["codes"][0])
    reply = api.post("/v1/redeem", {"code": code, "mac": f"02:00:00:{uuid.uuid4().hex[:6]}"}, token=controller)
    assert reply.status == 200, reply.body
    return code


def _paused_code(api: Api, org_id: str, controller: str, token: str) -> str:
    code = _running_code(api, org_id, controller, token)
    reply = api.post(f"/v1/orgs/{org_id}/vouchers/{code}/pause", {"reason": "away"}, token=token)
    assert reply.status == 200, reply.body
    return code


def _new_device(api: Api, org_id: str, code: str, controller: str, token: str) -> str:
    """Redeem the code from a new device; return the slot it holds."""
    reply = api.post("/v1/redeem", {"code": code, "mac": f"02:00:00:{uuid.uuid4().hex[:6]}"}, token=controller)
    assert reply.status == 200, reply.body
    view = api.get(f"/v1/orgs/{org_id}/vouchers/{code}", token=token).json
    return str(view["devices"][0]["slot"])


# Routes that use their target up (a sale is voided once, the second void is a 409):
# after a successful call, the next call on the same Targets gets a fresh object.
ONE_SHOT: dict[tuple[str, str], tuple[str, Callable[[Api, Targets], str]]] = {
    ("POST", "/v1/orgs/{org_id}/sales/{sale_id}/void"): (
        "sale_id",
        lambda api, t: _new_sale(api, t.tenant.org_id, t.ids["site_id"], t.ids["plan_id"], t.tenant.owner.token),
    ),
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/refund"): (
        "code",
        lambda api, t: _new_sold_code(api, t.tenant.org_id, t.ids["site_id"], t.ids["plan_id"], t.tenant.owner.token),
    ),
    ("POST", "/v1/orgs/{org_id}/shifts/{shift_id}/close"): (
        "shift_id",
        lambda api, t: _new_shift(api, t.tenant.org_id, t.ids["site_id"], t.tenant.members["cashier"].token),
    ),
    ("DELETE", "/v1/orgs/{org_id}/sites/{site_id}/nas/{nas_id}"): (
        "nas_id",
        lambda api, t: _new_nas(api, t.tenant.org_id, t.ids["site_id"], t.tenant.owner.token),
    ),
    ("POST", "/v1/platform/settlements/{settlement_id}/payments/{payment_id}/reverse"): (
        "payment_id",
        lambda api, t: _new_payment(api, t.ids["settlement_id"], t.tenant.org_id, t.admin),
    ),
    ("DELETE", "/v1/orgs/{org_id}/payment-accounts/{provider}"): (
        "provider",
        lambda api, t: _reconnect(api, t),
    ),
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/pause"): (
        "running_code",
        lambda api, t: _running_code(api, t.tenant.org_id, t.controller, t.tenant.owner.token),
    ),
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/resume"): (
        "paused_code",
        lambda api, t: _paused_code(api, t.tenant.org_id, t.controller, t.tenant.owner.token),
    ),
    ("POST", "/v1/orgs/{org_id}/vouchers/{code}/devices/{slot}/release"): (
        "slot",
        lambda api, t: _new_device(api, t.tenant.org_id, t.ids["code"], t.controller, t.tenant.owner.token),
    ),
}


def call(api: Api, spec: RouteSpec, target: Targets, token: str) -> Any:
    one_shot = ONE_SHOT.get((spec.method, spec.path))
    if one_shot is not None and one_shot[0] in target.spent:
        name, fresh = one_shot
        target.ids = {**target.ids, name: fresh(api, target)}
        target.spent.discard(name)
    prepare = PREPARE.get((spec.method, spec.path))
    if prepare is not None:
        prepare(api, target, token)
    body = BODIES[(spec.method, spec.path)](target) if spec.body else None
    query = QUERIES.get((spec.method, spec.path), "").format(**target.ids)
    path = f"{target.path(spec)}?{query}" if query else target.path(spec)
    reply = api.call(spec.method, path, token=token, json_body=body)
    if one_shot is not None and reply.status < 300:
        target.spent.add(one_shot[0])
    return reply
