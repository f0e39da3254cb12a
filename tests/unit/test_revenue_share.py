"""The arithmetic of revenue shares and report lines, without storage."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.reporting import line_kind, month_range
from chalicelib.services.settlement import Share, basis_points, share_of, share_on


def test_a_percent_has_at_most_two_decimals_and_lies_between_0_and_100() -> None:
    assert basis_points(Decimal("12.5")) == 1250
    assert basis_points(Decimal("7.77")) == 777
    assert basis_points(Decimal("0")) == 0 and basis_points(Decimal("100")) == 10_000
    for bad in ("12.345", "100.01", "-0.01"):
        with pytest.raises(ValidationFailed):
            basis_points(Decimal(bad))


def test_the_isp_share_is_rounded_once_to_the_rupiah_halves_away_from_zero() -> None:
    # 5,000 at 7.77 % is 388.5: 389, and -389 for a net loss; three such days are 1,165.5: 1,166 (not 3 x 389).
    assert share_of(5000 * 777) == 389
    assert share_of(-5000 * 777) == -389
    assert share_of(3 * 5000 * 777) == 1166
    assert share_of(4999 * 1000) == 500  # 499.9
    assert share_of(4994 * 1000) == 499  # 499.4


def _share(day: str, points: int, set_at: str = "2026-01-01T00:00:00") -> Share:
    return Share("org", date.fromisoformat(day), points, "kontrak", set_at, "admin@example.com")


def test_the_share_in_force_is_the_latest_effective_one_and_of_two_the_last_set() -> None:
    history = [
        _share("2026-10-01", 1000),
        _share("2026-11-16", 1250),
        _share("2026-11-16", 1300, set_at="2026-11-20T00:00:00"),  # a correction for the same day
    ]
    assert share_on(history, date(2026, 9, 30)) is None
    assert share_on(history, date(2026, 11, 15)).points == 1000  # type: ignore[union-attr]
    assert share_on(history, date(2026, 11, 16)).points == 1300  # type: ignore[union-attr]


def test_reversals_are_told_apart_by_kind_and_older_lines_by_sign() -> None:
    assert line_kind("refund", -5000) == "refund"
    assert line_kind("void", -5000) == "void"
    assert line_kind(None, -5000) == "void"  # a reversal written before lines had a kind
    assert line_kind(None, 5000) == line_kind("sale", 5000) == line_kind("redeem_sale", 5000) == "sale"


def test_a_month_is_its_first_to_its_last_day() -> None:
    assert month_range("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_range("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    for bad in ("2026-13", "2026-00", "2026-1", "26-01"):
        with pytest.raises(ValidationFailed):
            month_range(bad)
