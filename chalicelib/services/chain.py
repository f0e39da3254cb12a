"""Tamper evidence: every audit event and ledger entry is a link of a hash chain, and each day's chains are signed.

A record's hash covers its whole stored item (every attribute but the hash
itself, its place in the chain included) and the hash of the record before it,
so editing, deleting or inserting a record breaks the chain from there on. Chains
are per owner (an org or the platform), UTC day and site, in a few lanes each:
writers at other sites never wait, writers at one busy site (several tills, the
outbox drain) mostly write to different lanes, and a day's chains close with
the day. Each chain's head (`ChainHead`) moves in the same transaction as the
records, on the condition that nobody moved it meanwhile: concurrent writers
retry on another lane (among more lanes each time they lose), they never fork a chain.

Someone able to write the tables could rewrite a chain to its head. What they
cannot forge is the daily digest (`ChainDigest`, in the append-only audit
table): each owner's chains of a day (count and last hash) and the previous
day's digest, signed with an Ed25519 key kept in Secrets Manager, not in a table.
`ChainVerifier` recomputes the chains and holds them to the digests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from chalicelib.config import get_settings
from chalicelib.models import AuditEvent, LedgerEntry
from chalicelib.models.audit import ChainDigest
from chalicelib.models.base import dynamodb_client, save_if
from chalicelib.models.vouchers import LEDGER_PREFIX, ChainHead
from chalicelib.secrets import load_secret

GENESIS = "0" * 64
# Chains per owner, day and site that a first attempt spreads over; a writer that lost a race to another
# spreads twice as wide on each retry, so only a site that busy opens more chains (and digests stay small).
LANES = 8
MAX_LANES = 64
MAX_ATTEMPTS = 40
Record = AuditEvent | LedgerEntry
HeadKey = tuple[str, str]


def canonical(item: dict[str, Any]) -> bytes:
    """The stored item (DynamoDB JSON) without its own hash, in one byte order."""
    return json.dumps(
        {name: value for name, value in item.items() if name != "chain_hash"}, sort_keys=True, separators=(",", ":")
    ).encode()


def link_hash(previous: str, item: dict[str, Any]) -> str:
    return hashlib.sha256(previous.encode() + b"\n" + canonical(item)).hexdigest()


def chain_day(at: datetime) -> str:
    return at.astimezone(UTC).date().isoformat()


def head_key(record: Record, lane: int) -> HeadKey:
    """The chain a record goes to: its owner, its UTC day, its site and the writer's lane."""
    site = record.site_id if isinstance(record, AuditEvent) else record.rev_site
    return f"CHAIN#{record.pk}", f"{chain_day(record.at)}#{site or '-'}#{lane}"


def pick_lane(lost_races: int = 0) -> int:
    """One of the first LANES lanes, the choice doubled for each race the writer has lost (up to MAX_LANES)."""
    lanes = min(MAX_LANES, LANES << lost_races)
    return random.randrange(lanes)  # noqa: S311 (spreading writers, not a secret)  # nosec B311


@dataclass
class Links:
    """Records placed in their chains, and the head moves that must land with them."""

    heads: dict[HeadKey, ChainHead | None]
    moves: list[tuple[ChainHead, int | None]] = field(default_factory=list)  # (new head, seq it replaces)


def link(records: Sequence[Record], lane: int) -> Links:
    """Read the heads of the records' chains and give each record its place after them."""
    keys = list(dict.fromkeys(head_key(record, lane) for record in records))
    heads: dict[HeadKey, ChainHead | None] = {}
    for key in keys:
        try:
            heads[key] = ChainHead.get(*key, consistent_read=True)
        except DoesNotExist:
            heads[key] = None
    state = {key: (int(head.seq), str(head.hash)) if head else (0, GENESIS) for key, head in heads.items()}
    for record in records:
        key = head_key(record, lane)
        seq, previous = state[key]
        record.chain_id, record.chain_seq, record.chain_prev, record.chain_hash = key[1], seq + 1, previous, None
        record.chain_hash = link_hash(previous, record.serialize())
        state[key] = (seq + 1, record.chain_hash)
    links = Links(heads=heads)
    for key, (seq, last) in state.items():
        old = heads[key]
        links.moves.append((ChainHead(*key, seq=seq, hash=last), int(old.seq) if old else None))
    return links


