"""Schema fuzzing: schemathesis drives every operation of `/v1/openapi.json` on the local API server as every kind
of caller (each role of one organization, the platform admin, each kind of API key, nobody).

Every response, errors included, must be documented (status code, content type, body schema) and none may be a
5xx. A second organization lives through the run: its items are identical afterwards and no response to the first
organization's callers (or to nobody) names any of its ids.

`make test` runs a bounded, seeded number of examples per operation and caller; `make fuzz` many more with a random
seed (printed, to reproduce with KUOTA_FUZZ_SEED).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.api.http import ROUTES, RouteSpec
from tests.api.local_server import LocalServer
from tests.support import Api, Tenant, World, audit_events, dump_app_table, fuzz_seed, fuzzing, run_batch_jobs

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Examples per operation for each caller the route admits. A caller it refuses (wrong kind of credential, role or
# key kind) is answered 401/403 before its inputs are read: 50 of those each (what the issue asks for every
# operation and caller) say as much under `make fuzz` too.
EXAMPLES = int(os.environ.get("KUOTA_FUZZ_EXAMPLES") or (200 if fuzzing() else 50))
REFUSED_EXAMPLES = 50


@dataclass
class Org:
    """One organization's objects, by the path parameter names that reach them."""

    tenant: Tenant
    ids: dict[str, list[str]] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)  # kind -> plaintext API key
    secrets: set[str] = field(default_factory=set)  # every id and code: none may leak to another org's callers

    def add(self, name: str, value: str) -> str:
        self.ids.setdefault(name, []).append(value)
        self.secrets.add(value)
        return value


def _populate(world: World, api: Api, name: str) -> Org:
    """An org with a site, a plan, an issued batch, sold vouchers, a console sale and a key of each kind."""
    tenant = world.org(name)
    org = Org(tenant)
    org.add("org_id", tenant.org_id)
    owner = tenant.owner.token
    for role in ("manager", "cashier", "auditor"):
        org.add("user_id", world.member(tenant, role).user_id)
    org.add("user_id", tenant.owner.user_id)
    org.secrets.update(member.email for member in tenant.members.values())
    site_id = org.add("site_id", world.site(tenant, f"{name} pusat"))
    plan_id = org.add("plan_id", world.plan(tenant))
    for kind in ("controller", "pos"):
        key_id, key = world.key(tenant, site_id, kind=kind)
        org.add("key_id", key_id)
        org.keys[kind] = key
    radius = api.post(f"/v1/orgs/{tenant.org_id}/keys", {"kind": "radius", "name": "FreeRADIUS"}, token=owner)
    assert radius.status == 201, radius.body
    org.add("key_id", radius.json["key_id"])
    org.keys["radius"] = radius.json["api_key"]
    batch = api.post(f"/v1/orgs/{tenant.org_id}/batches", {"plan_id": plan_id, "quantity": 3, "site_id": site_id},
                     token=owner)  # fmt: skip
    assert batch.status in (201, 202), batch.body
    run_batch_jobs()
    batch_id = org.add("batch_id", batch.json["batch_id"])
    codes = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch_id}/codes", token=owner)
    assert codes.status == 200, codes.body
    for code in codes.json["codes"]:
        org.add("code", code)
    sale = api.post("/v1/pos/sales", {"plan_id": plan_id, "quantity": 1}, token=org.keys["pos"],
                    headers={"Idempotency-Key": "receipt-1"})  # fmt: skip
    assert sale.status == 201, sale.body
    org.add("sale_id", sale.json["sale_id"])
    for line in sale.json["vouchers"]:
        org.add("code", line["code"])
    shift = api.post(f"/v1/orgs/{tenant.org_id}/shifts", {"site_id": site_id},
                     token=world.member(tenant, "cashier").token)  # fmt: skip
    if shift.status == 201:
        org.add("shift_id", shift.json["shift_id"])
    org.ids.setdefault("slot", ["0", "1"])
    org.ids.setdefault("provider", ["midtrans", "xendit"])
    return org


