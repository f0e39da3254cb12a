"""A fake Xendit QR Codes API (`api-version: 2022-07-31`) on loopback, with callbacks carrying `x-callback-token`.

Beyond `FakeProvider`'s API (`tests/fakes/__init__.py`):
- `register_account(secret_key=None, callback_token=None, business_id=None, callback_url=None)
  -> Credentials`; `credentials` is the default account's. Xendit takes the callback URL
  from its dashboard, so it belongs to the account: `set_callback_url(creds, url)`.
- `qr(qr_id_or_order_id) -> XenditQr`: the fake's record (its `payments` too).
- `simulate_payment(order_id_or_qr_id, amount=None, *, shape="2022-07-31", copies=1,
  concurrent=False, even_if_closed=False, callback_token=None)`: a payment on the QR, then
  its callback; `shape="legacy"` sends the older flat shape (`status: COMPLETED`,
  `qr_code: {id, external_id}`); `callback_token` sends that token instead of the account's.
- `notify_payment(order_id_or_qr_id, *, shape=..., copies=1, concurrent=False, callback_token=None)`:
  the last payment's callback again (a late duplicate).
- `expire_now(order_id_or_qr_id)`: the QR's `expires_at` passes (Xendit sends no callback).
- `POST /qr_codes/{id}/payments/simulate` works as in Xendit's test mode: the callback
  follows from a background thread.

Shapes follow [docs.xendit.co qr-codes, the callback pages]: amounts as JSON numbers,
ISO 8601 UTC times, ids `qr_...`, `qrpy_...`, `qrrf_...`, errors as `{error_code, message}`.
"""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import unquote

from chalicelib.payments import Credentials
from chalicelib.payments.xendit import API_VERSION, iso_time
from tests.fakes import Answer, Delivery, FakeProvider, ProviderError, now, qris_string

Shape = Literal["2022-07-31", "legacy"]
DEFAULT_SECRET_KEY = "xnd_development_FAKEdefault000000000000"
DEFAULT_CALLBACK_TOKEN = "fake-callback-token-default-000000000000"
MAX_AMOUNT = 10_000_000  # QRIS's limit per payment


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class XenditAccount:
    secret_key: str
    callback_token: str
    business_id: str
    callback_url: str | None = None


@dataclass
class XenditPayment:
    id: str
    amount: int
    status: str  # SUCCEEDED, REFUNDED
    created: datetime
    refunded: int = 0


@dataclass
class XenditQr:
    id: str
    reference_id: str
    secret_key: str
    amount: int
    status: str  # ACTIVE, INACTIVE
    expires_at: datetime
    created: datetime
    qr_string: str
    payments: list[XenditPayment] = field(default_factory=list)


