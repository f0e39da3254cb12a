"""Webhook verification: the providers' documented vectors pass, and every forgery we know of is refused.

Midtrans [docs.midtrans.com/reference/handle-notifications]: signature_key =
SHA512(order_id + status_code + gross_amount + server_key), hex, over the body's own
strings; the page's example is order "1111", status "200", gross_amount "100000.00".
Xendit [docs.xendit.co, callback setup]: the `x-callback-token` header equals the
account's callback verification token; callback shapes from the QR Codes pages
(2022-07-31 `qr.payment` with `data`, and the older flat one with `qr_code`).
Pure: no server, no emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.payments import Credentials, WebhookRejected, fee
from chalicelib.payments.midtrans import Midtrans, signature
from chalicelib.payments.xendit import Xendit

# The server key in Midtrans's notification example.
DOC_SERVER_KEY = "askvnoibnosifnboseofinbofinfgbiufglnbfg"
# SHA-512 of "1111" + "200" + "100000.00" + DOC_SERVER_KEY, computed once with `sha512sum` and pinned here.
DOC_SIGNATURE = (
    "edc076b21793ebe3e17926350f5b8ae67d902fe657b3d0aa31b932d5c127e237"
    "5d308a2bc94f3265ac2d80a1f181a79b997ac178a236fcff35af263fc4d4c231"
)
MIDTRANS = Midtrans(get_settings())
XENDIT = Xendit(get_settings())
MIDTRANS_CREDS = Credentials(environment="sandbox", server_key=DOC_SERVER_KEY)
XENDIT_TOKEN = "xendit-callback-token-of-the-account"
XENDIT_CREDS = Credentials(environment="sandbox", secret_key="xnd_development_x", callback_token=XENDIT_TOKEN)


def midtrans_body(**changes: Any) -> dict[str, Any]:
    """Midtrans's settlement notification for the documented example, signed with the documented key."""
    body: dict[str, Any] = {
        "transaction_time": "2026-12-02 17:20:00",
        "transaction_status": "settlement",
        "transaction_id": "513f1f01-c9da-474c-9fc9-d5c64364b709",
        "status_message": "midtrans payment notification",
        "status_code": "200",
        "signature_key": DOC_SIGNATURE,
        "settlement_time": "2026-12-02 17:21:05",
        "payment_type": "qris",
        "order_id": "1111",
        "merchant_id": "G141532850",
        "gross_amount": "100000.00",
        "fraud_status": "accept",
        "currency": "IDR",
        "acquirer": "gopay",
    }
    body.update(changes)
    return body


def raw(body: Any) -> bytes:
    return json.dumps(body).encode()


# ---- Midtrans ---------------------------------------------------------------------------------------


def test_the_documented_example_signs_to_the_pinned_sha512() -> None:
    assert signature("1111", "200", "100000.00", DOC_SERVER_KEY) == DOC_SIGNATURE
    expected = hashlib.sha512(b"1111" + b"200" + b"100000.00" + DOC_SERVER_KEY.encode()).hexdigest()
    assert expected == DOC_SIGNATURE


def test_a_genuine_settlement_is_trusted_with_its_amount_merchant_and_time_in_utc() -> None:
    event = MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(midtrans_body()))

    assert event.trusted
    state = event.state
    assert (state.order_id, state.status, state.amount, state.currency) == ("1111", "paid", 100000, "IDR")
    assert state.payment_id == state.provider_ref == "513f1f01-c9da-474c-9fc9-d5c64364b709"
    assert state.merchant == "G141532850"
    assert state.paid_at == datetime(2026, 12, 2, 10, 21, 5, tzinfo=UTC)  # 17:21:05 WIB
    assert "signature_key" not in event.redacted
    assert event.redacted["order_id"] == "1111"


@pytest.mark.parametrize(
    "change",
    [
        {"order_id": "1112"},  # another order
        {"gross_amount": "10000.00"},  # a smaller amount
        {"status_code": "201"},  # the signed status code changed
        {"gross_amount": "100000"},  # the amount reformatted: 100000 for 100000.00
        {"gross_amount": 100000.0},  # re-serialised JSON: the string became a number
        {"signature_key": DOC_SIGNATURE.upper()},  # not the hex Midtrans sends
        {"signature_key": DOC_SIGNATURE[:-1] + "0"},
        {"signature_key": ""},
    ],
    ids=["order", "amount", "status-code", "reformatted-amount", "reserialised", "upper-hex", "one-digit", "empty"],
)
def test_a_tampered_notification_is_refused(change: dict[str, Any]) -> None:
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(midtrans_body(**change)))


