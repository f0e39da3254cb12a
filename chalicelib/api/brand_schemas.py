"""Request and response models of the ISP's brand."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import Out, Strict

Colour = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$")]


class BrandIn(Strict):
    """The whole brand: a field left out (or null) is cleared."""

    name: str = Field(min_length=1, max_length=60, description="The ISP's name, shown to every guest")
    tagline: str | None = Field(default=None, max_length=120)
    # The service checks the decoded image (<= 100,000 bytes, PNG signature, a safe SVG); this only bounds the text.
    logo: str | None = Field(
        default=None, max_length=300_000,
        description="data:image/png;base64,..., data:image/svg+xml;base64,... or a UTF-8 SVG data URL; "
        "<= 100,000 bytes decoded; SVGs without scripts, event handlers or external references",
    )  # fmt: skip
    colour: Colour | None = Field(default=None, description="#rrggbb")


class BrandOut(Out):
    name: str | None = Field(description="null until a platform admin sets the brand (then show no ISP mark)")
    tagline: str | None
    logo: str | None = Field(description="A data: URL (PNG, or SVG base64-encoded)")
    colour: str | None = Field(description="#rrggbb, lower case")
