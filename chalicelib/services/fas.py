"""openNDS forwarding authentication (FAS, level 3 with authmon): Kuota never calls the router.

1. openNDS redirects a guest to the site's FAS URL with `fas`/`iv` (the client's details,
   AES-256-CBC under the site's faskey); Kuota sends the browser on to the guest page.
2. The guest page trades `fas`/`iv` for an opaque `client_token` (`open_session`): the
   client's MAC and hid sealed under a key derived from the faskey, valid for a while.
3. The guest enters a code (`login`): the redeem service admits the device (its one
   conditional write, its failure limits), then the client's grant is queued for the gateway.
4. The router's authmon polls (`poll`): `view` lists the queued grants, the router lets the
   clients in, its next `view` acknowledges their rhids and Kuota deletes them.

A grant is built only after a successful redeem, so a wrong code never reaches the router.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from pynamodb.exceptions import DeleteError, DoesNotExist

from chalicelib.auth.principal import Actor, Principal
from chalicelib.codes import get_code_keys
from chalicelib.config import Settings
from chalicelib.errors import KuotaError, NotFound, ValidationFailed
from chalicelib.models import Site
from chalicelib.models.audit import AuditEvent
from chalicelib.models.fas import FasAuthorisation, FasGateway
from chalicelib.opennds import FasDecryptError, Grant, auth_list, decrypt_query, gateway_hash, return_hash
from chalicelib.services import Clock, utc_now
from chalicelib.services.audit import AuditLog
from chalicelib.services.redeeming import Admission, RedeemService, normalise_mac

if TYPE_CHECKING:
    from chalicelib.services.address_space import UplinkService

CLIENT_TOKEN_SECONDS = 15 * 60
# A grant the router has not fetched within this time is dropped: the guest logs in again.
GRANT_SECONDS = 10 * 60
POLL_ACTIONS = ("view", "list", "clear", "deauthed", "custom")


class GatewayRefused(KuotaError):
    """authmon's credential (the gateway hash) does not match the site's FAS configuration."""

    status, code, default_message = 403, "forbidden", "Unknown gateway."


@dataclass(frozen=True)
class FasSession:
    client_token: str
    org_id: str
    gateway_name: str
    expires_in: int


@dataclass(frozen=True)
class RouterSettings:
    """The openNDS options that point a router at this site's FAS URL."""

    fasremotefqdn: str
    fasport: int
    faspath: str


def router_settings(settings: Settings, site_id: str) -> RouterSettings:
    url = urlsplit(settings.api_public_url)
    port = url.port or (443 if url.scheme == "https" else 80)
    return RouterSettings(fasremotefqdn=url.hostname or "", fasport=port,
                          faspath=f"{url.path.rstrip('/')}/v1/fas/gateways/{site_id}")  # fmt: skip


def gateway_view(gateway: FasGateway, settings: Settings) -> dict[str, object]:
    """Everything about a site's FAS configuration except the faskey."""
    router = router_settings(settings, gateway.site_id)
    return {
        "site_id": gateway.site_id,
        "gateway_name": gateway.gateway_name,
        "gateway_hash": gateway.gateway_hash,
        "faskey_hint": gateway.faskey_hint,
        "fasremotefqdn": router.fasremotefqdn,
        "fasport": router.fasport,
        "faspath": router.faspath,
        "fas_secure_enabled": 3,
        "created_at": gateway.created_at.isoformat(),
    }


def _aead_key(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, f"kuota:fas:{purpose}".encode(), hashlib.sha256).digest()


def _seal(key: bytes, plaintext: bytes, context: str) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = secrets.token_bytes(12)
    return base64.urlsafe_b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode())).decode()


def _open(key: bytes, sealed: str, context: str) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode())
    except (InvalidTag, ValueError, binascii.Error) as exc:
        raise ValueError("does not open") from exc


def _faskey_sealing_key() -> bytes:
    return _aead_key(get_code_keys().hmac_key, "faskey")


