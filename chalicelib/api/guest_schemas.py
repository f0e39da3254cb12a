"""Request and response models of the guest page's routes (anyone holding a code)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_serializer

from chalicelib.api.schemas import Code, DeviceSlotOut, Out, Strict

OrgId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"),
    Field(description="The venue's organisation (from the guest page's address): codes are unique per organisation."),
]
Slot = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]


class GuestStatusIn(Strict):
    code: Code
    org_id: OrgId


class GuestReleaseIn(Strict):
    code: Code
    org_id: OrgId
    slot: Slot = Field(description="A `slot` from the status answer's `devices`.")


class GuestWindowOut(Out):
    closes_at: datetime | None = Field(description="When the window open now closes (null: closed now)")
    next_opens_at: datetime | None = Field(description="When the next window opens")


class GuestPeriodOut(Out):
    data_remaining_bytes: int = Field(description="Left in this period (today, this week or month)")
    resets_at: datetime = Field(description="When the next period starts (local midnight)")


class GuestPauseOut(Out):
    allowed: bool = Field(description="Whether the guest may pause (or, paused, resume) it now")
    pauses_left: int


class GuestPauseIn(Strict):
    code: Code
    org_id: OrgId


class GuestPauseStateOut(Out):
    status: str
    expires_at: datetime | None


class GuestStatusOut(Out):
    """Only what the guest needs: nothing about the plan's price, the sale or the venue."""

    status: Literal["unused", "active", "paused", "expired", "exhausted", "revoked"]
    expires_at: datetime | None = Field(description="Active: when time runs out. Unused: the last moment to start it.")
    seconds_left: int
    data_remaining_bytes: int | None
    devices_used: int
    max_devices: int
    devices: list[DeviceSlotOut]
    window: GuestWindowOut | None = Field(None, description="Only when its plan has time windows")
    period: GuestPeriodOut | None = Field(None, description="Only when its plan has data per period")
    pause: GuestPauseOut | None = Field(None, description="Only when its plan can be paused")

    @model_serializer(mode="wrap")
    def _only_what_the_plan_has(self, handler):  # type: ignore[no-untyped-def]
        """The contract sends `window`, `period` and `pause` only where the plan has them."""
        data = handler(self)
        for name in ("window", "period", "pause"):
            if data.get(name) is None:
                data.pop(name, None)
        return data