def _snapshot(org: Org) -> list[str]:
    """Every stored item (app, audit and idempotency tables) that names one of the org's ids, canonically."""
    import boto3

    from chalicelib.config import get_settings

    settings = get_settings()
    client = boto3.client("dynamodb")
    ids = {org.tenant.org_id, *org.secrets}
    items = list(dump_app_table())
    for table in (settings.audit_table, settings.idempotency_table):
        for page in client.get_paginator("scan").paginate(TableName=table):
            items.extend(page["Items"])
    rows = [json.dumps(item, sort_keys=True) for item in items]
    return sorted(row for row in rows if any(value in row for value in ids))


@pytest.fixture
def quiet_requests() -> Iterator[None]:
    """Tens of thousands of request log lines say nothing here; errors (an unhandled exception) still show."""
    from chalicelib.observability import get_logger

    logger = get_logger()
    level = logger.log_level
    logger.setLevel("WARNING")
    yield
    logger.setLevel(level)


@dataclass
class Tally:
    examples: Counter[tuple[str, str]] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    reached: Counter[str] = field(default_factory=Counter)  # per caller: answers past authentication and role
    failures: dict[tuple[str, str, str], str] = field(default_factory=dict)


def test_every_operation_as_every_caller_conforms_and_stays_in_its_tenant(
    world: World, api: Api, server: LocalServer, quiet_requests: None
) -> None:
    seed = fuzz_seed(20261202)
    print(f"\nschema fuzz seed: {seed} (KUOTA_FUZZ_SEED={seed} to reproduce); examples per operation: {EXAMPLES} for "
          f"each caller it admits, {REFUSED_EXAMPLES} for each it refuses")  # fmt: skip
    mine = _populate(world, api, "Warung Satu")
    other = _populate(world, api, "Warung Dua")
    other_before = _snapshot(other)
    other_audit_before = json.dumps(audit_events(other.tenant.org_id), sort_keys=True, default=str)
    assert other_before, "the second organization has stored items to compare"

    base_url = f"http://127.0.0.1:{server.port}"
    schema = schemathesis.openapi.from_url(f"{base_url}/v1/openapi.json", config=schemathesis.Config())
    callers: dict[str, str | None] = {
        "platform_admin": world.admin.token,
        **{role: world.member(mine.tenant, role).token for role in ("owner", "manager", "cashier", "auditor")},
        **{f"{kind}_key": key for kind, key in mine.keys.items()},
        "nobody": None,
    }
    session = requests.Session()
    session.trust_env = False  # no proxy settings to look up on every request (they cost ~10 ms each)
    tally = Tally()
    started = time.monotonic()
    results = list(schema.get_all_operations())
    assert all(isinstance(result, Ok) for result in results), "every operation of the document loads"
    operations = sorted((result.ok() for result in results if isinstance(result, Ok)), key=_order)
    # Schemathesis leaves out the document it loaded the schema from (GET /v1/openapi.json, which takes no input).
    undocumented = {f"{spec.method} {spec.path}" for spec in ROUTES} - {operation.label for operation in operations}
    undocumented.discard("GET /v1/openapi.json")
    assert not undocumented, f"routes the served document leaves out: {undocumented}"
    # KUOTA_FUZZ_ONLY=<part of a label> narrows a run to the operations it names (to reproduce one failure).
    operations = [op for op in operations if os.environ.get("KUOTA_FUZZ_ONLY", "") in op.label]
    for operation in operations:
        _fuzz(operation, callers, mine, other, base_url, session, tally, seed)
    elapsed = time.monotonic() - started

    total = sum(tally.examples.values())
    admitted = {pair: count for pair, count in tally.examples.items() if _admits(_spec(pair[0]), pair[1])}
    short = sorted({label for (label, _), count in admitted.items() if count < EXAMPLES})
    print(f"schema fuzz: {len(operations)} operations x {len(callers)} callers ({len(admitted)} pairs admitted, "
          f"{sum(admitted.values())} requests), {total} requests in {elapsed:.0f}s "
          f"({1000 * elapsed / max(total, 1):.1f} ms each), {len(tally.failures)} failures")  # fmt: skip
    print(f"  statuses: {dict(sorted(tally.statuses.items()))}")
    print(f"  past authentication and role, per caller: {dict(tally.reached)}")
    print(f"  fewer than {EXAMPLES} distinct examples (too few inputs to vary): {len(short)} operations: {short}")
    for (label, caller, check), detail in sorted(tally.failures.items()):
        print(f"FAIL {label} as {caller}: {check}: {detail}")

    # At least 50 examples per operation and caller, but where the operation takes no input to vary.
    thin = sorted(f"{label} as {caller}: {count}" for (label, caller), count in tally.examples.items()
                  if count < min(EXAMPLES, REFUSED_EXAMPLES) and _takes_input(_spec(label)))  # fmt: skip
    assert len(tally.examples) == len(operations) * len(callers) and not thin, thin
    assert _snapshot(other) == other_before, "fuzzing the first organization changed the second's data"
    assert json.dumps(audit_events(other.tenant.org_id), sort_keys=True, default=str) == other_audit_before
    assert not tally.failures