@dataclass
class FakeXendit(FakeProvider):
    create_path: ClassVar[str] = "/qr_codes"

    accounts: dict[str, XenditAccount] = field(default_factory=dict)
    qr_codes: dict[str, XenditQr] = field(default_factory=dict)  # by qr id
    _idempotent: dict[tuple[str, str], tuple[str, Answer]] = field(default_factory=dict)
    _refund_answers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.register_account(secret_key=DEFAULT_SECRET_KEY, callback_token=DEFAULT_CALLBACK_TOKEN)

    # ---- accounts ------------------------------------------------------------------------
    def register_account(
        self,
        secret_key: str | None = None,
        callback_token: str | None = None,
        business_id: str | None = None,
        callback_url: str | None = None,
    ) -> Credentials:
        key = secret_key or "xnd_development_" + secrets.token_urlsafe(24)
        token = callback_token or secrets.token_urlsafe(24)
        with self._lock:
            self.accounts[key] = XenditAccount(key, token, business_id or secrets.token_hex(12), callback_url)
        return Credentials(environment="sandbox", secret_key=key, callback_token=token)

    @property
    def credentials(self) -> Credentials:
        return Credentials(environment="sandbox", secret_key=DEFAULT_SECRET_KEY, callback_token=DEFAULT_CALLBACK_TOKEN)

    def set_callback_url(self, creds: Credentials, url: str) -> None:
        with self._lock:
            self.accounts[str(creds.secret_key)].callback_url = url

    def knows_key(self, key: str) -> bool:
        return key in self.accounts

    def qr(self, ref: str) -> XenditQr:
        """The record for a QR id or an order id (its reference_id); KeyError when there is none."""
        with self._lock:
            if ref in self.qr_codes:
                return self._current(self.qr_codes[ref])
            for qr_code in self.qr_codes.values():
                if qr_code.reference_id == ref:
                    return self._current(qr_code)
        raise KeyError(ref)

    # ---- what the guest and the provider do ----------------------------------------------
    def simulate_payment(
        self,
        order_id: str,
        amount: int | None = None,
        *,
        shape: Shape = "2022-07-31",
        copies: int = 1,
        concurrent: bool = False,
        even_if_closed: bool = False,
        callback_token: str | None = None,
    ) -> list[Delivery]:
        with self._lock:
            self._pay(self.qr(order_id), amount, even_if_closed=even_if_closed)
        return self.notify_payment(
            order_id, shape=shape, copies=copies, concurrent=concurrent, callback_token=callback_token
        )

    def notify_payment(
        self,
        order_id: str,
        *,
        shape: Shape = "2022-07-31",
        copies: int = 1,
        concurrent: bool = False,
        callback_token: str | None = None,
    ) -> list[Delivery]:
        with self._lock:
            qr_code = self.qr(order_id)
            if not qr_code.payments:
                raise ValueError(f"QR {qr_code.id} has no payment to notify")
            account = self.accounts[qr_code.secret_key]
            body = self._callback(qr_code, qr_code.payments[-1], account, shape)
            headers = {"x-callback-token": callback_token or account.callback_token}
            url = account.callback_url
        return self.send_webhook(url, headers, json.dumps(body).encode(), copies=copies, concurrent=concurrent)

    def expire_now(self, order_id: str) -> None:
        with self._lock:
            qr_code = self.qr(order_id)
            if qr_code.status == "ACTIVE":
                qr_code.status = "INACTIVE"
                qr_code.expires_at = now()

    # ---- the API -------------------------------------------------------------------------
    def route(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None, account: str | None
    ) -> Answer:
        if account is None:
            raise _error(401, "INVALID_API_KEY", "API key is not authorized for this API service")
        if headers.get("api-version") != API_VERSION:
            raise _error(400, "API_VALIDATION_ERROR", f"this fake speaks api-version {API_VERSION} only")
        parts = [unquote(part) for part in path.strip("/").split("/")]
        if method == "POST" and parts == ["qr_codes"]:
            return self._create(headers, body or {}, account)
        if method == "POST" and len(parts) == 4 and parts[:2] == ["qr_codes", "payments"] and parts[3] == "refunds":
            return self._refund(parts[2], headers, body or {}, account)
        if len(parts) >= 2 and parts[0] == "qr_codes":
            qr_code = self.qr_codes.get(parts[1])
            if qr_code is None or qr_code.secret_key != account:
                raise _error(404, "DATA_NOT_FOUND", "QR code not found")
            self._current(qr_code)
            if method == "GET" and len(parts) == 2:
                return Answer(200, self._describe(qr_code))
            if method == "GET" and parts[2:] == ["payments"]:
                payments = [self._payment(qr_code, p, self.accounts[account]) for p in qr_code.payments]
                return Answer(200, {"data": payments, "has_more": False})
            if method == "POST" and parts[2:] == ["payments", "simulate"]:
                return self._simulate_endpoint(qr_code, body or {})
        raise _error(404, "NOT_FOUND", "no such endpoint in the fake")

    def _create(self, headers: dict[str, str], body: dict[str, Any], account: str) -> Answer:
        fault = self._next_fault()
        if fault is not None and fault.hang_seconds is None:
            return Answer(fault.status, {"error_code": "SERVER_ERROR", "message": "fake provider fault"})
        key = headers.get("idempotency-key")
        fingerprint = json.dumps(body, sort_keys=True)
        if key and (account, key) in self._idempotent:
            seen, answer = self._idempotent[(account, key)]
            if seen != fingerprint:
                raise _error(409, "IDEMPOTENCY_ERROR", "the idempotency key was used for another request")
            return answer
        reference_id, amount = body.get("reference_id"), body.get("amount")
        expires_at = iso_time(body.get("expires_at")) or now() + timedelta(hours=48)
        if not isinstance(reference_id, str) or body.get("type") != "DYNAMIC" or body.get("currency") != "IDR":
            raise _error(400, "API_VALIDATION_ERROR", "reference_id, type DYNAMIC and currency IDR are required")
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= MAX_AMOUNT:
            raise _error(400, "API_VALIDATION_ERROR", f"amount must be a whole number from 1 to {MAX_AMOUNT}")
        if any(q.reference_id == reference_id for q in self.qr_codes.values()):
            raise _error(409, "DUPLICATE_ERROR", "reference_id has been used before")
        qr_code = XenditQr(
            id="qr_" + str(uuid.uuid4()),
            reference_id=reference_id,
            secret_key=account,
            amount=amount,
            status="ACTIVE",
            expires_at=expires_at,
            created=now(),
            qr_string=qris_string("KUOTA FAKE MERCHANT", amount, reference_id),
        )
        self.qr_codes[qr_code.id] = qr_code
        answer = Answer(201, self._describe(qr_code))
        if key:
            self._idempotent[(account, key)] = (fingerprint, answer)
        if fault is not None:
            return Answer(answer.status, answer.body, hang_seconds=fault.hang_seconds)
        return answer

    def _simulate_endpoint(self, qr_code: XenditQr, body: dict[str, Any]) -> Answer:
        amount = body.get("amount")
        try:
            payment = self._pay(qr_code, amount if isinstance(amount, int) else None, even_if_closed=False)
        except ValueError as exc:
            raise _error(400, "INACTIVE_QR_CODE", str(exc)) from None
        if self.accounts[qr_code.secret_key].callback_url:  # like Xendit: no URL set, no callback
            threading.Thread(target=self.notify_payment, args=(qr_code.id,), daemon=True).start()
        return Answer(200, self._payment(qr_code, payment, self.accounts[qr_code.secret_key]))

    def _refund(self, payment_id: str, headers: dict[str, str], body: dict[str, Any], account: str) -> Answer:
        found = [(q, p) for q in self.qr_codes.values() if q.secret_key == account for p in q.payments]
        match = [(q, p) for q, p in found if p.id == payment_id]
        if not match:
            raise _error(404, "DATA_NOT_FOUND", "QR payment not found")
        qr_code, payment = match[0]
        key = headers.get("idempotency-key") or str(body.get("reference_id") or uuid.uuid4())
        if (account, key) in self._refund_answers:
            return Answer(200, self._refund_answers[(account, key)])
        remaining = payment.amount - payment.refunded
        amount = body.get("amount", remaining)
        if not isinstance(amount, int) or not 0 < amount <= remaining:
            raise _error(400, "MAXIMUM_REFUND_AMOUNT_REACHED", "the refund exceeds what is left of the payment")
        payment.refunded += amount
        if payment.refunded == payment.amount:
            payment.status = "REFUNDED"
        answer = {
            "id": "qrrf_" + str(uuid.uuid4()),
            "payment_id": payment.id,
            "qr_id": qr_code.id,
            "reference_id": body.get("reference_id"),
            "amount": amount,
            "currency": "IDR",
            "reason": body.get("reason"),
            "status": "SUCCEEDED",
            "created": iso(now()),
        }
        self._refund_answers[(account, key)] = answer
        self.refunds.append(
            {
                "order_id": qr_code.reference_id,
                "payment_id": payment.id,
                "refund_key": key,
                "amount": amount,
                "reason": body.get("reason"),
                "refund_id": answer["id"],
            }
        )
        return Answer(200, answer)

    # ---- state and shapes ----------------------------------------------------------------
    def _pay(self, qr_code: XenditQr, amount: int | None, *, even_if_closed: bool) -> XenditPayment:
        if qr_code.status != "ACTIVE" and not even_if_closed:
            raise ValueError(f"QR {qr_code.id} is {qr_code.status}: pass even_if_closed=True to pay it anyway")
        payment = XenditPayment(
            id="qrpy_" + str(uuid.uuid4()),
            amount=qr_code.amount if amount is None else amount,
            status="SUCCEEDED",
            created=now(),
        )
        qr_code.payments.append(payment)
        qr_code.status = "INACTIVE"  # a dynamic QR takes one payment
        return payment

    def _current(self, qr_code: XenditQr) -> XenditQr:
        if qr_code.status == "ACTIVE" and now() >= qr_code.expires_at:
            qr_code.status = "INACTIVE"
        return qr_code

    def _describe(self, qr_code: XenditQr) -> dict[str, Any]:
        return {
            "id": qr_code.id,
            "reference_id": qr_code.reference_id,
            "business_id": self.accounts[qr_code.secret_key].business_id,
            "type": "DYNAMIC",
            "currency": "IDR",
            "amount": qr_code.amount,
            "channel_code": "ID_DANA",
            "status": qr_code.status,
            "qr_string": qr_code.qr_string,
            "expires_at": iso(qr_code.expires_at),
            "created": iso(qr_code.created),
            "updated": iso(now()),
            "metadata": None,
        }

    def _payment(self, qr_code: XenditQr, payment: XenditPayment, account: XenditAccount) -> dict[str, Any]:
        return {
            "id": payment.id,
            "business_id": account.business_id,
            "currency": "IDR",
            "amount": payment.amount,
            "status": payment.status,
            "created": iso(payment.created),
            "qr_id": qr_code.id,
            "qr_string": qr_code.qr_string,
            "reference_id": qr_code.reference_id,
            "type": "DYNAMIC",
            "channel_code": "ID_DANA",
            "expires_at": iso(qr_code.expires_at),
            "description": None,
            "metadata": None,
            "payment_detail": {
                "receipt_id": secrets.token_hex(6),
                "source": "DANA",
                "name": "Budi",
                "account_details": None,
            },
        }

    def _callback(
        self, qr_code: XenditQr, payment: XenditPayment, account: XenditAccount, shape: Shape
    ) -> dict[str, Any]:
        if shape == "legacy":
            return {
                "event": "qr.payment",
                "id": payment.id,
                "amount": payment.amount,
                "created": iso(payment.created),
                "qr_code": {
                    "id": qr_code.id,
                    "external_id": qr_code.reference_id,
                    "qr_string": qr_code.qr_string,
                    "type": "DYNAMIC",
                },
                "status": "COMPLETED",
                "payment_details": {"receipt_id": secrets.token_hex(6), "source": "DANA"},
            }
        data = self._payment(qr_code, payment, account)
        data["status"] = "SUCCEEDED"
        return {
            "event": "qr.payment",
            "api_version": API_VERSION,
            "business_id": account.business_id,
            "created": iso(now()),
            "data": data,
        }


def _error(status: int, error_code: str, message: str) -> ProviderError:
    return ProviderError(status, {"error_code": error_code, "message": message})
