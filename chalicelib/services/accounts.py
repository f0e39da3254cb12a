"""Accounts: sign-in, tokens, organizations and users."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.auth.passwords import burn_verification_time, hash_password, verify_password
from chalicelib.auth.principal import Actor, Principal, RequestMeta
from chalicelib.auth.roles import Role
from chalicelib.auth.signing_keys import KeySet
from chalicelib.auth.tokens import issue_access_token, new_refresh_token, token_hash, verify_access_token
from chalicelib.config import Settings
from chalicelib.errors import Conflict, InvalidCredentials, NotFound, Unauthorized
from chalicelib.models import EmailClaim, Org, RefreshToken, TokenFamily, User
from chalicelib.models.base import cancelled_by_condition, failed_condition
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.cursors import decode_cursor, encode_cursor
from chalicelib.services.limits import MAX_USERS_PER_ORG, require_room
from chalicelib.services.ratelimit import FailureLimiter, scope_key


@dataclass(frozen=True)
class OrgPage:
    orgs: list[Org]
    next_cursor: str | None


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_view(user: User) -> dict[str, object]:
    """The fields of a user that may appear in responses and audit events."""
    return {
        "user_id": user.user_id,
        "email": user.email,
        "role": user.role,
        "org_id": user.org_id,
        "disabled": bool(user.disabled),
    }


def org_settings(org: Org) -> dict[str, object]:
    return {"pos_only_sales": bool(org.pos_only_sales)}


class AccountService:
    def __init__(self, settings: Settings, keys: KeySet, audit: AuditLog, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._keys = keys
        self._audit = audit
        self._clock = clock
        window = settings.login_window_seconds
        self._account_limiter = FailureLimiter(settings.login_max_failures_per_account, window, clock)
        self._ip_limiter = FailureLimiter(settings.login_max_failures_per_ip, window, clock)

    # --- sign-in and tokens -------------------------------------------------

    def login(self, email: str, password: str, meta: RequestMeta) -> TokenPair:
        email = normalise_email(email)
        account_scope = scope_key("login-account", email)
        ip_scope = scope_key("login-ip", meta.source_ip or "unknown")
        self._account_limiter.check(account_scope)
        self._ip_limiter.check(ip_scope)

        user = self._find_by_email(email)
        if user is None:
            burn_verification_time(password)
        if user is None or not verify_password(user.password_hash, password) or user.disabled:
            self._account_limiter.record_failure(account_scope)
            self._ip_limiter.record_failure(ip_scope)
            actor = Actor(principal=None, meta=meta)
            self._audit.record(
                self._audit.event(
                    actor,
                    org_id=user.org_id if user else None,
                    action="auth.login_failed",
                    target_type="user",
                    target_id=user.user_id if user else None,
                    after={"email": email, "reason": "disabled" if user and user.disabled else "bad_credentials"},
                )
            )
            raise InvalidCredentials()

        self._account_limiter.reset(account_scope)
        family_id = uuid.uuid4().hex
        now = self._clock()
        TokenFamily(
            *TokenFamily.key(family_id),
            family_id=family_id,
            user_id=user.user_id,
            org_id=user.org_id,
            ttl=now + timedelta(days=self._settings.refresh_token_days + 1),
        ).save()
        pair = self._issue_pair(user, family_id)
        principal = self._principal(user)
        self._audit.record(
            self._audit.event(
                Actor(principal=principal, meta=meta),
                org_id=user.org_id,
                action="auth.login",
                target_type="user",
                target_id=user.user_id,
                after={"token_family": family_id},
            )
        )
        return pair

    def refresh(self, refresh_token: str, meta: RequestMeta) -> TokenPair:
        now = self._clock()
        try:
            stored = RefreshToken.get(*RefreshToken.key(token_hash(refresh_token)), consistent_read=True)
            family = TokenFamily.get(*TokenFamily.key(stored.family_id), consistent_read=True)
        except DoesNotExist as exc:
            raise Unauthorized("The refresh token is not valid.") from exc
        if family.revoked_at is not None or stored.expires_at <= now:
            raise Unauthorized("The refresh token is not valid.")
        if stored.used_at is not None:
            self._revoke_family(family, "refresh_token_reused", meta)
            raise Unauthorized("The refresh token was already used; sign in again.")
        user = self._get_user(stored.org_id, stored.user_id)
        if user is None or user.disabled:
            raise Unauthorized("The refresh token is not valid.")
        event = self._audit.event(
            Actor(principal=self._principal(user), meta=meta),
            org_id=user.org_id,
            action="auth.refresh",
            target_type="token_family",
            target_id=family.family_id,
            after={"rotated": True},
        )
        try:
            with self._audit.transaction() as tx:
                tx.update(
                    stored,
                    actions=[RefreshToken.used_at.set(now)],
                    condition=RefreshToken.used_at.does_not_exist(),
                )
                tx.append(event)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
            # Another request used it a moment ago: that is reuse as well.
            self._revoke_family(family, "refresh_token_reused", meta)
            raise Unauthorized("The refresh token was already used; sign in again.") from exc
        return self._issue_pair(user, family.family_id)

    def logout(self, refresh_token: str, meta: RequestMeta) -> None:
        try:
            stored = RefreshToken.get(*RefreshToken.key(token_hash(refresh_token)), consistent_read=True)
            family = TokenFamily.get(*TokenFamily.key(stored.family_id), consistent_read=True)
        except DoesNotExist:
            return  # signing out twice is not an error
        if family.revoked_at is None:
            self._revoke_family(family, "logout", meta)

    def authenticate(self, access_token: str) -> Principal:
        """Verify the token, then read the user: a disabled user or new role counts at once."""
        claims = verify_access_token(
            self._keys, access_token, issuer=self._settings.jwt_issuer, audience=self._settings.jwt_audience
        )
        org_id = claims.get("org")
        user = self._get_user(org_id if isinstance(org_id, str) else None, str(claims["sub"]))
        if user is None or user.disabled:
            raise Unauthorized()
        return self._principal(user)

    def _issue_pair(self, user: User, family_id: str) -> TokenPair:
        now = self._clock()
        lifetime = timedelta(seconds=self._settings.access_token_seconds)
        access = issue_access_token(
            self._keys,
            user_id=user.user_id,
            org_id=user.org_id,
            issuer=self._settings.jwt_issuer,
            audience=self._settings.jwt_audience,
            now=now,
            lifetime=lifetime,
        )
        refresh = new_refresh_token()
        expires_at = now + timedelta(days=self._settings.refresh_token_days)
        RefreshToken(
            *RefreshToken.key(token_hash(refresh)),
            family_id=family_id,
            user_id=user.user_id,
            org_id=user.org_id,
            issued_at=now,
            expires_at=expires_at,
            ttl=expires_at + timedelta(days=1),
        ).save(condition=RefreshToken.pk.does_not_exist())
        return TokenPair(access_token=access, refresh_token=refresh, expires_in=int(lifetime.total_seconds()))

    def _revoke_family(self, family: TokenFamily, reason: str, meta: RequestMeta) -> None:
        user = self._get_user(family.org_id, family.user_id)
        principal = self._principal(user) if user else None
        event = self._audit.event(
            Actor(principal=principal, meta=meta),
            org_id=user.org_id if user else None,
            action="auth.logout" if reason == "logout" else "auth.token_family_revoked",
            target_type="token_family",
            target_id=family.family_id,
            after={"reason": reason},
        )
        try:
            with self._audit.transaction() as tx:
                tx.update(
                    family,
                    actions=[TokenFamily.revoked_at.set(self._clock()), TokenFamily.revoked_reason.set(reason)],
                    condition=TokenFamily.revoked_at.does_not_exist(),
                )
                tx.append(event)
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise  # already revoked by a concurrent request otherwise

    # --- users ---------------------------------------------------------------

    def _find_by_email(self, email: str) -> User | None:
        try:
            claim = EmailClaim.get(*EmailClaim.key(email), consistent_read=True)
        except DoesNotExist:
            return None
        return self._get_user(claim.org_id, claim.user_id)

    def _get_user(self, org_id: str | None, user_id: str) -> User | None:
        try:
            return User.get(*User.key(org_id, user_id), consistent_read=True)
        except DoesNotExist:
            return None

    @staticmethod
    def _principal(user: User) -> Principal:
        return Principal(kind="user", id=user.user_id, org_id=user.org_id, role=Role(user.role), email=user.email)

    def create_user(self, actor: Actor, org_id: str | None, email: str, password: str, role: Role) -> User:
        email = normalise_email(email)
        if org_id is not None:
            require_room(User.count(f"ORG#{org_id}", User.sk.startswith("USER#")), MAX_USERS_PER_ORG, "users",
                         "this organization")  # fmt: skip
        user_id = uuid.uuid4().hex
        user = User(
            *User.key(org_id, user_id),
            user_id=user_id,
            org_id=org_id,
            email=email,
            password_hash=hash_password(password),
            role=role.value,
            created_at=self._clock(),
        )
        claim = EmailClaim(*EmailClaim.key(email), user_id=user_id, org_id=org_id)
        event = self._audit.event(
            actor, org_id=org_id, action="user.create", target_type="user", target_id=user_id, after=user_view(user)
        )
        try:
            with self._audit.transaction() as tx:
                tx.save(claim, condition=EmailClaim.pk.does_not_exist())
                tx.save(user, condition=User.pk.does_not_exist())
                tx.append(event)
        except TransactWriteError as exc:
            if cancelled_by_condition(exc, 0):
                raise Conflict("A user with this email already exists.", field="email") from exc
            raise
        user.version = 1
        return user

    def list_users(self, org_id: str) -> list[User]:
        return list(User.query(f"ORG#{org_id}", User.sk.startswith("USER#")))

    def get_user(self, org_id: str, user_id: str) -> User:
        user = self._get_user(org_id, user_id)
        if user is None:
            raise NotFound("No such user.")
        return user

    def update_user(self, actor: Actor, org_id: str, user_id: str, *, role: Role | None, disabled: bool | None) -> User:
        user = self.get_user(org_id, user_id)
        principal = actor.principal
        if principal is not None and principal.id == user_id and (disabled or (role and role is not Role.OWNER)):
            raise Conflict("You cannot disable yourself or give up your own owner role.")
        before = user_view(user)
        if role is not None:
            user.role = role.value
        if disabled is not None:
            user.disabled = disabled
        event = self._audit.event(
            actor,
            org_id=org_id,
            action="user.update",
            target_type="user",
            target_id=user_id,
            before=before,
            after=user_view(user),
        )
        self._audit.save_with_event(user, event, conflict="The user was changed by someone else; reload and try again.")
        return user

    def ensure_platform_admin(self, email: str, password: str) -> tuple[User, bool]:
        """Create the platform admin unless that email exists; for `make dev` and deployment."""
        existing = self._find_by_email(normalise_email(email))
        if existing is not None:
            return existing, False
        actor = Actor(principal=None, meta=RequestMeta(source_ip=None, user_agent="kuota-setup", request_id="setup"))
        return self.create_user(actor, None, email, password, Role.PLATFORM_ADMIN), True

    # --- organizations ---------------------------------------------------------

    def create_org(self, actor: Actor, name: str) -> Org:
        org_id = uuid.uuid4().hex[:12]
        now = self._clock()
        org = Org(*Org.key(org_id), org_id=org_id, name=name, created_at=now, gsi1sk=f"ORG#{org_id}")
        event = self._audit.event(
            actor,
            org_id=org_id,
            action="org.create",
            target_type="org",
            target_id=org_id,
            after={"org_id": org_id, "name": name},
        )
        self._audit.save_with_event(org, event, condition=Org.pk.does_not_exist())
        return org

    def update_org_settings(self, actor: Actor, org_id: str, *, pos_only_sales: bool | None) -> Org:
        """Change an organization's settings (owner); audited with before and after."""
        org = self.get_org(org_id)
        before = org_settings(org)
        if pos_only_sales is not None:
            org.pos_only_sales = pos_only_sales
        event = self._audit.event(
            actor, org_id=org_id, action="org.settings_update", target_type="org", target_id=org_id,
            before=before, after=org_settings(org),
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.update(org, actions=[Org.pos_only_sales.set(bool(org.pos_only_sales))], condition=Org.pk.exists())
            tx.append(event)
        return org

    def get_org(self, org_id: str) -> Org:
        try:
            return Org.get(*Org.key(org_id))
        except DoesNotExist as exc:
            raise NotFound("No such organization.") from exc

    def list_orgs(self) -> list[Org]:
        """Every organization (the platform's jobs go through them all)."""
        return list(Org.by_listing.query("ORGS", Org.gsi1sk.startswith("ORG#")))

    def orgs_page(self, *, limit: int, cursor: str | None = None) -> OrgPage:
        """A page of the organizations in id order (ids are random: no time order)."""
        results = Org.by_listing.query(
            "ORGS", Org.gsi1sk.startswith("ORG#"), limit=limit,
            last_evaluated_key=decode_cursor(
                cursor, attributes=frozenset({"PK", "SK", "GSI1PK", "GSI1SK"}), partition=("GSI1PK", "ORGS"),
                sort_range=("GSI1SK", "ORG#", "ORG#~"),
            ),
        )  # fmt: skip
        orgs = list(results)
        return OrgPage(orgs=orgs, next_cursor=encode_cursor(results.last_evaluated_key))
