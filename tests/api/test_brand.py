"""The ISP's brand: a platform admin sets it, anyone reads it, and a logo that could run code is refused.

Guests see the logo, so the checks are the point: a PNG must be a PNG, an SVG
must be an <svg> with nothing that runs or fetches, and each refusal is a 400
naming the field the console highlights.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import urllib.parse
import zlib
from typing import Any

import pytest

from tests.support import Api, World, audit_events

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 40 40">'
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#0b5cad"/></linearGradient></defs>'
    '<circle cx="20" cy="20" r="18" fill="url(#g)"/><use xlink:href="#g"/></svg>'
)


def png(width: int = 2, height: int = 2, padding: int = 0) -> bytes:
    """A real (tiny) PNG; `padding` bytes of a private ancillary chunk make it as large as a test needs."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x0b\x5c\xad" * width for _ in range(height))
    extra = chunk(b"zzZz", b"\x00" * padding) if padding else b""
    body = chunk(b"IHDR", header) + extra + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def data_url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64,{base64.b64encode(data).decode()}"


def put_brand(api: Api, token: str, **fields: Any) -> Any:
    body = {"name": "NusaNet", "tagline": "Internet resmi untuk tempat Anda", "colour": "#0B5CAD", **fields}
    return api.call("PUT", "/v1/platform/brand", token=token, json_body=body)


def test_before_any_brand_is_set_every_field_is_null_and_anyone_may_read_it(api: Api) -> None:
    reply = api.get("/v1/brand")
    assert reply.status == 200
    assert reply.json == {"name": None, "tagline": None, "logo": None, "colour": None}
    assert reply.headers["Cache-Control"] == "public, max-age=60"


def test_a_platform_admin_sets_the_brand_and_guests_read_it_without_signing_in(api: Api, world: World) -> None:
    logo = data_url("png", png())
    reply = put_brand(api, world.admin.token, logo=logo)
    assert reply.status == 200, reply.body
    stored = {"name": "NusaNet", "tagline": "Internet resmi untuk tempat Anda", "logo": logo, "colour": "#0b5cad"}
    assert reply.json == stored
    public = api.get("/v1/brand")  # no token: the guest page and the sign-in screen
    assert public.status == 200 and public.json == stored
    assert "max-age" in public.headers["Cache-Control"]


def test_setting_the_brand_is_audited_with_the_logo_as_a_hash_and_size_not_its_bytes(api: Api, world: World) -> None:
    image = png()
    assert put_brand(api, world.admin.token, name="NusaNet Lama").status == 200
    assert put_brand(api, world.admin.token, logo=data_url("png", image), tagline=None).status == 200
    events = [event for event in audit_events(None) if event["action"] == "platform.brand.set"]
    assert len(events) == 2
    first, second = events
    assert first.get("before") is None and first["after"]["name"] == "NusaNet Lama"
    assert second["before"]["name"] == "NusaNet Lama" and second["before"]["logo"] is None
    assert second["after"]["logo"] == {"type": "png", "bytes": len(image), "sha256": hashlib.sha256(image).hexdigest()}
    assert second["after"]["tagline"] is None
    assert second["actor_role"] == "platform_admin"
    assert base64.b64encode(image).decode() not in str(events)


def test_a_put_replaces_the_whole_brand(api: Api, world: World) -> None:
    assert put_brand(api, world.admin.token, logo=data_url("png", png())).status == 200
    reply = api.call("PUT", "/v1/platform/brand", token=world.admin.token, json_body={"name": "NusaNet"})
    assert reply.json == {"name": "NusaNet", "tagline": None, "logo": None, "colour": None}
    assert api.get("/v1/brand").json == reply.json


def test_an_svg_logo_is_accepted_as_base64_or_as_utf8_text_and_stored_base64(api: Api, world: World) -> None:
    as_base64 = data_url("svg+xml", SVG.encode())
    assert put_brand(api, world.admin.token, logo=as_base64).json["logo"] == as_base64
    as_text = "data:image/svg+xml;utf8," + urllib.parse.quote(SVG)
    assert put_brand(api, world.admin.token, logo=as_text).json["logo"] == as_base64


