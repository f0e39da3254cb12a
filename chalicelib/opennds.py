"""openNDS's forwarding-authentication (FAS) wire format at `fas_secure_enabled` level 3.

Written from openNDS's source (`src/http_microhttpd.c`, `forward_authentication_service/
fas-aes/fas-aes-https.php`, `libs/authmon.sh`, `libs/post-request.php`):

- The router encrypts `hid=..., clientip=..., clientmac=..., gatewayname=..., ...` (", "
  separated) with PHP's `openssl_encrypt($string, "aes-256-cbc", $faskey, 0, $iv)` and sends
  `?fas=<base64 of that base64 output>&iv=<iv>`. PHP uses the faskey's bytes as the AES key,
  padded with NUL bytes or cut to 32 bytes; the IV is the first 16 characters of a hex
  SHA-256 digest, used as 16 bytes as they are; padding is PKCS#7.
- `gatewayhash` = sha256 hex of the url-encoded gateway name (what authmon is started with).
- A client's return hash `rhid` = sha256 hex of `hid` followed by the faskey.
- authmon's auth list line: `rhid sessionlength(min) uploadrate downloadrate(kbit/s)
  uploadquota downloadquota(kB) custom`, url-encoded, after a leading `*`.

Pure functions: no storage, no settings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
from dataclasses import dataclass
from urllib.parse import quote

KEY_BYTES = 32
IV_BYTES = 16


class FasDecryptError(ValueError):
    """The `fas`/`iv` pair does not decrypt with this faskey to an openNDS query string."""


def php_key(faskey: str) -> bytes:
    """The AES-256 key PHP's openssl_encrypt makes of a passphrase: NUL-padded or cut to 32 bytes."""
    raw = faskey.encode()
    return raw[:KEY_BYTES].ljust(KEY_BYTES, b"\0")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def gateway_hash(gateway_name: str) -> str:
    """What openNDS passes authmon: the digest of the url-encoded gateway name."""
    return sha256_hex(quote(gateway_name.strip(), safe="-_.~"))


def return_hash(hid: str, faskey: str) -> str:
    """The rhid the FAS hands back for the client whose hid came in the `fas` string."""
    return sha256_hex(hid.strip() + faskey.strip())


def decrypt_query(fas: str, iv: str, faskey: str) -> dict[str, str]:
    """Decrypt a `fas` query value and parse its `name=value, ...` pairs."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    iv_bytes = iv.encode()
    if len(iv_bytes) != IV_BYTES:
        raise FasDecryptError("iv must be 16 characters")
    try:
        # A '+' in an unescaped query string arrives as a space.
        inner = base64.b64decode(fas.replace(" ", "+"), validate=True)
        ciphertext = base64.b64decode(inner, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FasDecryptError("fas is not base64") from exc
    if not ciphertext or len(ciphertext) % 16:
        raise FasDecryptError("fas is not an AES-CBC ciphertext")
    decryptor = Cipher(algorithms.AES(php_key(faskey)), modes.CBC(iv_bytes)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        text = (unpadder.update(padded) + unpadder.finalize()).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise FasDecryptError("fas does not decrypt with this faskey") from exc
    fields: dict[str, str] = {}
    for part in text.split(", "):
        name, sep, value = part.partition("=")
        if sep and name and name not in fields:
            fields[name.strip()] = value
    if not fields.get("hid") or not fields.get("clientmac"):
        raise FasDecryptError("fas does not carry hid and clientmac")
    return fields


@dataclass(frozen=True)
class Grant:
    """What the router applies to one client (openNDS's `ndsctl auth` arguments)."""

    rhid: str
    session_seconds: int
    rate_up_kbps: int | None
    rate_down_kbps: int | None
    data_bytes: int | None
    custom: str = ""

    def auth_line(self) -> str:
        """The client's auth-list entry; 0 means "the router's default" to openNDS, so a
        limit is never rounded down to 0: minutes round up, a data allowance is at least 1 kB."""
        minutes = max(math.ceil(self.session_seconds / 60), 1)
        quota_kb = 0 if self.data_bytes is None else max(self.data_bytes // 1024, 1)
        custom = base64.b64encode(self.custom.encode()).decode() if self.custom else ""
        # Kuota's quota counts both directions together; openNDS keeps one per direction, so each
        # direction gets the whole allowance left (the router cannot enforce a shared total).
        parts = [self.rhid, str(minutes), str(self.rate_up_kbps or 0), str(self.rate_down_kbps or 0),
                 str(quota_kb), str(quota_kb)]  # fmt: skip
        if custom:
            parts.append(custom)
        return " ".join(parts)


def auth_list(lines: list[str]) -> str:
    """authmon's reply to `view`/`list`: `*` then each entry url-encoded (rawurlencode)."""
    return " ".join(["*", *(quote(line, safe="-_.~") for line in lines)])
