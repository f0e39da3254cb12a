"""How many of each thing an organization (or a site) may hold.

The console lists these whole, on one page: the caps keep every such answer (and
the read behind it) bounded. Lists that grow with time (batches, orders, audit,
sales) are paged instead. Counting is one Query with Select=COUNT, on a create only.
"""

from __future__ import annotations

from chalicelib.errors import Conflict

MAX_SITES_PER_ORG = 500
MAX_USERS_PER_ORG = 500  # disabled users included: they stay listed
MAX_PLANS_PER_ORG = 500  # archived plans included: they stay listed
MAX_NAS_PER_SITE = 100
MAX_ACTIVE_KEYS = 50  # per site (controller and POS keys), per organization or platform (radius keys)


def require_room(count: int, limit: int, what: str, where: str) -> None:
    """Refuse (409) one more of `what` when `where` already holds `limit`."""
    if count >= limit:
        raise Conflict(f"{where.capitalize()} already has {count} {what}, the most it may have.")