def test_a_logo_of_100000_bytes_is_accepted_and_one_byte_more_is_refused(api: Api, world: World) -> None:
    small = png()
    exact = png(padding=100_000 - len(small) - 12)  # a chunk adds 12 bytes around its data
    assert len(exact) == 100_000
    assert put_brand(api, world.admin.token, logo=data_url("png", exact)).status == 200
    over = png(padding=100_000 - len(small) - 11)
    reply = put_brand(api, world.admin.token, logo=data_url("png", over))
    assert reply.status == 400 and reply.json["error"]["field"] == "logo"
    assert "100,000" in reply.json["error"]["message"]


EVIL_SVGS = {
    "script": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "script_upper_case": '<svg xmlns="http://www.w3.org/2000/svg"><SCRIPT >alert(1)</SCRIPT></svg>',
    "event_handler": '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>',
    "handler_on_child": '<svg xmlns="http://www.w3.org/2000/svg"><rect onClick="x()" width="1" height="1"/></svg>',
    "external_href": '<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/x.png"/></svg>',
    "external_xlink": (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<use xlink:href="http://evil.example/a.svg#x"/></svg>'
    ),
    "javascript_link": '<svg xmlns="http://www.w3.org/2000/svg"><a href="javascript:alert(1)"><text>x</text></a></svg>',
    "foreign_object": (
        '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div>'
        "</foreignObject></svg>"
    ),
    "css_url": '<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:url(https://evil.example/t)}</style></svg>',
    "entity": '<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>',
    "not_svg_root": '<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
    "not_xml": "<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>",
}


@pytest.mark.parametrize("name", sorted(EVIL_SVGS))
def test_an_svg_that_could_run_code_or_fetch_something_is_refused_naming_the_logo(
    api: Api, world: World, name: str
) -> None:
    reply = put_brand(api, world.admin.token, logo=data_url("svg+xml", EVIL_SVGS[name].encode()))
    assert reply.status == 400, reply.body
    assert reply.error_code == "validation_error" and reply.json["error"]["field"] == "logo"
    assert api.get("/v1/brand").json["logo"] is None  # nothing was stored


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("logo", data_url("png", b"GIF89a not a png at all")),  # says PNG, is not one
        ("logo", data_url("jpeg", png())),  # JPEG and others: not offered to guests
        ("logo", "data:image/png;base64,%%%not-base64%%%"),
        ("logo", "https://cdn.example/logo.png"),  # a link, not the image
        ("colour", "blue"),
        ("colour", "#12345"),
        ("colour", "#12345g"),
        ("name", ""),
        ("name", "N" * 61),
        ("tagline", "T" * 121),
    ],
)
def test_a_bad_field_is_a_400_naming_it(api: Api, world: World, field: str, value: str) -> None:
    reply = put_brand(api, world.admin.token, **{field: value})
    assert reply.status == 400, reply.body
    assert reply.error_code == "validation_error"
    assert reply.json["error"]["field"] == field


def test_an_owner_cannot_set_the_brand_nor_can_anyone_unsigned(api: Api, world: World) -> None:
    tenant = world.org()
    reply = put_brand(api, tenant.owner.token)
    assert reply.status == 403 and reply.error_code == "forbidden"
    assert api.call("PUT", "/v1/platform/brand", json_body={"name": "X"}).status == 401
    assert api.get("/v1/brand").json["name"] is None


def test_two_admins_saving_at_once_one_gets_a_409_and_the_other_brand_stands(
    api: Api, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chalicelib.models import Brand
    from chalicelib.models.accounts import PLATFORM_PARTITION
    from chalicelib.services.brand import BrandService

    assert put_brand(api, world.admin.token, name="NusaNet").status == 200
    seen_by_the_slower_admin = Brand.get(PLATFORM_PARTITION, Brand.SK)
    assert put_brand(api, world.admin.token, name="NusaNet Baru").status == 200  # the quicker admin saves first
    monkeypatch.setattr(BrandService, "_item", lambda self: seen_by_the_slower_admin)
    reply = put_brand(api, world.admin.token, name="NusaNet Lama")
    assert reply.status == 409 and reply.error_code == "conflict"
    monkeypatch.undo()
    assert Brand.get(PLATFORM_PARTITION, Brand.SK).name == "NusaNet Baru"
    assert [e["after"]["name"] for e in audit_events(None) if e["action"] == "platform.brand.set"] == [
        "NusaNet",
        "NusaNet Baru",
    ]
