"""Page cursors: DynamoDB's LastEvaluatedKey handed to the caller and taken back, checked.

A cursor is only ever a key of the same listing: the same key attributes, the
caller's own partition, and (where given) a sort key of the listing's kind.
Anything else is a 400 naming `cursor`, never a query that reads elsewhere.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from chalicelib.errors import ValidationFailed


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode() if key else None


def decode_cursor(
    cursor: str | None,
    *,
    attributes: frozenset[str],
    partition: tuple[str, str],
    sort_prefix: str | None = None,
    sort_range: tuple[str, str, str] | None = None,
) -> dict[str, Any] | None:
    """The key in `cursor`, if it has exactly `attributes`, `partition` = (name, value), its
    sort key (SK) starts with `sort_prefix`, and `sort_range` = (name, low, high) holds its sort key
    (DynamoDB refuses a start key outside the query's range: a cursor of another from..to)."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", field="cursor") from exc
    name, value = partition
    if not isinstance(key, dict) or set(key) != attributes or key[name] != {"S": value}:
        raise ValidationFailed("cursor is not valid", field="cursor")
    # Every key attribute of these listings is a string: anything else would reach DynamoDB as a bad key.
    strings = {attribute: part.get("S") for attribute, part in key.items() if isinstance(part, dict) and len(part) == 1}
    if not all(isinstance(strings.get(attribute), str) for attribute in attributes):
        raise ValidationFailed("cursor is not valid", field="cursor")
    if sort_prefix is not None and not str(strings.get("SK", "")).startswith(sort_prefix):
        raise ValidationFailed("cursor is not valid", field="cursor")
    if sort_range is not None:
        sort_name, low, high = sort_range
        if not low <= str(strings.get(sort_name, "")) <= high:
            raise ValidationFailed("cursor is not valid for this from..to", field="cursor")
    return key
