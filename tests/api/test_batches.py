"""Batches: issued once, unique, resumable; codes shown only on an audited export."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.codes import normalise
from tests.support import Api, Tenant, World, audit_events, dump_app_table, run_batch_jobs, walk_pages


def _batch(api: Api, tenant: Tenant, **body: Any) -> Any:
    return api.post(f"/v1/orgs/{tenant.org_id}/batches", body, token=tenant.owner.token)


def _codes(api: Api, tenant: Tenant, batch_id: str) -> list[str]:
    reply = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch_id}/codes", token=tenant.owner.token)
    assert reply.status == 200, reply.body
    return list(reply.json["codes"])


def test_a_small_batch_is_issued_in_the_request(api: Api, world: World) -> None:
    tenant = world.org()
    plan_id = world.plan(tenant)
    reply = _batch(api, tenant, plan_id=plan_id, quantity=20)
    assert reply.status == 201, reply.body
    assert reply.json["status"] == "done" and reply.json["issued"] == 20
    assert reply.json["entropy_bits"] == 50.0 and reply.json["warnings"] == []

    codes = _codes(api, tenant, reply.json["batch_id"])
    assert len(codes) == len(set(codes)) == 20
    assert all(len(code) == 12 and code[4] == "-" for code in codes)  # K7QF-M2XD-9P
    assert "batch.codes_exported" in [event["action"] for event in audit_events(tenant.org_id)]


def test_no_readable_code_is_stored(api: Api, world: World) -> None:
    tenant = world.org()
    batch = _batch(api, tenant, plan_id=world.plan(tenant), quantity=50).json
    dump = str(dump_app_table())
    for code in _codes(api, tenant, batch["batch_id"]):
        assert normalise(code) not in dump and code not in dump


def test_a_large_batch_runs_in_the_background_with_progress(api: Api, world: World) -> None:
    tenant = world.org()
    reply = _batch(api, tenant, plan_id=world.plan(tenant), quantity=1200)
    assert reply.status == 202
    assert reply.json["status"] == "pending" and reply.json["issued"] == 0
    path = f"/v1/orgs/{tenant.org_id}/batches/{reply.json['batch_id']}"
    assert api.get(path + "/codes", token=tenant.owner.token).status == 409  # not yet

    assert run_batch_jobs() == 1
    done = api.get(path, token=world.member(tenant, "cashier").token).json
    assert (done["status"], done["issued"]) == ("done", 1200)
    assert len(set(_codes(api, tenant, reply.json["batch_id"]))) == 1200


def test_terms_are_copied_so_editing_the_plan_changes_nothing_sold(api: Api, world: World) -> None:
    tenant = world.org()
    plan_id = world.plan(tenant, price=5000)
    batch = _batch(api, tenant, plan_id=plan_id, quantity=3).json
    api.patch(f"/v1/orgs/{tenant.org_id}/plans/{plan_id}", {"price": 9000}, token=tenant.owner.token)
    vouchers = [item for item in dump_app_table() if item["PK"]["S"].startswith("V#")]
    assert len(vouchers) == 3
    assert {item["price"]["N"] for item in vouchers} == {"5000"}
    assert {item["source_id"]["S"] for item in vouchers} == {batch["batch_id"]}


def test_prefix_alphabet_and_length(api: Api, world: World) -> None:
    tenant = world.org()
    reply = _batch(api, tenant, plan_id=world.plan(tenant), quantity=5, alphabet="digits", code_length=8, prefix="kopi")
    assert reply.status == 201
    assert reply.json["warnings"]  # 26.6 bits
    codes = [normalise(code) for code in _codes(api, tenant, reply.json["batch_id"])]
    assert all(code.startswith("K0P1") and code[4:].isdigit() and len(code) == 12 for code in codes)


def test_a_shape_that_could_repeat_earlier_codes_is_refused(api: Api, world: World) -> None:
    tenant = world.org()
    plan_id = world.plan(tenant)
    assert _batch(api, tenant, plan_id=plan_id, quantity=2, alphabet="mixed", code_length=8).status == 201
    clash = _batch(api, tenant, plan_id=plan_id, quantity=2, alphabet="digits", code_length=8)
    assert (clash.status, clash.error_code) == (409, "conflict")
    # The same shape again shares its counter and is fine; so is another organisation.
    assert _batch(api, tenant, plan_id=plan_id, quantity=2, alphabet="mixed", code_length=8).status == 201
    other = world.org("Other")
    assert _batch(api, other, plan_id=world.plan(other), quantity=2, alphabet="digits", code_length=8).status == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": 100_001}, "quantity"),
        ({"quantity": 1, "code_length": 5}, "code_length"),
        ({"quantity": 1, "code_length": 17}, "code_length"),
        ({"quantity": 1, "alphabet": "emoji"}, "alphabet"),
        ({"quantity": 1, "prefix": "KU"}, "prefix"),
        ({"quantity": 1, "prefix": "K-1"}, "prefix"),
    ],
)
def test_invalid_batches_name_the_field(api: Api, world: World, body: dict[str, Any], field: str) -> None:
    tenant = world.org()
    reply = _batch(api, tenant, plan_id=world.plan(tenant), **body)
    assert (reply.status, reply.json["error"]["field"]) == (400, field)
    assert not [item for item in dump_app_table() if item["PK"]["S"].startswith("V#")]


def test_a_shape_that_could_repeat_till_codes_is_refused_before_any_sale(api: Api, world: World) -> None:
    tenant = world.org()
    clash = _batch(api, tenant, plan_id=world.plan(tenant), quantity=2, alphabet="digits", code_length=10)
    assert (clash.status, clash.json["error"]["field"]) == (409, "code_length")
    assert "10 mixed" in clash.json["error"]["message"]


def test_unknown_or_archived_plan_and_foreign_site(api: Api, world: World) -> None:
    tenant, other = world.org("A"), world.org("B")
    assert _batch(api, tenant, plan_id="nope", quantity=1).status == 404
    assert _batch(api, tenant, plan_id=world.plan(tenant), site_id=world.site(other), quantity=1).status == 404
    plan_id = world.plan(tenant)
    api.post(f"/v1/orgs/{tenant.org_id}/plans/{plan_id}/archive", token=tenant.owner.token)
    assert _batch(api, tenant, plan_id=plan_id, quantity=1).status == 409


def test_the_sqs_worker_issues_a_queued_batch(api: Api, world: World) -> None:
    """The Lambda behind the queue, called as SQS would call it."""
    import json

    from chalicelib.messaging import finish_batch_job, receive_batch_jobs

    tenant = world.org()
    reply = _batch(api, tenant, plan_id=world.plan(tenant), quantity=600)
    assert reply.status == 202
    ((org_id, batch_id, receipt),) = receive_batch_jobs()
    event = api.client.events.generate_sqs_event(
        message_bodies=[json.dumps({"org_id": org_id, "batch_id": batch_id})]
    )
    api.client.lambda_.invoke("issue_batches", event)
    finish_batch_job(receipt)
    done = api.get(f"/v1/orgs/{tenant.org_id}/batches/{batch_id}", token=tenant.owner.token).json
    assert (done["status"], done["issued"]) == ("done", 600)


def test_make_dev_queues_again_a_batch_its_restart_lost(api: Api, world: World) -> None:
    """make dev's queue lives in memory: a batch waiting in it at Ctrl-C is queued again at the next start."""
    from chalicelib.api import deps
    from chalicelib.messaging import finish_batch_job, receive_batch_jobs
    from infra.dev import _requeue_unfinished_batches

    tenant = world.org()
    waiting = _batch(api, tenant, plan_id=world.plan(tenant), quantity=600).json["batch_id"]
    done = _batch(api, tenant, plan_id=world.plan(tenant), quantity=2).json["batch_id"]
    for _, _, receipt in receive_batch_jobs():  # the restart: the queue's messages are gone
        finish_batch_job(receipt)

    _requeue_unfinished_batches(deps.services())
    assert run_batch_jobs() == 1  # the waiting batch, not the one that was done
    reply = api.get(f"/v1/orgs/{tenant.org_id}/batches/{waiting}", token=tenant.owner.token).json
    assert (reply["status"], reply["issued"]) == ("done", 600)
    assert api.get(f"/v1/orgs/{tenant.org_id}/batches/{done}", token=tenant.owner.token).json["status"] == "done"


def test_the_batch_list_comes_a_page_at_a_time_each_batch_once(api: Api, world: World) -> None:
    tenant, other = world.org(), world.org()
    plan_id = world.plan(tenant)
    made = {_batch(api, tenant, plan_id=plan_id, quantity=1).json["batch_id"] for _ in range(5)}
    path = f"/v1/orgs/{tenant.org_id}/batches"
    listed, pages = walk_pages(api, path, "batches", token=world.member(tenant, "cashier").token, limit=2)
    assert pages >= 3 and len(listed) == 5 and {batch["batch_id"] for batch in listed} == made
    whole = api.get(path, token=tenant.owner.token).json  # the default page holds them all
    assert len(whole["batches"]) == 5 and whole["next_cursor"] is None

    _batch(api, other, plan_id=world.plan(other), quantity=1)
    _batch(api, other, plan_id=world.plan(other), quantity=1)
    foreign = api.get(f"/v1/orgs/{other.org_id}/batches?limit=1", token=other.owner.token).json["next_cursor"]
    assert foreign
    reply = api.get(f"{path}?cursor={foreign}", token=tenant.owner.token)
    assert (reply.status, reply.error_code, reply.json["error"]["field"]) == (400, "validation_error", "cursor")