def lost_race(error: TransactWriteError, moves: int) -> bool:
    """Whether a transaction failed only because another writer moved a chain head first."""
    reasons = list(error.cancellation_reasons or [])
    codes = [reason.code if reason is not None else None for reason in reasons]
    if "TransactionConflict" in codes:
        return "ConditionalCheckFailed" not in codes[: len(codes) - moves]
    own, heads = codes[: len(codes) - moves], codes[len(codes) - moves :]
    return "ConditionalCheckFailed" in heads and "ConditionalCheckFailed" not in own


def back_off(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))  # noqa: S311 (jitter, not a secret)  # nosec B311


# --- the signing key --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _signing_key() -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    settings = get_settings()
    pem = load_secret(secret_id=settings.ledger_key_secret_id, file=settings.ledger_key_file,
                      create=new_ledger_key, what="ledger signing key")  # fmt: skip
    return load_pem_private_key(pem.encode(), password=None)


def new_ledger_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    return Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()


def key_id() -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = _signing_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(public).hexdigest()[:16]


def _verify_signature(payload: str, signature: str) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        _signing_key().public_key().verify(base64.b64decode(signature), payload.encode())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- sealing a day ----------------------------------------------------------------------------------


def heads_of_day(owner: str, day: date) -> list[ChainHead]:
    return list(ChainHead.query(f"CHAIN#{owner}", ChainHead.sk.startswith(f"{day.isoformat()}#"), consistent_read=True))


def heads_between(owner: str, first: date, last: date) -> dict[str, int]:
    """Where each of `owner`'s chains of the days first..last stands: every chained write moves one, so two
    equal answers mean nothing chained was written in between."""
    return {head.sk: int(head.seq) for head in ChainHead.query(
        f"CHAIN#{owner}", ChainHead.sk.between(f"{first.isoformat()}#", f"{last.isoformat()}#~"), consistent_read=True,
    )}  # fmt: skip


