"""Helpers that let tests read as stories: an HTTP client and a world of tenants."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from chalice.test import Client

if TYPE_CHECKING:
    from tests.fakes.midtrans import FakeMidtrans
    from tests.fakes.xendit import FakeXendit

ADMIN_EMAIL = "platform@example.com"
ADMIN_PASSWORD = "platform-admin-password"
PASSWORD = "correct horse battery staple"
MAC = "AA:BB:CC:00:11:22"


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        data = self.json
        return data["error"]["code"] if isinstance(data, dict) and "error" in data else None
# The Chalice stage tests run the app as: one .chalice/config.json does not define, so no stage's
# environment (dev's keys under .kuota/, its log level) leaks into a test.
TEST_STAGE = "test"


class Api:
    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        raw: bytes | str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json", "User-Agent": "kuota-tests/1.0"}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        body = raw if raw is not None else (json.dumps(json_body) if json_body is not None else b"")
        encoded = body.encode() if isinstance(body, str) else body
        response = self.client.http.request(method, path, headers=all_headers, body=encoded)
        return Reply(status=response.status_code, body=response.body, headers=dict(response.headers))

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("POST", path, json_body=body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.call("PATCH", path, json_body=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.call("DELETE", path, **kwargs)

    def login(self, email: str, password: str, ip: str | None = None) -> Reply:
        headers = {"X-Forwarded-For": ip} if ip else None
        return self.post("/v1/auth/login", {"email": email, "password": password}, headers=headers)


@dataclass
class Member:
    user_id: str
    email: str
    role: str
    token: str
    refresh_token: str


@dataclass
class Tenant:
    org_id: str
    name: str
    owner: Member
    members: dict[str, Member] = field(default_factory=dict)


@dataclass
class Providers:
    """The fake payment providers of a test session (tests/fakes/), reached by the app over loopback."""

    midtrans: FakeMidtrans
    xendit: FakeXendit

    def deliver_to(self, api: Api) -> None:
        """Hand their webhooks to the app in this process (their URLs name the local API)."""

        def deliver(url: str, headers: dict[str, str], body: bytes) -> int:
            return api.call("POST", urlsplit(url).path, raw=body, headers=headers).status

        self.midtrans.deliver = self.xendit.deliver = deliver


class World:
    """Builds organizations, users, sites and keys through the public API."""

    def __init__(self, api: Api, providers: Providers | None = None) -> None:
        self.api = api
        self._admin: Member | None = None
        self._providers = providers

    @property
    def providers(self) -> Providers:
        assert self._providers is not None, "this world was built without the fake payment providers"
        return self._providers

    @property
    def admin(self) -> Member:
        if self._admin is None:
            from chalicelib.api.deps import services

            user, _ = services().accounts.ensure_platform_admin(ADMIN_EMAIL, ADMIN_PASSWORD)
            self._admin = self._sign_in(user.user_id, ADMIN_EMAIL, "platform_admin", ADMIN_PASSWORD)
        return self._admin

    def _sign_in(self, user_id: str, email: str, role: str, password: str = PASSWORD) -> Member:
        reply = self.api.login(email, password)
        assert reply.status == 200, reply.body
        return Member(user_id, email, role, reply.json["access_token"], reply.json["refresh_token"])

    def org(self, name: str = "Warung Kopi") -> Tenant:
        reply = self.api.post("/v1/orgs", {"name": name}, token=self.admin.token)
        assert reply.status == 201, reply.body
        org_id = reply.json["org_id"]
        owner = self.user_in(org_id, "owner", as_token=self.admin.token)
        tenant = Tenant(org_id=org_id, name=name, owner=owner)
        tenant.members["owner"] = owner
        return tenant

    def user_in(self, org_id: str, role: str, *, as_token: str) -> Member:
        email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
        reply = self.api.post(
            f"/v1/orgs/{org_id}/users", {"email": email, "password": PASSWORD, "role": role}, token=as_token
        )
        assert reply.status == 201, reply.body
        return self._sign_in(reply.json["user_id"], email, role)

    def member(self, tenant: Tenant, role: str) -> Member:
        if role not in tenant.members:
            tenant.members[role] = self.user_in(tenant.org_id, role, as_token=tenant.owner.token)
        return tenant.members[role]

    def site(self, tenant: Tenant, name: str = "Cabang Utama", timezone: str = "Asia/Jakarta") -> str:
        reply = self.api.post(
            f"/v1/orgs/{tenant.org_id}/sites", {"name": name, "timezone": timezone}, token=tenant.owner.token
        )
        assert reply.status == 201, reply.body
        return str(reply.json["site_id"])

    def plan(self, tenant: Tenant, **terms: Any) -> str:
        body = {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30, **terms}
        reply = self.api.post(f"/v1/orgs/{tenant.org_id}/plans", body, token=tenant.owner.token)
        assert reply.status == 201, reply.body
        return str(reply.json["plan_id"])

    def key(self, tenant: Tenant, site_id: str, kind: str = "controller") -> tuple[str, str]:
        reply = self.api.post(
            f"/v1/orgs/{tenant.org_id}/sites/{site_id}/keys",
            {"kind": kind, "name": f"{kind} 1"},
            token=tenant.owner.token,
        )
        assert reply.status == 201, reply.body
        return reply.json["key_id"], reply.json["api_key"]


@dataclass
class Venue:
    tenant: Tenant
    site_a: str
    site_b: str
    controller_a: str
    controller_b: str
    key_id_a: str


def issue(
    api: Api, world: World, venue: Venue, quantity: int = 1, site_id: str | None = None, **terms: Any
) -> list[str]:
    plan_id = world.plan(venue.tenant, **terms)
    body: dict[str, Any] = {"plan_id": plan_id, "quantity": quantity}
    if site_id:
        body["site_id"] = site_id
    batch = api.post(f"/v1/orgs/{venue.tenant.org_id}/batches", body, token=venue.tenant.owner.token).json
    codes = api.get(f"/v1/orgs/{venue.tenant.org_id}/batches/{batch['batch_id']}/codes", token=venue.tenant.owner.token)
    return list(codes.json["codes"])


def redeem(api: Api, key: str, code: str, mac: str = MAC) -> Any:
    return api.post("/v1/redeem", {"code": code, "mac": mac}, token=key)


class FakeClock:
    """A wall clock and a monotonic clock that tests move by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)
        self.ticks = 1000.0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.ticks

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.ticks += seconds