def test_a_body_reserialised_by_a_json_library_no_longer_verifies() -> None:
    """A proxy that parses and re-dumps with floats turns "100000.00" into 100000.0: refused, never "fixed"."""
    reparsed = json.loads(raw(midtrans_body()), parse_float=float)
    reparsed["gross_amount"] = float(Decimal(reparsed["gross_amount"]))
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, json.dumps(reparsed, separators=(",", ":")).encode())


def test_the_signature_over_100000_does_not_cover_100000_00() -> None:
    signed_over_integer = midtrans_body(signature_key=signature("1111", "200", "100000", DOC_SERVER_KEY))
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(signed_over_integer))


def test_a_notification_signed_with_another_key_is_refused() -> None:
    forged = midtrans_body(signature_key=signature("1111", "200", "100000.00", "SB-Mid-server-attacker"))
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(forged))


@pytest.mark.parametrize("server_key", [None, ""])
def test_an_account_without_a_server_key_refuses_everything(server_key: str | None) -> None:
    """Fail closed: SHA512 over an empty key would be computable by anyone."""
    creds = Credentials(environment="sandbox", server_key=server_key)
    body = midtrans_body(signature_key=signature("1111", "200", "100000.00", ""))
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(creds, {}, raw(body))


@pytest.mark.parametrize("missing", ["signature_key", "order_id", "status_code", "gross_amount"])
def test_a_notification_missing_a_signed_field_is_refused(missing: str) -> None:
    body = midtrans_body()
    del body[missing]
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(body))


@pytest.mark.parametrize("payload", [b"", b"not json", b"\xff\xfe", b"[1, 2]", b'"1111"'])
def test_a_body_that_is_not_a_json_object_is_refused(payload: bytes) -> None:
    with pytest.raises(WebhookRejected):
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, payload)


def test_a_pending_notification_relabelled_settlement_verifies_but_is_not_trusted() -> None:
    """The signature does not cover transaction_status: only status_code 200 can make a settlement trusted."""
    relabelled = midtrans_body(
        status_code="201",
        transaction_status="settlement",
        signature_key=signature("1111", "201", "100000.00", DOC_SERVER_KEY),
    )
    event = MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(relabelled))
    assert event.state.status == "paid"
    assert not event.trusted


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"fraud_status": "challenge"}, "paid"),
        ({"transaction_status": "expire", "status_code": "407"}, "expired"),
        ({"transaction_status": "cancel"}, "cancelled"),
        ({"transaction_status": "deny", "status_code": "202"}, "failed"),
        ({"transaction_status": "refund"}, "refunded"),
    ],
)
def test_only_an_accepted_settlement_is_trusted(change: dict[str, str], status: str) -> None:
    body = midtrans_body(**change)
    body["signature_key"] = signature("1111", body["status_code"], "100000.00", DOC_SERVER_KEY)
    event = MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(body))
    assert event.state.status == status
    assert not event.trusted


def test_an_amount_with_cents_is_reported_as_no_whole_amount() -> None:
    body = midtrans_body(gross_amount="100000.50", signature_key=signature("1111", "200", "100000.50", DOC_SERVER_KEY))
    assert MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(body)).state.amount is None


