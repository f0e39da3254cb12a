"""A fake Midtrans Core API (QRIS) on loopback: charge, status, expire, refund, and signed notifications.

Beyond `FakeProvider`'s API (`tests/fakes/__init__.py`):
- `register_account(server_key=None, merchant_id=None, notification_url=None) -> Credentials`;
  `credentials` is the default account's. A charge's notification URL is its
  `X-Override-Notification` header, else the account's `notification_url`.
- `transaction(order_id_or_transaction_id) -> MidtransTransaction`: the fake's record.
- `simulate_payment(order_id, amount=None, *, copies=1, concurrent=False, even_if_closed=False,
  sign_with=None, gross_amount_text=None)`: settles the order and sends the notification.
- `notify(order_id, transaction_status=None, *, status_code=None, fraud_status=None,
  gross_amount_text=None, order_id_override=None, sign_with=None, sign_with_text=None, copies=1,
  concurrent=False)`: a notification about the order as it stands, or with fields changed,
  leaving the record alone. `transaction_status` alone relabels (the status_code stays, as in
  the attack: a genuine pending `201` relabelled `settlement` still verifies); an `expire`
  after the payment (out of order) is `notify(order_id, "expire", status_code="407")`. The
  signature covers what is sent, signed with the account's key, unless `sign_with` (a wrong
  key) or `sign_with_text` (the amount text signed: `gross_amount_text="10000",
  sign_with_text="10000.00"` is the reformatted amount) say otherwise.
- `expire_now(order_id, *, notify=False)`: the QR's expiry passes (it also passes by itself
  at `expiry_time`).

Answers follow the documented shapes [docs.midtrans.com reference-link/qris,
reference/handle-notifications, reference/expire-transaction, reference-link/refund-transaction]:
amounts as strings with two decimals, times in WIB without an offset, `status_code` in
the body (Midtrans answers a charge with HTTP 200 and `status_code` "201").
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import unquote

from chalicelib.payments import Credentials
from chalicelib.payments.midtrans import JAKARTA, signature
from tests.fakes import Answer, Delivery, FakeProvider, ProviderError, now, qris_string

STATUS_CODES = {
    "pending": "201",
    "settlement": "200",
    "capture": "200",
    "expire": "407",
    "cancel": "200",
    "deny": "202",
    "refund": "200",
    "partial_refund": "200",
}
DEFAULT_SERVER_KEY = "SB-Mid-server-FAKEdefault0000000000"


def wib(moment: datetime) -> str:
    return moment.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M:%S")


@dataclass
class MidtransAccount:
    server_key: str
    merchant_id: str
    notification_url: str | None = None


@dataclass
class MidtransTransaction:
    order_id: str
    transaction_id: str
    server_key: str
    gross_amount: int
    status: str
    notification_url: str | None
    transaction_time: datetime
    expiry_time: datetime
    qr_string: str
    settlement_time: datetime | None = None
    refunded: int = 0
    refund_answers: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class FakeMidtrans(FakeProvider):
    create_path: ClassVar[str] = "/v2/charge"

    accounts: dict[str, MidtransAccount] = field(default_factory=dict)
    transactions: dict[str, MidtransTransaction] = field(default_factory=dict)  # by transaction_id
    _idempotent: dict[tuple[str, str], tuple[str, Answer]] = field(default_factory=dict)
    _refund_ids: int = 0

    def __post_init__(self) -> None:
        self.register_account(server_key=DEFAULT_SERVER_KEY, merchant_id="G000000001")

    # ---- accounts ------------------------------------------------------------------------
    def register_account(
        self, server_key: str | None = None, merchant_id: str | None = None, notification_url: str | None = None
    ) -> Credentials:
        key = server_key or "SB-Mid-server-" + secrets.token_urlsafe(18)
        with self._lock:
            merchant = merchant_id or f"G{len(self.accounts) + 1:09d}"
            self.accounts[key] = MidtransAccount(key, merchant, notification_url)
        return Credentials(environment="sandbox", server_key=key)

    @property
    def credentials(self) -> Credentials:
        return Credentials(environment="sandbox", server_key=DEFAULT_SERVER_KEY)

    def knows_key(self, key: str) -> bool:
        return key in self.accounts

    def transaction(self, ref: str) -> MidtransTransaction:
        """The record for an order id or a transaction id (KeyError when there is none)."""
        with self._lock:
            if ref in self.transactions:
                return self.transactions[ref]
            for transaction in self.transactions.values():
                if transaction.order_id == ref:
                    return transaction
        raise KeyError(ref)

    # ---- what the guest and the provider do ----------------------------------------------
    def simulate_payment(
        self,
        order_id: str,
        amount: int | None = None,
        *,
        copies: int = 1,
        concurrent: bool = False,
        even_if_closed: bool = False,
        sign_with: str | None = None,
        gross_amount_text: str | None = None,
    ) -> list[Delivery]:
        with self._lock:
            transaction = self._current(self.transaction(order_id))
            if transaction.status != "pending" and not even_if_closed:
                raise ValueError(f"order {order_id} is {transaction.status}: pass even_if_closed=True to pay it anyway")
            transaction.status = "settlement"
            transaction.settlement_time = now()
            if amount is not None:
                transaction.gross_amount = amount
        return self.notify(
            order_id, copies=copies, concurrent=concurrent, sign_with=sign_with, gross_amount_text=gross_amount_text
        )

    def notify(
        self,
        order_id: str,
        transaction_status: str | None = None,
        *,
        status_code: str | None = None,
        fraud_status: str | None = None,
        gross_amount_text: str | None = None,
        order_id_override: str | None = None,
        sign_with: str | None = None,
        sign_with_text: str | None = None,
        copies: int = 1,
        concurrent: bool = False,
    ) -> list[Delivery]:
        """The order's notification as it stands, each given field replaced; signed over the sent strings
        with the account's key, unless `sign_with` (another key) or `sign_with_text` (the gross_amount
        text the signature covers, e.g. "10000.00" while "10000" is sent) say otherwise."""
        with self._lock:
            transaction = self._current(self.transaction(order_id))
            body = self._describe(transaction)
            url = transaction.notification_url
            key = sign_with or transaction.server_key
        changes = {
            "transaction_status": transaction_status,  # alone, a relabelling: the status_code stays
            "status_code": status_code,
            "fraud_status": fraud_status,
            "gross_amount": gross_amount_text,
            "order_id": order_id_override,
        }
        body.update({name: value for name, value in changes.items() if value is not None})
        body["status_message"] = "midtrans payment notification"
        signed_amount = sign_with_text if sign_with_text is not None else body["gross_amount"]
        body["signature_key"] = signature(body["order_id"], body["status_code"], signed_amount, key)
        return self.send_webhook(url, {}, json.dumps(body).encode(), copies=copies, concurrent=concurrent)

    def expire_now(self, order_id: str, *, notify: bool = False) -> list[Delivery]:
        with self._lock:
            transaction = self.transaction(order_id)
            if transaction.status == "pending":
                transaction.status = "expire"
                transaction.expiry_time = now()
        return self.notify(order_id) if notify else []

    # ---- the API -------------------------------------------------------------------------
    def route(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None, account: str | None
    ) -> Answer:
        if account is None:
            raise _error(401, "Access denied due to unauthorized transaction, please check client or server key")
        if method == "POST" and path == "/v2/charge":
            return self._charge(headers, body or {}, account)
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if len(parts) == 3 and parts[0] == "v2":
            ref, action = parts[1], parts[2]
            try:
                transaction = self._current(self.transaction(ref))
            except KeyError:
                raise _error(404, "Transaction doesn't exist.") from None
            if transaction.server_key != account:
                raise _error(404, "Transaction doesn't exist.")
            if method == "GET" and action == "status":
                return Answer(200, self._describe(transaction))
            if method == "POST" and action == "expire":
                return self._expire(transaction, ref)
            if method == "POST" and action == "refund":
                return self._refund(transaction, body or {})
        raise _error(404, "The requested resource is not found")

    def _charge(self, headers: dict[str, str], body: dict[str, Any], account: str) -> Answer:
        fault = self._next_fault()
        if fault is not None and fault.hang_seconds is None:
            return Answer(fault.status, {"status_code": str(fault.status), "status_message": "fake provider fault"})
        key = headers.get("idempotency-key")
        fingerprint = json.dumps(body, sort_keys=True)
        if key and (account, key) in self._idempotent:
            seen, answer = self._idempotent[(account, key)]
            if seen != fingerprint:
                raise _error(409, "Idempotency-Key was used for another request")
            return answer
        details = body.get("transaction_details") or {}
        order_id, amount = details.get("order_id"), details.get("gross_amount")
        if body.get("payment_type") != "qris" or not isinstance(order_id, str) or not isinstance(amount, int):
            raise _error(400, "payment_type qris, transaction_details.order_id and gross_amount are required")
        if amount < 1:
            raise _error(400, "transaction_details.gross_amount must be at least 1")
        if any(t.order_id == order_id for t in self.transactions.values()):
            raise _error(406, "The request could not be completed due to a conflict with the current state")
        minutes = int((body.get("custom_expiry") or {}).get("expiry_duration") or 15)
        started = now().replace(microsecond=0)
        transaction = MidtransTransaction(
            order_id=order_id,
            transaction_id=str(uuid.uuid4()),
            server_key=account,
            gross_amount=amount,
            status="pending",
            notification_url=headers.get("x-override-notification") or self.accounts[account].notification_url,
            transaction_time=started,
            expiry_time=started + timedelta(minutes=minutes),
            qr_string=qris_string("KUOTA FAKE MERCHANT", amount, order_id),
        )
        self.transactions[transaction.transaction_id] = transaction
        answer_body = self._describe(transaction)
        answer_body.pop("signature_key")
        answer_body.update(
            status_message="QRIS transaction is created",
            qr_string=transaction.qr_string,
            acquirer="gopay",
            actions=[
                {
                    "name": "generate-qr-code",
                    "method": "GET",
                    "url": f"{self.base_url}/v2/qris/{transaction.transaction_id}/qr-code",
                }
            ],
        )
        answer = Answer(200, answer_body)
        if key:
            self._idempotent[(account, key)] = (fingerprint, answer)
        if fault is not None:
            return Answer(answer.status, answer.body, hang_seconds=fault.hang_seconds)
        return answer

    def _expire(self, transaction: MidtransTransaction, ref: str) -> Answer:
        self.expire_calls.append(ref)
        if transaction.status != "pending":
            raise _error(412, "Merchant cannot modify the status of the transaction")
        transaction.status = "expire"
        transaction.expiry_time = now()
        answer = self._describe(transaction)
        answer.pop("signature_key")
        answer["status_message"] = "Success, transaction has expired"
        return Answer(200, answer)

    def _refund(self, transaction: MidtransTransaction, body: dict[str, Any]) -> Answer:
        refund_key = str(body.get("refund_key") or uuid.uuid4())
        if refund_key in transaction.refund_answers:
            return Answer(200, transaction.refund_answers[refund_key])
        if transaction.status not in ("settlement", "partial_refund"):
            raise _error(412, "Transaction status cannot be updated")
        remaining = transaction.gross_amount - transaction.refunded
        amount = body.get("amount", remaining)
        if not isinstance(amount, int) or not 0 < amount <= remaining:
            raise _error(412, "Refund amount is greater than the remaining amount")
        transaction.refunded += amount
        transaction.status = "refund" if transaction.refunded == transaction.gross_amount else "partial_refund"
        self._refund_ids += 1
        answer = self._describe(transaction)
        answer.pop("signature_key")
        answer.update(
            status_message="Success, refund request is approved",
            refund_chargeback_id=self._refund_ids,
            refund_amount=f"{amount}.00",
            refund_key=refund_key,
        )
        transaction.refund_answers[refund_key] = answer
        self.refunds.append(
            {
                "order_id": transaction.order_id,
                "transaction_id": transaction.transaction_id,
                "refund_key": refund_key,
                "amount": amount,
                "reason": body.get("reason"),
                "refund_id": str(self._refund_ids),
            }
        )
        return Answer(200, answer)

    # ---- shapes --------------------------------------------------------------------------
    def _current(self, transaction: MidtransTransaction) -> MidtransTransaction:
        """A pending QR past its expiry_time has expired, as Midtrans would report it."""
        if transaction.status == "pending" and now() >= transaction.expiry_time:
            transaction.status = "expire"
        return transaction

    def _describe(self, transaction: MidtransTransaction) -> dict[str, Any]:
        """The transaction as Midtrans's status read and notifications show it, signed with the account's key."""
        status_code = STATUS_CODES[transaction.status]
        gross_amount = f"{transaction.gross_amount}.00"
        body: dict[str, Any] = {
            "status_code": status_code,
            "status_message": "Success, transaction is found",
            "transaction_id": transaction.transaction_id,
            "order_id": transaction.order_id,
            "merchant_id": self.accounts[transaction.server_key].merchant_id,
            "gross_amount": gross_amount,
            "currency": "IDR",
            "payment_type": "qris",
            "transaction_time": wib(transaction.transaction_time),
            "transaction_status": transaction.status,
            "fraud_status": "accept",
            "expiry_time": wib(transaction.expiry_time),
            "signature_key": signature(transaction.order_id, status_code, gross_amount, transaction.server_key),
        }
        if transaction.settlement_time is not None:
            body["settlement_time"] = wib(transaction.settlement_time)
            body["issuer"] = "gopay"
        return body


def _error(status: int, message: str) -> ProviderError:
    return ProviderError(status, {"status_code": str(status), "status_message": message, "id": str(uuid.uuid4())})
