"""Page cursors: only a key of the same listing, partition and range is taken back (no emulator)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from chalicelib.errors import ValidationFailed
from chalicelib.services.cursors import decode_cursor, encode_cursor

KEYS = frozenset({"PK", "SK"})
MINE = ("PK", "ORG#a")


def _raw(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def test_a_cursor_of_the_same_listing_comes_back_as_its_key() -> None:
    key = {"PK": {"S": "ORG#a"}, "SK": {"S": "SHIFT#20261202"}}
    cursor = encode_cursor(key)
    assert decode_cursor(cursor, attributes=KEYS, partition=MINE, sort_range=("SK", "SHIFT#2026", "SHIFT#2027")) == key
    assert decode_cursor(None, attributes=KEYS, partition=MINE) is None and encode_cursor(None) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        _raw(["PK", "SK"]),
        _raw({"PK": {"S": "ORG#b"}, "SK": {"S": "SHIFT#20261202"}}),  # another org's
        _raw({"PK": {"S": "ORG#a"}, "SK": {"S": "SHIFT#20261202"}, "GSI1PK": {"S": "x"}}),  # another listing's
        _raw({"PK": {"S": "ORG#a"}, "SK": "SHIFT#20261202"}),  # not a typed value (was a 500)
        _raw({"PK": {"S": "ORG#a"}, "SK": {"N": "5"}}),
        _raw({"PK": {"S": "ORG#a"}, "SK": {"S": "SHIFT#20250101"}}),  # outside the days asked (was a 500)
        _raw({"PK": {"S": "ORG#a"}, "SK": {"S": "BATCH#x"}}),
    ],
)
def test_anything_else_is_a_400_naming_cursor(cursor: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        decode_cursor(cursor, attributes=KEYS, partition=MINE, sort_range=("SK", "SHIFT#2026", "SHIFT#2027~"))
    assert refused.value.field == "cursor"