def _order(operation: Any) -> tuple[int, str]:
    """Reads first, then writes, then deletes, and a tenant's lifecycle stage last: a fuzzed request that revokes
    a key or ends the organization leaves the rest of the run less to reach."""
    method, path = operation.method.upper(), operation.path
    rank = 3 if path.endswith("/stage") else 2 if method == "DELETE" else 0 if method == "GET" else 1
    return rank, operation.label


def _spec(label: str) -> RouteSpec:
    method, path = label.split(" ", 1)
    return next(spec for spec in ROUTES if (spec.method, spec.path) == (method, path))


def _takes_input(spec: RouteSpec) -> bool:
    """Whether a request to the route has anything to vary (path, query, body or a documented header)."""
    return bool("{" in spec.path or spec.query or spec.body or spec.content_types or spec.idempotency)


def _admits(spec: RouteSpec, caller: str) -> bool:
    """Whether the route lets this caller past authentication and role (its inputs are read)."""
    if caller == "nobody" or spec.auth == "none":
        return spec.auth == "none" and caller == "nobody"
    if caller.endswith("_key"):
        return spec.auth in ("api_key", "any") and (spec.key_kinds is None or caller[:-4] in spec.key_kinds)
    if spec.auth not in ("user", "any"):
        return False
    if spec.roles is None or caller in {role.value for role in spec.roles}:
        return True
    return caller == "platform_admin" and "{org_id}" in spec.path  # acts in an org (reads) where its role may


def _fuzz(operation: Any, callers: dict[str, str | None], mine: Org, other: Org, base_url: str,
          session: requests.Session, tally: Tally, seed: int) -> None:  # fmt: skip
    """One operation: each generated request is sent once as every caller (generating is what costs)."""
    label = operation.label
    spec = _spec(label)
    sent = Counter[str]()
    strategy = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @hypothesis.seed(seed)
    @hypothesis.settings(
        max_examples=EXAMPLES,
        phases=[Phase.explicit, Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @given(case=strategy, real=st.integers(0, 3))
    def run(case: Any, real: int) -> None:
        # Most of the time a path parameter names one of this org's objects, so requests reach real ones.
        for name in list(case.path_parameters or {}):
            if real and mine.ids.get(name):
                values = mine.ids[name]
                case.path_parameters[name] = values[real % len(values)]
        if case.headers:
            case.headers.pop("Authorization", None)
        for caller, token in callers.items():
            if sent[caller] >= (EXAMPLES if _admits(spec, caller) else REFUSED_EXAMPLES):
                continue
            sent[caller] += 1
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
            tally.examples[(label, caller)] += 1
            tally.statuses[response.status_code] += 1
            if response.status_code not in (401, 403):
                tally.reached[caller] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except FailureGroup as group:  # every failure is recorded, and the run goes on
                for failure in group.exceptions:
                    tally.failures.setdefault((label, caller, failure.title), _describe(case, response, failure, mine))
            except Failure as failure:
                tally.failures.setdefault((label, caller, failure.title), _describe(case, response, failure, mine))
            if caller != "platform_admin" and any(value in response.text for value in other.secrets):
                tally.failures.setdefault((label, caller, "tenant_read"), f"{response.status_code} names another org")

    run()


def _describe(case: Any, response: Any, failure: Failure, mine: Org) -> str:
    """What failed and the request that found it, voucher codes masked (credentials are not part of the case)."""
    sent = f"{case.method} {case.formatted_path} query={case.query!r} body={str(case.body)[:200]!r}"
    text = f"{failure.message.strip()[:300]} | got {response.status_code} {response.text[:200]!r} | sent {sent}"
    for code in mine.ids.get("code", []):
        text = text.replace(code, "<code>")
    return text
