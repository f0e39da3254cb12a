"""Roles and who may do what; routes name the org roles they allow."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MANAGER = "manager"
    CASHIER = "cashier"
    AUDITOR = "auditor"
    PLATFORM_ADMIN = "platform_admin"


ORG_ROLES: frozenset[Role] = frozenset({Role.OWNER, Role.MANAGER, Role.CASHIER, Role.AUDITOR})
OWNER_ONLY: frozenset[Role] = frozenset({Role.OWNER})
OWNER_MANAGER: frozenset[Role] = frozenset({Role.OWNER, Role.MANAGER})
OWNER_AUDITOR: frozenset[Role] = frozenset({Role.OWNER, Role.AUDITOR})
REPORT_READERS: frozenset[Role] = frozenset({Role.OWNER, Role.MANAGER, Role.AUDITOR})
PLATFORM_ONLY: frozenset[Role] = frozenset({Role.PLATFORM_ADMIN})


def may_act_in_org(role: Role, allowed: frozenset[Role]) -> bool:
    """Platform admins may do in any organization whatever its owner may do."""
    if role is Role.PLATFORM_ADMIN:
        return Role.OWNER in allowed or Role.PLATFORM_ADMIN in allowed
    return role in allowed
