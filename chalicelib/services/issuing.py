"""Issuing vouchers: code shapes and their counters, batches small and large, resumable.

A batch takes a range of code numbers from its shape's counter when it is
created, so every retry or resume re-creates exactly the same codes and items:
writing twice changes nothing, and nothing is issued twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError

from chalicelib.auth.principal import Actor
from chalicelib.codes import CodeGenerator, CodeShape, code_hash, overlaps
from chalicelib.errors import Conflict, NotFound, ValidationFailed
from chalicelib.models import Batch, Plan, ShapeCounter, ShapeRegistry, Voucher
from chalicelib.models.base import failed_condition
from chalicelib.models.batching import WriteStats, write_items
from chalicelib.models.vouchers import expiry_shard
from chalicelib.observability import get_logger
from chalicelib.plan_rules import MB, window_hours
from chalicelib.services import Clock, epoch, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.compliance import ComplianceGate
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.plans import TERMS, plan_view
from chalicelib.services.ratelimit import Budget

SYNC_LIMIT = 500  # batches up to this size are issued within the request
CHUNK = 1000  # progress is saved after every chunk, so a resume repeats at most this many


@dataclass(frozen=True)
class BatchPage:
    batches: list[Batch]
    next_cursor: str | None


def terms_of(plan: Plan) -> dict[str, Any]:
    """What a voucher copies from its plan (not how the plan is offered: archived, sold online).

    Every new voucher comes through here, so this is where a top-up plan is refused as one.
    """
    if plan.kind == "topup":
        raise ValidationFailed("plan_id: a top-up plan is sold onto an existing code (its topup route), "
                               "not as a new voucher", field="plan_id")  # fmt: skip
    view = plan_view(plan)
    return {name: view[name] for name in ("plan_id", *TERMS)}


def voucher_item(
    *,
    org_id: str,
    code: str,
    source_id: str,
    site_id: str | None,
    terms: dict[str, Any],
    issued_at: datetime,
    valid_until: datetime,
    status: str = "issued",
) -> Voucher:
    quota = terms.get("data_quota_mb")
    windows = terms.get("windows") or None
    pause = terms.get("pause") or {}
    per_period = terms.get("period_quota_mb")
    if terms["time_mode"] == "usage":
        window = int(terms["validity_days"]) * 86400  # connected time counts; this bounds the calendar
    else:
        window = int(terms["duration_minutes"]) * 60
    return Voucher(
        *Voucher.key(code_hash(org_id, code)),
        org_id=org_id,
        source_id=source_id,
        site_id=site_id,
        plan_id=terms["plan_id"],
        plan_name=terms["name"],
        price=terms["price"],
        duration_minutes=terms["duration_minutes"],
        time_mode=terms["time_mode"],
        window_seconds=window,
        quota_bytes=quota * MB if quota else None,
        rate_up_kbps=terms.get("rate_up_kbps"),
        rate_down_kbps=terms.get("rate_down_kbps"),
        max_devices=terms["max_devices"],
        windows=windows,
        window_hours=window_hours(windows) if windows else None,
        period_quota_bytes=per_period * MB if per_period else None,
        quota_period=terms.get("quota_period") if per_period else None,
        period_used={} if per_period else None,  # exists, so that accounting can add to one of its periods
        pause_by=pause.get("by"),
        max_pauses=pause.get("max_pauses"),
        max_pause_minutes=pause.get("max_pause_minutes"),
        device_policy=terms.get("device_policy") if terms.get("device_policy") != "shared" else None,
        idle_release_minutes=terms.get("idle_release_minutes"),
        status=status,
        issued_at=epoch(issued_at),
        valid_until=epoch(valid_until),
        # What the first redeem of a printed voucher would otherwise write: its revenue line's plan,
        # amount and count (only counted once it has sales-index keys), and an empty session map.
        rev_plan=terms["plan_id"],
        rev_amount=terms["price"],
        rev_count=1,
        sessions={},
    )


class CodeShapes:
    """Each organisation's code shapes and the counters that make their codes unique."""

    def register(self, org_id: str, shape: CodeShape) -> None:
        for _ in range(5):
            try:
                registry = ShapeRegistry.get(f"ORG#{org_id}", "SHAPES", consistent_read=True)
            except DoesNotExist:
                registry = ShapeRegistry(f"ORG#{org_id}", "SHAPES", shapes=set())
            registered = registry.shapes or set()
            if shape.shape_id in registered:
                return
            # The till's shape (POS sales) is always reserved, so a batch can never block sales later.
            known = registered | {CodeShape().shape_id}
            for shape_id in known:
                if overlaps(shape, _parse_shape(shape_id)):
                    raise Conflict(
                        f"Codes of this shape could equal codes of a shape already in use ({_describe(shape_id)}); "
                        "choose another length or a prefix.",
                        field="code_length",
                    )
            registry.shapes = known | {shape.shape_id}
            try:
                registry.save()  # VersionAttribute: two new shapes at once cannot both slip in
                return
            except PutError:
                continue
        raise Conflict("Code shapes are being changed by someone else; try again.")

    def take(self, org_id: str, shape: CodeShape, count: int) -> int:
        """Reserve `count` code numbers; return the first."""
        self.register(org_id, shape)
        counter = ShapeCounter(f"ORG#{org_id}", f"SHAPE#{shape.shape_id}")
        counter.update(actions=[ShapeCounter.taken.add(count)])
        taken = int(counter.taken)
        if taken > shape.capacity:
            counter.update(actions=[ShapeCounter.taken.add(-count)])
            raise Conflict("This code shape has no codes left; choose a longer code.", field="code_length")
        return taken - count