def seal(owner: str, day: date, now: datetime) -> ChainDigest | None:
    """Sign `owner`'s chains of `day` (a day that has ended); None when it has none or is sealed already."""
    heads = heads_of_day(owner, day)
    if not heads:
        return None
    previous = _previous_digest(owner, day)
    payload = json.dumps(
        {
            "owner": owner,
            "day": day.isoformat(),
            "chains": [[head.sk, int(head.seq), head.hash] for head in heads],
            "previous": hashlib.sha256(previous.payload.encode()).hexdigest() if previous else None,
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    signature = base64.b64encode(_signing_key().sign(payload.encode())).decode()
    digest = ChainDigest(f"DIGEST#{owner}", day.isoformat(), payload=payload, signature=signature, key_id=key_id(),
                         sealed_at=now)  # fmt: skip
    return digest if save_if(digest, ChainDigest.pk.does_not_exist()) else None


def _previous_digest(owner: str, day: date) -> ChainDigest | None:
    earlier = ChainDigest.query(f"DIGEST#{owner}", ChainDigest.sk < day.isoformat(), scan_index_forward=False, limit=1)
    return next(iter(earlier), None)


SEAL_AFTER_DAYS = 2  # a day is sealed once late outbox entries can no longer join its chains
SEAL_LOOKBACK_DAYS = 7  # days a missed run catches up on


def seal_due(owners: Sequence[str], now: datetime) -> int:
    """Seal every owner's ended days that are due and not sealed yet, oldest first; return how many."""
    sealed = 0
    today = now.astimezone(UTC).date()
    for owner in owners:
        for back in range(SEAL_LOOKBACK_DAYS, SEAL_AFTER_DAYS - 1, -1):
            if seal(owner, today - timedelta(days=back), now) is not None:
                sealed += 1
    return sealed


# --- verification -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """Something that does not hold; `record` names the item (table, PK, SK) where it shows first."""

    kind: str  # edited | deleted | inserted | unchained | head_mismatch | digest_mismatch | bad_signature
    day: str
    chain: str | None
    seq: int | None
    record: dict[str, str] | None
    message: str


@dataclass
class ChainReport:
    owner: str
    start: date
    end: date
    chains: int = 0
    records: int = 0
    days_sealed: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chains(owner: str, start: date, end: date) -> ChainReport:
    """Recompute `owner`'s chains of the UTC days start..end and hold them to their heads and digests."""
    report = ChainReport(owner=owner, start=start, end=end)
    day = start
    while day <= end:
        _verify_day(owner, day, report)
        day += timedelta(days=1)
    return report


def _raw_records(owner: str, day: date) -> Iterator[tuple[str, dict[str, Any]]]:
    settings = get_settings()
    low, high = day.isoformat(), f"{day.isoformat()}~"
    sources = (
        (settings.audit_table, dynamodb_client(AuditEvent), low, high),
        (settings.app_table, dynamodb_client(LedgerEntry), f"{LEDGER_PREFIX}{low}", f"{LEDGER_PREFIX}{high}"),
    )
    for table, client, first, last in sources:
        arguments: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "PK = :owner AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":owner": {"S": owner}, ":low": {"S": first}, ":high": {"S": last}},
            "ConsistentRead": True,
        }
        while True:
            page = client.query(**arguments)
            for item in page.get("Items", []):
                yield table, item
            if "LastEvaluatedKey" not in page:
                break
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _name(table: str, item: dict[str, Any]) -> dict[str, str]:
    return {"table": table, "pk": item["PK"]["S"], "sk": item["SK"]["S"]}


def _verify_day(owner: str, day: date, report: ChainReport) -> None:
    today = day.isoformat()
    heads = {head.sk: head for head in heads_of_day(owner, day)}
    chains: dict[str, dict[int, list[tuple[str, dict[str, Any]]]]] = {}
    for table, item in _raw_records(owner, day):
        report.records += 1
        chain = item.get("chain_id", {}).get("S")
        seq = item.get("chain_seq", {}).get("N")
        if chain is None or seq is None:
            report.problems.append(Problem("unchained", today, None, None, _name(table, item),
                                           "a record that is in no chain: written around the ledger"))  # fmt: skip
            continue
        chains.setdefault(chain, {}).setdefault(int(seq), []).append((table, item))
    for chain in sorted(set(chains) | set(heads)):
        report.chains += 1
        problem = _verify_chain(today, chain, chains.get(chain, {}), heads.get(chain))
        if problem:
            report.problems.append(problem)
    digest = next(iter(ChainDigest.query(f"DIGEST#{owner}", ChainDigest.sk == today, consistent_read=True)), None)
    if digest is None:
        return
    report.days_sealed.append(today)
    if not _verify_signature(digest.payload, digest.signature):
        report.problems.append(Problem("bad_signature", today, None, None, None,
                                       "the day's digest does not carry a valid signature"))  # fmt: skip
        return
    sealed = {chain: (seq, last) for chain, seq, last in json.loads(digest.payload)["chains"]}
    for chain in sorted(set(sealed) | set(heads)):
        head = heads.get(chain)
        now = (int(head.seq), str(head.hash)) if head else None
        if now != sealed.get(chain):
            was = sealed.get(chain)
            report.problems.append(Problem(
                "digest_mismatch", today, chain, None, None,
                f"chain {chain} held {was[0] if was else 0} records ending {was[1][:12] if was else '-'} when the day "
                f"was sealed; it now holds {now[0] if now else 0} ending {now[1][:12] if now else '-'}",
            ))  # fmt: skip


def _verify_chain(
    day: str, chain: str, by_seq: dict[int, list[tuple[str, dict[str, Any]]]], head: ChainHead | None
) -> Problem | None:
    """The first thing wrong with one chain, or None."""
    if not chain.startswith(f"{day}#"):
        table, item = next(iter(by_seq.values()))[0]
        return Problem("inserted", day, chain, None, _name(table, item), "a record placed in another day's chain")
    length = int(head.seq) if head else 0
    previous = GENESIS
    for seq in range(1, max([length, *by_seq]) + 1):
        found = by_seq.get(seq, [])
        if len(found) > 1:
            table, item = found[1]
            return Problem("inserted", day, chain, seq, _name(table, item), f"two records claim place {seq}")
        if not found:
            following = by_seq.get(seq + 1)
            named = _name(*following[0]) if following else None
            return Problem("deleted", day, chain, seq, named, f"the record at place {seq} is missing")
        table, item = found[0]
        if seq > length:
            return Problem("inserted", day, chain, seq, _name(table, item), f"a record past the chain's end ({length})")
        if item.get("chain_prev", {}).get("S") != previous:
            return Problem("inserted", day, chain, seq, _name(table, item),
                           "the record does not follow the one before it")  # fmt: skip
        stored = item.get("chain_hash", {}).get("S")
        if link_hash(previous, item) != stored:
            return Problem("edited", day, chain, seq, _name(table, item), "the record was changed after it was written")
        previous = cast(str, stored)
    if head is not None and previous != head.hash:
        return Problem("head_mismatch", day, chain, length, None, "the chain's head does not match its last record")
    return None
