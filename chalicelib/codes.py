"""Voucher codes: generation, normalisation, display, and the keyed hash that stores them.

Uniqueness is by construction, not by luck. Each organisation draws codes of one
shape (prefix, alphabet, length) from a counter: code number n is the FF3-1
format-preserving encryption of n, a permutation of that shape's whole space,
so two numbers can never give the same code and no code reveals its number.
Shapes that could spell the same string are refused per organisation (see
`overlaps`). The table keys a voucher by HMAC(org, normalised code); the
readable code is never stored, only re-derived from (shape, n) with the key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import secrets
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from chalicelib.config import get_settings
from chalicelib.secrets import load_secret

Alphabet = Literal["mixed", "digits", "letters"]

# Crockford base32: no I, L, O, U, so nothing is mistaken for 1, 0 or V.
ALPHABETS: dict[str, str] = {
    "mixed": "0123456789ABCDEFGHJKMNPQRSTVWXYZ",
    "digits": "0123456789",
    "letters": "ABCDEFGHJKMNPQRSTVWXYZ",
}
# What a guest may type for a character that is not in the alphabet.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
DEFAULT_LENGTH = 10
MIN_LENGTH, MAX_LENGTH = 6, 16
MAX_PREFIX = 6
WEAK_BITS = 40


@dataclass(frozen=True)
class CodeShape:
    alphabet: Alphabet = "mixed"
    length: int = DEFAULT_LENGTH
    prefix: str = ""

    @property
    def shape_id(self) -> str:
        return f"{self.alphabet}-{self.length}-{self.prefix or '_'}"

    @property
    def capacity(self) -> int:
        return int(len(ALPHABETS[self.alphabet]) ** self.length)

    @property
    def entropy_bits(self) -> float:
        return round(self.length * math.log2(len(ALPHABETS[self.alphabet])), 1)

    def position_sets(self) -> list[frozenset[str]]:
        """The characters each position of a normalised code may hold."""
        body = frozenset(ALPHABETS[self.alphabet])
        return [frozenset(ch) for ch in self.prefix] + [body] * self.length


def normalise(code: str) -> str:
    """Case-, space- and dash-insensitive: 'k7qf-m2xd 9p' reads as 'K7QFM2XD9P'."""
    cleaned = "".join(ch for ch in code.upper() if ch not in " -_\t")
    return cleaned.translate(_LOOKALIKES)


def normalise_prefix(prefix: str) -> str:
    return normalise(prefix)


def display(code: str) -> str:
    """Groups of four for reading aloud and printing: K7QF-M2XD-9P."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def overlaps(first: CodeShape, second: CodeShape) -> bool:
    """Whether two different shapes could spell the same string (and so collide)."""
    if first == second:
        return False  # the same shape shares one counter: never the same code twice
    a, b = first.position_sets(), second.position_sets()
    return len(a) == len(b) and all(x & y for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class CodeKeys:
    hmac_key: bytes
    fpe_key: bytes


def _new_code_keys() -> str:
    return json.dumps(
        {"hmac": base64.b64encode(secrets.token_bytes(32)).decode(),
         "fpe": base64.b64encode(secrets.token_bytes(32)).decode()}
    )  # fmt: skip


@lru_cache(maxsize=1)
def get_code_keys() -> CodeKeys:
    settings = get_settings()
    document = load_secret(
        secret_id=settings.code_keys_secret_id, file=settings.code_keys_file, create=_new_code_keys,
        what="voucher code keys",
    )  # fmt: skip
    data = json.loads(document)
    return CodeKeys(hmac_key=base64.b64decode(data["hmac"]), fpe_key=base64.b64decode(data["fpe"]))


def code_hash(org_id: str, code: str) -> str:
    """The voucher's key: a keyed hash of the normalised code, scoped to its organisation."""
    message = f"{org_id}:{normalise(code)}".encode()
    return hmac.new(get_code_keys().hmac_key, message, hashlib.sha256).hexdigest()


class CodeGenerator:
    """Codes number `start`, `start + 1`, ... of one shape in one organisation."""

    def __init__(self, org_id: str, shape: CodeShape) -> None:
        from ff3 import FF3Cipher  # loaded only where codes are made

        keys = get_code_keys()
        # The tweak separates organisations and shapes: the same number gives unrelated codes.
        tweak = hmac.new(keys.fpe_key, f"{org_id}|{shape.shape_id}".encode(), hashlib.sha256).digest()[:7]
        self._alphabet = ALPHABETS[shape.alphabet]
        self._shape = shape
        self._cipher = FF3Cipher.withCustomAlphabet(keys.fpe_key.hex(), tweak.hex(), self._alphabet)

    def code(self, number: int) -> str:
        if not 0 <= number < self._shape.capacity:
            raise ValueError("code number outside the shape's space")
        radix = len(self._alphabet)
        digits = []
        for _ in range(self._shape.length):
            number, remainder = divmod(number, radix)
            digits.append(self._alphabet[remainder])
        plaintext = "".join(reversed(digits))
        return self._shape.prefix + str(self._cipher.encrypt(plaintext))
