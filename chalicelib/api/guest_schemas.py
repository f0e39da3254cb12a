"""Request and response models of the guest page's routes (anyone holding a code)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

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


class GuestStatusOut(Out):
    """Only what the guest needs: nothing about the plan's price, the sale or the venue."""

    status: Literal["unused", "active", "paused", "expired", "exhausted", "revoked"]
    expires_at: datetime | None = Field(description="Active: when time runs out. Unused: the last moment to start it.")
    seconds_left: int
    data_remaining_bytes: int | None
    devices_used: int
    max_devices: int
    devices: list[DeviceSlotOut]
