from datetime import UTC, datetime

import pytest

from chalicelib.models import Site
from chalicelib.services.audit import is_off_hours


def _site(opens: str, closes: str, timezone: str = "Asia/Jakarta") -> Site:
    return Site(
        "ORG#o", "SITE#s", site_id="s", org_id="o", name="x", timezone=timezone, opens_at=opens, closes_at=closes
    )


@pytest.mark.parametrize(
    ("utc_hour", "opens", "closes", "off"),
    [
        (19, "08:00", "22:00", True),  # 02:00 WIB
        (3, "08:00", "22:00", False),  # 10:00 WIB
        (0, "08:00", "22:00", True),  # 07:00 WIB, before opening
        (15, "08:00", "22:00", True),  # 22:00 WIB, closing time itself is closed
        (12, "18:00", "02:00", False),  # 19:00 WIB, hours across midnight
        (18, "18:00", "02:00", False),  # 01:00 WIB
        (20, "18:00", "02:00", True),  # 03:00 WIB
    ],
)
def test_business_hours_in_the_sites_timezone(utc_hour: int, opens: str, closes: str, off: bool) -> None:
    at = datetime(2026, 11, 22, utc_hour, 0, tzinfo=UTC)
    assert is_off_hours(at, _site(opens, closes)) is off


def test_same_instant_differs_by_timezone() -> None:
    at = datetime(2026, 11, 22, 0, 30, tzinfo=UTC)  # 07:30 WIB, 09:30 WIT
    assert is_off_hours(at, _site("08:00", "22:00", "Asia/Jakarta")) is True
    assert is_off_hours(at, _site("08:00", "22:00", "Asia/Jayapura")) is False
