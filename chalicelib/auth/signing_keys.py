"""The fixed set of JWT signing keys (Ed25519), loaded once per container.

Format, in a dev file or a Secrets Manager secret:
    {"active": "<kid>", "keys": {"<kid>": "<PKCS8 PEM private key>", ...}}
Tokens are signed with the active key and verified with any key in the set, so
rotation is: add a key, make it active, drop the old one after 15 minutes.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from chalicelib.config import get_settings
from chalicelib.secrets import load_secret


@dataclass(frozen=True)
class KeySet:
    active_kid: str
    private_keys: dict[str, Ed25519PrivateKey]

    def signing_key(self) -> tuple[str, Ed25519PrivateKey]:
        return self.active_kid, self.private_keys[self.active_kid]

    def verification_key(self, kid: str) -> Ed25519PublicKey | None:
        key = self.private_keys.get(kid)
        return key.public_key() if key else None


def parse_key_set(document: str) -> KeySet:
    data = json.loads(document)
    keys = {kid: serialization.load_pem_private_key(pem.encode(), password=None) for kid, pem in data["keys"].items()}
    for kid, key in keys.items():
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"signing key {kid} is not an Ed25519 key")
    if data["active"] not in keys:
        raise ValueError("the active signing key is not in the key set")
    return KeySet(active_kid=data["active"], private_keys=keys)  # type: ignore[arg-type]


def new_key_document(previous: str | None = None) -> str:
    """A key set with a fresh active key, keeping the previous keys for overlap."""
    keys: dict[str, str] = json.loads(previous)["keys"] if previous else {}
    kid = datetime.now(UTC).strftime("%Y%m%d") + "-" + secrets.token_hex(4)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keys[kid] = pem.decode()
    return json.dumps({"active": kid, "keys": keys}, indent=2)


@lru_cache(maxsize=1)
def get_key_set() -> KeySet:
    settings = get_settings()
    document = load_secret(
        secret_id=settings.jwt_keys_secret_id, file=settings.jwt_keys_file, create=new_key_document,
        what="JWT signing keys",
    )  # fmt: skip
    return parse_key_set(document)
