"""The sales list: an organisation's sales by time, newest first, a bounded page at a time.

Sales are on GSI1 under `ORG#<org>#SALES`, sorted by `<iso sold_at>#<sale_id>`; a
cashier's list is the same query filtered on the seller. Each page names its
sellers (a person's email, a POS key's name) so the console never shows an id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from chalicelib.errors import ValidationFailed
from chalicelib.models import ApiKey, Sale, User
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.selling import sale_view

MAX_PAGE = 200
MAX_DAYS = 366
_CURSOR_KEYS = frozenset({"PK", "SK", "GSI1PK", "GSI1SK"})


@dataclass(frozen=True)
class SalesPage:
    sales: list[dict[str, Any]]
    next_cursor: str | None


def list_sales(
    org_id: str, start: date, end: date, *, seller_id: str | None = None, limit: int = 100, cursor: str | None = None
) -> SalesPage:
    """Sales sold on UTC days start..end, newest first; with `seller_id`, only that seller's."""
    if end < start:
        raise ValidationFailed("to: must not be before from", field="to")
    if end - start > timedelta(days=MAX_DAYS):
        raise ValidationFailed(f"to: at most {MAX_DAYS} days after from", field="to")
    partition, low, high = Sale.list_key(org_id), start.isoformat(), f"{end.isoformat()}T~"
    results = Sale.by_time.query(
        partition,
        Sale.gsi1sk.between(low, high),
        filter_condition=(Sale.seller_id == seller_id) if seller_id else None,
        scan_index_forward=False,
        limit=min(max(limit, 1), MAX_PAGE),
        last_evaluated_key=decode_cursor(
            cursor, attributes=_CURSOR_KEYS, partition=("GSI1PK", partition), sort_range=("GSI1SK", low, high)
        ),
    )
    sales = cast(list[Sale], list(results))
    names = seller_names(org_id, {sale.seller_id for sale in sales})
    views = [listed_view(sale, names) for sale in sales]
    last_key = results.last_evaluated_key
    return SalesPage(sales=views, next_cursor=encode_cursor(last_key))


def listed_view(sale: Sale, names: dict[str, str]) -> dict[str, Any]:
    """A sale as listed: its view, its shift, and its seller by name."""
    return {**sale_view(sale), "shift_id": sale.shift_id, "seller_name": names.get(sale.seller_id)}


def seller_names(org_id: str, seller_ids: set[str]) -> dict[str, str]:
    """People by email, POS keys by the name their owner gave them (two batch reads at most)."""
    names: dict[str, str] = {}
    if not seller_ids:
        return names
    for user in User.batch_get([User.key(org_id, seller) for seller in seller_ids]):
        names[user.user_id] = user.email
    others = seller_ids - set(names)
    if others:  # POS keys, and platform admins who sold while acting in the org
        for key in ApiKey.batch_get([ApiKey.key(seller) for seller in others]):
            if key.org_id == org_id:
                names[key.key_id] = key.name
        admins = others - set(names)
        for admin in User.batch_get([User.key(None, seller) for seller in admins]) if admins else []:
            names[admin.user_id] = admin.email
    return names

