"""Domain services: business rules, no Chalice imports, storage through chalicelib.models."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def epoch(at: datetime) -> int:
    """Whole seconds since 1970: how items store times, so one UpdateItem can compare them."""
    return int(at.timestamp())


def as_utc(epoch_seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None
