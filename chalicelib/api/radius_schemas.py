"""Request and response models of the RADIUS routes: radius keys, NAS registration, rlm_rest bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.api.schemas import Name, Out, Strict


class RadiusKeyIn(Strict):
    kind: Literal["radius"]
    name: Name


class RadiusKeyOut(Out):
    key_id: str
    kind: str
    name: str
    org_id: str | None
    created_at: str
    revoked_at: str | None


class RadiusKeyListOut(Out):
    keys: list[RadiusKeyOut]


# What a NAS sends as NAS-Identifier: printable ASCII, at most a RADIUS string's 253 octets.
NasIdentifier = Annotated[str, StringConstraints(min_length=1, max_length=253, pattern=r"^[\x21-\x7e][\x20-\x7e]*$")]
NasIp = Annotated[str, StringConstraints(min_length=2, max_length=45)]


class NasIn(Strict):
    name: Name
    nas_identifier: NasIdentifier | None = Field(default=None, description="NAS-Identifier (RouterOS: system identity)")
    nas_ip: NasIp | None = Field(default=None, description="NAS-IP-Address, IPv4 or IPv6")


class NasOut(Out):
    nas_id: str
    name: str
    nas_identifier: str | None
    nas_ip: str | None
    site_id: str
    created_at: str


class NasListOut(Out):
    nas: list[NasOut]


class RadiusIn(BaseModel):
    """rlm_rest's body: every attribute of the request as {"type": ..., "value": [...]}; unknown ones are ignored."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "additionalProperties": {
                "type": "object",
                "properties": {"type": {"type": "string"}, "value": {"type": "array"}},
            },
            "example": {
                "User-Name": {"type": "string", "value": ["K7QF-M2XD-9P"]},
                "User-Password": {"type": "string", "value": ["K7QF-M2XD-9P"]},
                "Calling-Station-Id": {"type": "string", "value": ["AA-BB-CC-00-11-22"]},
                "NAS-Identifier": {"type": "string", "value": ["warung-kopi-1"]},
            },
        },
    )
