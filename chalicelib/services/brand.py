"""The ISP's brand: set by platform admins, read by anyone (guest page, printed vouchers, console sign-in).

The logo is shown to guests, so it is checked before it is stored: a PNG by its
signature, an SVG parsed as XML with an `<svg>` root and nothing that runs or
fetches (no scripts, event handlers, foreign objects, external references, DTDs).
SVG arriving as a UTF-8 data URL is stored base64-encoded, so every stored logo is
a `data:image/...;base64,` URL an `<img>` can show as is.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from defusedxml import ElementTree
from pynamodb.exceptions import DoesNotExist

from chalicelib.auth.principal import Actor
from chalicelib.errors import ValidationFailed
from chalicelib.models.accounts import PLATFORM_PARTITION
from chalicelib.models.brand import Brand
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog

MAX_LOGO_BYTES = 100_000
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_PREFIX = "data:image/png;base64,"
SVG_PREFIX = "data:image/svg+xml;base64,"
_SVG_TEXT = re.compile(r"^data:image/svg\+xml(;charset=utf-?8|;utf8)?,", re.IGNORECASE)
SVG_NS = "{http://www.w3.org/2000/svg}"
# Elements that run code, embed other documents or pull in HTML.
_FORBIDDEN_ELEMENTS = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"})
# Raw text no logo needs: scripts in any disguise, DTDs (entity expansion), stylesheets by reference.
_FORBIDDEN_TEXT = re.compile(r"<\s*script|<!doctype|<!entity|<\?xml-stylesheet|javascript:|@import", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*([^)'\"\s]*)", re.IGNORECASE)
CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class BrandView:
    """The brand as guests and the console see it; every field null until a platform admin sets one."""

    name: str | None = None
    tagline: str | None = None
    logo: str | None = None
    colour: str | None = None

    def audit(self) -> dict[str, Any]:
        """What the audit trail keeps: the logo as its type, size and hash, never its bytes."""
        return {"name": self.name, "tagline": self.tagline, "colour": self.colour, "logo": logo_summary(self.logo)}


def logo_summary(logo: str | None) -> dict[str, Any] | None:
    if logo is None:
        return None
    kind, data = decode_logo(logo)
    return {"type": kind, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def decode_logo(logo: str) -> tuple[str, bytes]:
    """(type, decoded bytes) of a logo data URL: `png` or `svg`; ValidationFailed on anything else."""
    if logo.startswith(PNG_PREFIX):
        return "png", _b64(logo[len(PNG_PREFIX) :])
    if logo.startswith(SVG_PREFIX):
        return "svg", _b64(logo[len(SVG_PREFIX) :])
    text = _SVG_TEXT.match(logo)
    if text:
        return "svg", urllib.parse.unquote_to_bytes(logo[text.end() :])
    raise _bad("a data URL of a PNG or an SVG (data:image/png;base64,... or data:image/svg+xml;base64,...)")


def _b64(payload: str) -> bytes:
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _bad("its base64 data is not valid") from exc


def _bad(reason: str) -> ValidationFailed:
    return ValidationFailed(f"logo: {reason}", field="logo")


def check_logo(logo: str) -> str:
    """The logo as stored (SVG re-encoded base64), after its checks; ValidationFailed naming `logo`."""
    kind, data = decode_logo(logo)
    if not data:
        raise _bad("the image is empty")
    if len(data) > MAX_LOGO_BYTES:
        raise _bad(f"the image is {len(data):,} bytes; at most {MAX_LOGO_BYTES:,}")
    if kind == "png":
        if not data.startswith(PNG_SIGNATURE):
            raise _bad("the data is not a PNG image")
        return logo
    check_svg(data)
    return SVG_PREFIX + base64.b64encode(data).decode("ascii")


def check_svg(data: bytes) -> None:
    """An SVG a guest's browser may show: well-formed XML, an <svg> root, nothing that runs or fetches."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad("the SVG is not UTF-8 text") from exc
    found = _FORBIDDEN_TEXT.search(text)
    if found:
        raise _bad(f"the SVG contains {found.group(0)!r}, which a logo may not have")
    try:
        root = ElementTree.fromstring(text)  # defusedxml: entities and DTDs refused even if the check above missed one
    except ElementTree.ParseError as exc:
        raise _bad(f"the SVG is not well-formed XML ({exc})") from exc
    if _local(root.tag) != "svg" or (root.tag.startswith("{") and not root.tag.startswith(SVG_NS)):
        raise _bad("the SVG's root element must be <svg>")
    for element in root.iter():
        tag = _local(element.tag)
        if tag.lower() in _FORBIDDEN_ELEMENTS:
            raise _bad(f"the SVG may not contain <{tag}>")
        for attribute, value in element.attrib.items():
            name = _local(attribute).lower()
            if name.startswith("on"):
                raise _bad(f"the SVG may not have event handlers ({_local(attribute)}=)")
            if name == "href" and not value.strip().startswith("#"):
                raise _bad('the SVG may only link to its own parts (href="#..."), not to other addresses')
            if name == "style":
                _check_css(value)
        if tag == "style":
            _check_css(element.text or "")


def _check_css(css: str) -> None:
    for reference in _CSS_URL.findall(css):
        if not reference.startswith("#"):
            raise _bad("the SVG's styles may not load anything (url(...) to another address)")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1]


def _view(item: Brand | None) -> BrandView:
    if item is None:
        return BrandView()
    return BrandView(name=item.name, tagline=item.tagline, logo=item.logo, colour=item.colour)


class BrandService:
    """Reads are served from a short in-process cache: every guest page and sign-in screen asks."""

    def __init__(self, audit: AuditLog, clock: Clock = utc_now, monotonic: Callable[[], float] | None = None) -> None:
        import time

        self._audit = audit
        self._clock = clock
        self._monotonic = monotonic or time.monotonic
        self._lock = threading.Lock()
        self._cached: tuple[float, BrandView] | None = None

    def get(self) -> BrandView:
        now = self._monotonic()
        with self._lock:
            cached = self._cached
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        view = _view(self._item())
        with self._lock:
            self._cached = (now, view)
        return view

    def _item(self) -> Brand | None:
        try:
            return Brand.get(PLATFORM_PARTITION, Brand.SK)
        except DoesNotExist:
            return None

    def set(self, actor: Actor, *, name: str, tagline: str | None, logo: str | None, colour: str | None) -> BrandView:
        """Replace the brand (fields left out are cleared); audited as a platform change."""
        stored_logo = check_logo(logo) if logo else None
        current = self._item()
        before = _view(current)
        item = Brand(
            name=name,
            tagline=tagline or None,
            logo=stored_logo,
            colour=colour.lower() if colour else None,
            updated_at=self._clock(),
            updated_by=_who(actor),
        )
        if current is not None:
            item.version = current.version  # the save's guard: nobody saved in between
        after = _view(item)
        event = self._audit.event(
            actor, org_id=None, action="platform.brand.set", target_type="brand", target_id="brand",
            before=before.audit() if current is not None else None, after=after.audit(),
        )  # fmt: skip
        self._audit.save_with_event(
            item, event, conflict="Another platform admin changed the brand meanwhile; reload and try again."
        )
        with self._lock:
            self._cached = (self._monotonic(), after)
        return after


def _who(actor: Actor) -> str | None:
    principal = actor.principal
    return (principal.email or principal.id) if principal else None