@pytest.mark.parametrize("adapter", ["midtrans", "xendit"])
def test_secrets_are_compared_in_constant_time(adapter: str, monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return compare_digest(a, b)

    if adapter == "midtrans":
        monkeypatch.setattr("chalicelib.payments.midtrans.hmac.compare_digest", spy)
        MIDTRANS.verify_webhook(MIDTRANS_CREDS, {}, raw(midtrans_body()))
    else:
        monkeypatch.setattr("chalicelib.payments.xendit.hmac.compare_digest", spy)
        XENDIT.verify_webhook(XENDIT_CREDS, {"x-callback-token": XENDIT_TOKEN}, raw(xendit_body()))
    assert len(compared) == 1


# ---- Xendit -----------------------------------------------------------------------------------------


def xendit_body() -> dict[str, Any]:
    """A 2022-07-31 `qr.payment` callback, as the QR Codes page shows it."""
    return {
        "event": "qr.payment",
        "api_version": "2022-07-31",
        "business_id": "5f4708b7bd394b0400b96276",
        "created": "2026-12-02T10:21:05.360Z",
        "data": {
            "id": "qrpy_8182837te-87st-49ing-8696-1239bd4d759c",
            "business_id": "5f4708b7bd394b0400b96276",
            "currency": "IDR",
            "amount": 25000,
            "status": "SUCCEEDED",
            "created": "2026-12-02T10:21:05.000Z",
            "qr_id": "qr_8182837te-87st-49ing-8696-1239bd4d759c",
            "reference_id": "order-abc",
            "type": "DYNAMIC",
            "channel_code": "ID_DANA",
            "payment_detail": {"receipt_id": "712718", "source": "DANA", "name": "Budi", "account_details": None},
        },
    }


def legacy_xendit_body() -> dict[str, Any]:
    """The older flat callback (still seen): status COMPLETED, the order under qr_code.external_id."""
    return {
        "event": "qr.payment",
        "id": "qrpy_0a8f62e4-0b1f-4f23-9d7e-3c2f1f7f7b10",
        "amount": 25000,
        "created": "2026-12-02T10:21:05.000Z",
        "qr_code": {"id": "qr_7d1c", "external_id": "order-abc", "qr_string": "000201...", "type": "DYNAMIC"},
        "status": "COMPLETED",
        "payment_details": {"receipt_id": "712718", "source": "DANA", "name": "Budi"},
    }


def test_a_xendit_callback_with_the_right_token_is_read_but_never_trusted() -> None:
    event = XENDIT.verify_webhook(XENDIT_CREDS, {"X-Callback-Token": XENDIT_TOKEN}, raw(xendit_body()))

    assert not event.trusted  # a static token proves nothing about the body: read the status first
    state = event.state
    assert (state.order_id, state.status, state.amount, state.currency) == ("order-abc", "paid", 25000, "IDR")
    assert state.payment_id == "qrpy_8182837te-87st-49ing-8696-1239bd4d759c"
    assert state.provider_ref == "qr_8182837te-87st-49ing-8696-1239bd4d759c"
    assert state.merchant == "5f4708b7bd394b0400b96276"
    assert state.paid_at == datetime(2026, 12, 2, 10, 21, 5, tzinfo=UTC)
    assert "name" not in event.redacted["data"]["payment_detail"]  # the payer's name is not kept


def test_the_older_flat_xendit_callback_is_read_too() -> None:
    event = XENDIT.verify_webhook(XENDIT_CREDS, {"x-callback-token": XENDIT_TOKEN}, raw(legacy_xendit_body()))

    state = event.state
    assert (state.order_id, state.status, state.amount) == ("order-abc", "paid", 25000)
    assert (state.payment_id, state.provider_ref) == ("qrpy_0a8f62e4-0b1f-4f23-9d7e-3c2f1f7f7b10", "qr_7d1c")
    assert not event.trusted
    assert "name" not in event.redacted["payment_details"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-callback-token": ""}, {"x-callback-token": XENDIT_TOKEN + "x"}, {"x-callback-token": XENDIT_TOKEN[:-1]}],
    ids=["missing", "empty", "longer", "shorter"],
)
def test_a_xendit_callback_without_the_right_token_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejected):
        XENDIT.verify_webhook(XENDIT_CREDS, headers, raw(xendit_body()))


@pytest.mark.parametrize("token", [None, ""])
def test_an_account_without_a_callback_token_refuses_everything(token: str | None) -> None:
    creds = Credentials(environment="sandbox", secret_key="xnd_development_x", callback_token=token)
    with pytest.raises(WebhookRejected):
        XENDIT.verify_webhook(creds, {"x-callback-token": ""}, raw(xendit_body()))


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", raw({"event": "qr.refund", "data": {"id": "qrrf_1"}}), raw({"event": "qr.payment"})],
    ids=["not-json", "array", "other-event", "no-data"],
)
def test_a_xendit_body_that_is_no_qr_payment_is_refused(payload: bytes) -> None:
    with pytest.raises(WebhookRejected):
        XENDIT.verify_webhook(XENDIT_CREDS, {"x-callback-token": XENDIT_TOKEN}, payload)


# ---- fees -------------------------------------------------------------------------------------------


def test_fees_follow_the_qris_mdr_and_xendits_vat() -> None:
    assert fee("midtrans", 5_000) == 35  # 0.7%
    assert fee("midtrans", 50_000) == 350
    assert fee("xendit", 5_000) == 39  # 35 + 11% VAT on the fee = 38.85
    assert fee("xendit", 50_000) == 389  # 350 + 38.5
    assert fee("xendit", 10_000_000) == 77_700