def _parse_shape(shape_id: str) -> CodeShape:
    alphabet, length, prefix = shape_id.split("-", 2)
    return CodeShape(alphabet=alphabet, length=int(length), prefix="" if prefix == "_" else prefix)  # type: ignore[arg-type]


def _describe(shape_id: str) -> str:
    shape = _parse_shape(shape_id)
    return f"{shape.length} {shape.alphabet} characters" + (f" after {shape.prefix}" if shape.prefix else "")


class IssuingService:
    def __init__(
        self,
        audit: AuditLog,
        enqueue: Callable[[str, str], None],
        gate: ComplianceGate,
        issue_budget: Budget,
        clock: Clock = utc_now,
    ) -> None:
        self._audit = audit
        self._gate = gate
        self._issue_budget = issue_budget
        self._enqueue = enqueue
        self._clock = clock
        self.shapes = CodeShapes()

    def create_batch(
        self,
        actor: Actor,
        org_id: str,
        *,
        plan: Plan,
        site_id: str | None,
        quantity: int,
        shape: CodeShape,
    ) -> Batch:
        self._gate.require_selling(org_id, site_id)
        if plan.archived_at is not None:
            raise Conflict("This plan is archived; choose a current plan.", field="plan_id")
        if not 1 <= quantity <= 100_000:
            raise ValidationFailed("quantity: must be between 1 and 100000", field="quantity")
        # Spent before anything is written, given back if the batch is not: a refused or failed request
        # spends nothing, and a written batch has its vouchers issued (now or by the worker).
        give_back = self._issue_budget.take(f"issue:{org_id}", quantity, what="vouchers issued", field="quantity")
        try:
            batch = self._write_batch(actor, org_id, plan=plan, site_id=site_id, quantity=quantity, shape=shape)
        except Exception:
            give_back()
            raise
        if quantity <= SYNC_LIMIT:
            try:
                return self.issue(org_id, batch.batch_id)
            except Exception:
                # Nobody would resume a small batch left part-written (nor its caller, who would start
                # another): the worker finishes it as it does a large one, and the answer says it runs.
                get_logger().warning("batch left to the worker", extra={"batch_id": batch.batch_id})
                self._enqueue(org_id, batch.batch_id)
                return batch
        self._enqueue(org_id, batch.batch_id)
        return batch

    def _write_batch(
        self, actor: Actor, org_id: str, *, plan: Plan, site_id: str | None, quantity: int, shape: CodeShape
    ) -> Batch:
        first = self.shapes.take(org_id, shape, quantity)
        now = self._clock()
        batch_id = uuid.uuid4().hex[:12]
        valid_until = now + timedelta(days=int(plan.validity_days))
        batch = Batch(
            *Batch.key(org_id, batch_id),
            batch_id=batch_id,
            org_id=org_id,
            plan_id=plan.plan_id,
            site_id=site_id,
            quantity=quantity,
            issued=0,
            status="pending",
            alphabet=shape.alphabet,
            code_length=shape.length,
            prefix=shape.prefix,
            first_number=first,
            terms=terms_of(plan),
            created_at=now,
            created_by=actor.principal.id if actor.principal else "system",
            valid_until=valid_until,
            # Shelf life ends for the whole batch at once: one index entry, not one per voucher.
            gsi2pk=expiry_shard(batch_id),
            gsi2sk=epoch(valid_until),
        )
        event = self._audit.event(
            actor, org_id=org_id, action="batch.create", target_type="batch", target_id=batch_id,
            after={"plan_id": plan.plan_id, "site_id": site_id, "quantity": quantity, "shape": shape.shape_id,
                   "entropy_bits": shape.entropy_bits},
        )  # fmt: skip
        try:
            with self._audit.transaction() as tx:
                tx.save(batch, condition=Batch.pk.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                # It may have landed with its answer lost: the worker issues it then, or finds none.
                self._enqueue(org_id, batch_id)
            raise
        return batch

    def list_batches(self, org_id: str, *, limit: int, cursor: str | None = None) -> BatchPage:
        """A page of the organization's batches in key (batch id) order: ids are random, so the
        order says nothing about time; a reader wanting newest first reads every page and sorts."""
        partition, prefix = Batch.key(org_id, "")
        results = Batch.query(
            partition,
            Batch.sk.startswith(prefix),
            limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, attributes=frozenset({"PK", "SK"}), partition=("PK", partition), sort_prefix=prefix
            ),
        )
        batches = list(results)
        return BatchPage(batches=batches, next_cursor=encode_cursor(results.last_evaluated_key))

    def get_batch(self, org_id: str, batch_id: str) -> Batch:
        try:
            return Batch.get(*Batch.key(org_id, batch_id), consistent_read=True)
        except DoesNotExist as exc:
            raise NotFound("No such batch.") from exc

    def issue(self, org_id: str, batch_id: str) -> Batch:
        """Write the batch's vouchers from where it stopped; safe to call again after a failure."""
        batch = self.get_batch(org_id, batch_id)
        if batch.status == "done":
            return batch
        batch.update(actions=[Batch.status.set("running"), Batch.error.remove()])
        quantity = int(batch.quantity)
        try:
            # Each chunk is built while the one before it is written (the writer mostly waits on
            # DynamoDB), and progress is saved only once a chunk is written, so a resume repeats
            # at most one chunk.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="batch-writer") as writer:
                written = built = int(batch.issued)
                writing: Future[WriteStats] | None = None
                while written < quantity:
                    chunk = None
                    if built < quantity:
                        count = min(CHUNK, quantity - built)
                        chunk = list(self.voucher_items(batch, built, count))
                    if writing is not None:
                        writing.result()
                        written = built
                        batch.update(actions=[Batch.issued.set(written)])
                        writing = None
                    if chunk is not None:
                        writing = writer.submit(write_items, Voucher, chunk)
                        built += len(chunk)
        except Exception as exc:
            batch.update(actions=[Batch.status.set("failed"), Batch.error.set(type(exc).__name__)])
            raise
        batch.update(actions=[Batch.status.set("done")])
        return batch

    def resume(self, org_id: str, batch_id: str) -> Batch | None:
        """The worker's job: finish the batch from where it stopped; None when its creation never landed."""
        try:
            return self.issue(org_id, batch_id)
        except NotFound:
            return None

    def codes(self, batch: Batch, start: int = 0, count: int | None = None) -> Iterator[str]:
        generator = CodeGenerator(batch.org_id, _batch_shape(batch))
        end = int(batch.quantity) if count is None else min(int(batch.quantity), start + count)
        for index in range(start, end):
            yield generator.code(int(batch.first_number) + index)

    def voucher_items(self, batch: Batch, start: int, count: int) -> Iterator[dict[str, Any]]:
        """The batch's vouchers start..start+count, serialized for BatchWriteItem.

        They differ only in their key, so one voucher is built and serialized and
        the rest are copies with their own key (building a model per code would
        cost more than writing it).
        """
        template: dict[str, Any] | None = None
        for code in self.codes(batch, start, count):
            key = Voucher.key(code_hash(batch.org_id, code))[0]
            if template is None:
                template = voucher_item(
                    org_id=batch.org_id,
                    code=code,
                    source_id=batch.batch_id,
                    site_id=batch.site_id,
                    terms=batch.terms,
                    issued_at=batch.created_at,
                    valid_until=batch.valid_until,
                ).serialize()
            yield {**template, "PK": {"S": key}}

    def export_codes(self, actor: Actor, org_id: str, batch_id: str) -> list[str]:
        batch = self.get_batch(org_id, batch_id)
        if batch.status != "done":
            raise Conflict("The batch is still being issued; its codes are available when it is done.")
        self._audit.record(
            self._audit.event(
                actor,
                org_id=org_id,
                action="batch.codes_exported",
                target_type="batch",
                target_id=batch_id,
                after={"count": int(batch.quantity)},
            )
        )
        return list(self.codes(batch))


def _batch_shape(batch: Batch) -> CodeShape:
    return CodeShape(alphabet=batch.alphabet, length=int(batch.code_length), prefix=batch.prefix)  # type: ignore[arg-type]