class FasService:
    def __init__(self, settings: Settings, audit: AuditLog, redeem: RedeemService, clock: Clock = utc_now,
                 uplinks: UplinkService | None = None) -> None:  # fmt: skip
        self._settings = settings
        self._audit = audit
        self._redeem = redeem
        self._clock = clock
        self._uplinks = uplinks

    # ---- owners: the site's configuration -------------------------------------------------

    def configure(self, actor: Actor, site: Site, gateway_name: str | None) -> tuple[FasGateway, str]:
        """Create or replace the site's FAS configuration; the new faskey is returned once."""
        faskey = secrets.token_hex(32)  # 64 hex characters, the shape openNDS generates itself
        name = gateway_name or f"kuota-{site.site_id}-{secrets.token_hex(4)}"
        existing = self._gateway(site.site_id, consistent=True)
        before = gateway_view(existing, self._settings) if existing else None
        gateway = FasGateway(
            *FasGateway.key(site.site_id),
            site_id=site.site_id,
            org_id=site.org_id,
            gateway_name=name,
            gateway_hash=gateway_hash(name),
            faskey_sealed=_seal(_faskey_sealing_key(), faskey.encode(), site.site_id),
            faskey_hint=faskey[-4:],
            created_at=self._clock(),
        )
        event = self._audit.event(
            actor, org_id=site.org_id, action="fas.rotate" if before else "fas.configure", target_type="fas",
            target_id=site.site_id, before=before, after=gateway_view(gateway, self._settings), site=site,
        )  # fmt: skip
        self._audit.save_with_event(gateway, event)
        return gateway, faskey

    def org_of(self, site_id: str) -> str | None:
        """The organisation of a site that uses FAS (the guest page checks codes in it)."""
        gateway = self._gateway(site_id)
        return gateway.org_id if gateway else None

    def get(self, org_id: str, site_id: str) -> FasGateway:
        gateway = self._gateway(site_id)
        if gateway is None or gateway.org_id != org_id:
            raise NotFound("This site has no openNDS FAS configuration.")
        return gateway

    def delete(self, actor: Actor, site: Site) -> None:
        gateway = self._gateway(site.site_id)
        if gateway is None or gateway.org_id != site.org_id:
            return  # deleting twice changes nothing and writes no second event
        event = self._audit.event(
            actor, org_id=site.org_id, action="fas.delete", target_type="fas", target_id=site.site_id,
            before=gateway_view(gateway, self._settings), site=site,
        )  # fmt: skip
        with self._audit.transaction() as tx:
            tx.delete(gateway)
            tx.append(event)

    # ---- the guest page ---------------------------------------------------------------------

    def open_session(self, site_id: str, fas: str, iv: str) -> FasSession:
        gateway, faskey = self._gateway_and_key(site_id)
        try:
            fields = decrypt_query(fas, iv, faskey)
        except FasDecryptError as exc:
            raise ValidationFailed(f"fas: {exc}; open the router's login page again", field="fas") from exc
        if gateway_hash(fields.get("gatewayname", "")) != gateway.gateway_hash:
            raise ValidationFailed("fas: this router's gatewayname is not the site's", field="fas")
        if len(normalise_mac(fields["clientmac"])) != 12:
            raise ValidationFailed("fas: clientmac is not a MAC address", field="fas")
        expires = int(self._clock().timestamp()) + CLIENT_TOKEN_SECONDS
        claims = {"m": fields["clientmac"], "h": fields["hid"], "x": expires}
        token = _seal(_aead_key(faskey.encode(), "client-token"), json.dumps(claims).encode(), site_id)
        name = unquote(fields.get("gatewayname", ""))
        return FasSession(client_token=token, org_id=gateway.org_id, gateway_name=name, expires_in=CLIENT_TOKEN_SECONDS)

    def login(self, site_id: str, client_token: str, code: str, actor: Actor) -> Admission:
        gateway, faskey = self._gateway_and_key(site_id)
        try:
            claims = json.loads(_open(_aead_key(faskey.encode(), "client-token"), client_token, site_id))
            mac, hid, expires = str(claims["m"]), str(claims["h"]), int(claims["x"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ValidationFailed("client_token: not valid for this site", field="client_token") from exc
        now = int(self._clock().timestamp())
        if expires <= now:
            raise ValidationFailed("client_token: expired; open the router's login page again", field="client_token")
        device = Principal(kind="api_key", id=f"fas-{site_id}", org_id=gateway.org_id, site_id=site_id,
                           key_kind="fas", name="openNDS FAS")  # fmt: skip
        fas_actor = Actor(principal=device, meta=actor.meta)
        admission = self._redeem.redeem(device, code, mac, fas_actor)  # raises for a wrong code: nothing queued
        voucher = admission.voucher
        grant = Grant(
            rhid=return_hash(hid, faskey),
            session_seconds=admission.session_timeout,
            rate_up_kbps=None if voucher.rate_up_kbps is None else int(voucher.rate_up_kbps),
            rate_down_kbps=None if voucher.rate_down_kbps is None else int(voucher.rate_down_kbps),
            data_bytes=admission.data_remaining_bytes,
            custom=f"kuota site={site_id}",
        )
        FasAuthorisation(
            FasAuthorisation.partition(site_id), grant.rhid, line=grant.auth_line(), org_id=gateway.org_id,
            queued_at=now, expires_at=now + GRANT_SECONDS, ttl=self._clock() + timedelta(seconds=GRANT_SECONDS),
        ).save()  # fmt: skip
        return admission

    # ---- the router's authmon ---------------------------------------------------------------

    def poll(self, site_id: str, action: str, presented_hash: str, payload: str, actor: Actor) -> str:
        """Answer authmon's `auth_get` request as openNDS's own fas-aes-https.php does."""
        gateway = self._gateway(site_id)
        if gateway is None or not hmac.compare_digest(gateway.gateway_hash.encode(), presented_hash.strip().encode()):
            raise GatewayRefused()
        if self._uplinks is not None:  # the router itself polls: its request's source is the venue's uplink
            self._uplinks.observe(actor, gateway.org_id, site_id, actor.meta.peer_ip)
        self._redeem.quality.called(gateway.org_id, site_id, self._clock())  # the controller is up: availability
        if action not in POLL_ACTIONS:
            raise ValidationFailed(f"auth_get: one of {', '.join(POLL_ACTIONS)}", field="auth_get")
        if action in ("deauthed", "custom"):
            return "ack"
        pending = self._pending(site_id)
        if action == "clear":  # authmon starts: whatever was waiting is stale
            self._acknowledge(gateway, [item.sk for item in pending], actor, "fas.clear")
            return ""
        if action == "list":
            self._acknowledge(gateway, [item.sk for item in pending], actor, "fas.deliver")
            return auth_list([item.line for item in pending])
        try:
            decoded = base64.b64decode(payload.replace(" ", "+"), validate=True).decode()
        except (binascii.Error, ValueError) as exc:
            raise ValidationFailed("payload: not base64", field="payload") from exc
        if decoded.strip() == "none":
            return auth_list([item.line for item in pending])
        acked = [rhid for rhid in decoded.replace("*", " ").split() if rhid]
        self._acknowledge(gateway, acked, actor, "fas.deliver")
        return "ack"

    # ---- helpers ------------------------------------------------------------------------------

    def _gateway(self, site_id: str, *, consistent: bool = False) -> FasGateway | None:
        try:
            return FasGateway.get(*FasGateway.key(site_id), consistent_read=consistent)
        except DoesNotExist:
            return None

    def _gateway_and_key(self, site_id: str) -> tuple[FasGateway, str]:
        gateway = self._gateway(site_id)
        if gateway is None:
            raise NotFound("This site does not use openNDS FAS.")
        faskey = _open(_faskey_sealing_key(), gateway.faskey_sealed, site_id).decode()
        return gateway, faskey

    def _pending(self, site_id: str) -> list[FasAuthorisation]:
        now = int(self._clock().timestamp())
        items = FasAuthorisation.query(FasAuthorisation.partition(site_id), consistent_read=True)
        return [item for item in items if int(item.expires_at) > now]

    def _acknowledge(self, gateway: FasGateway, rhids: list[str], actor: Actor, action: str) -> None:
        """Delete the acknowledged grants; a grant acknowledged twice is deleted (and audited) once."""
        removed = []
        for rhid in dict.fromkeys(rhids):
            if len(rhid) != 64:
                continue
            try:
                FasAuthorisation(FasAuthorisation.partition(gateway.site_id), rhid).delete(
                    condition=FasAuthorisation.pk.exists()
                )
            except DeleteError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue
            removed.append(rhid[:12])
        if removed:
            event: AuditEvent = self._audit.event(
                actor, org_id=gateway.org_id, action=action, target_type="fas", target_id=gateway.site_id,
                after={"clients": len(removed), "rhid_prefixes": removed},
            )  # fmt: skip
            self._audit.record(event)