def walk_pages(api: Api, path: str, items: str, *, token: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every item of a paged list, following next_cursor from the first page to the last, and the
    number of pages read; each page holds at most `limit` items."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    joiner = "&" if "?" in path else "?"
    while True:
        reply = api.get(f"{path}{joiner}limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token=token)
        assert reply.status == 200, reply.body
        pages += 1
        assert len(reply.json[items]) <= limit
        found.extend(reply.json[items])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return found, pages


def audit_events(org_id: str | None) -> list[dict[str, Any]]:
    """Every audit event of an org (or of the platform), oldest first, read directly."""
    from chalicelib.models import AuditEvent
    from chalicelib.models.accounts import org_pk

    return [event.attribute_values for event in AuditEvent.query(org_pk(org_id))]


def dump_app_table() -> list[dict[str, Any]]:
    """Every attribute of every item (test-only scan)."""
    import boto3

    from chalicelib.config import get_settings

    client = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=get_settings().app_table):
        items.extend(page["Items"])
    return items


def run_batch_jobs() -> int:
    """Do what the SQS-triggered worker does in production: issue every queued batch."""
    from chalicelib.api.deps import services
    from chalicelib.messaging import finish_batch_job, receive_batch_jobs

    done = 0
    while jobs := receive_batch_jobs():
        for org_id, batch_id, receipt in jobs:
            services().issuing.resume(org_id, batch_id)
            finish_batch_job(receipt)
            done += 1
    return done


def fuzz_seed(default: int) -> int:
    """The seed a randomised test runs with: `default` under `make test`, so CI is reproducible; under `make fuzz`
    (KUOTA_FUZZ=1) a new one each run unless KUOTA_FUZZ_SEED names one. The caller prints it, to reproduce a failure."""
    import os
    import random

    if os.environ.get("KUOTA_FUZZ_SEED"):
        return int(os.environ["KUOTA_FUZZ_SEED"])
    if os.environ.get("KUOTA_FUZZ") == "1":
        return random.SystemRandom().randrange(2**32)
    return default


def fuzzing() -> bool:
    """True under `make fuzz`: the randomised tests run longer."""
    import os

    return os.environ.get("KUOTA_FUZZ") == "1"
