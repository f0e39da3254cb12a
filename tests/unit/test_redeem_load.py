"""The redeem's lean item loader gives the same voucher as PynamoDB's own `from_raw_data`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from chalicelib.models import Voucher
from chalicelib.models.redeem import NOT_LOADED, _load
from chalicelib.services.issuing import voucher_item

TERMS = {
    "plan_id": "p1", "name": "1 Jam", "price": 5000, "duration_minutes": 60, "time_mode": "wallclock",
    "validity_days": 30, "max_devices": 2, "data_quota_mb": 500, "rate_up_kbps": 512, "rate_down_kbps": 2048,
}  # fmt: skip


def _stored(**changes: object) -> dict[str, dict[str, object]]:
    now = datetime(2026, 12, 2, 10, tzinfo=UTC)
    voucher = voucher_item(org_id="o1", code="ABCD2345EF", source_id="b1", site_id="s1", terms=TERMS, issued_at=now,
                           valid_until=now + timedelta(days=30))  # fmt: skip
    for name, value in changes.items():
        setattr(voucher, name, value)
    return voucher.serialize()


def _same(item: dict[str, dict[str, object]]) -> None:
    expected = Voucher.from_raw_data({name: value for name, value in item.items() if name not in NOT_LOADED})
    assert _load(item).attribute_values == expected.attribute_values


def test_an_issued_voucher_loads_the_same() -> None:
    _same(_stored())


def test_an_active_voucher_with_devices_sessions_and_outbox_loads_the_same() -> None:
    item = _stored(status="active", activated_at=1796200000, expires_at=1796203600, devices={"a" * 64, "b" * 64},
                   used_bytes=1234, sessions={"s1": {"s": 60, "b": 1234}}, pending_audit=['{"event_id":"e1"}'],
                   history=[{"at": 1, "event": "extended"}], gsi1pk="OUTBOX#1", rev_amount=5000)  # fmt: skip
    _same(item)
    assert _load(item).sessions is None and _load(item).pending_audit is None  # never loaded on this path


def test_a_null_attribute_is_not_set() -> None:
    item = _stored()
    item["rate_up_kbps"] = {"NULL": True}
    _same(item)
