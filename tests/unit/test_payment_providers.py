"""The adapters against the fake providers on loopback: what Kuota asks, what it hears back, and faults.

Each test starts its own fake (a threaded HTTP server on 127.0.0.1); no emulator.
Webhooks are captured in-process through the fakes' `deliver` hook, except one test
that receives them over real HTTP.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import urllib3

import chalicelib.payments.http as payments_http
from chalicelib.config import get_settings
from chalicelib.payments import (
    ChargeRequest,
    Credentials,
    Provider,
    ProviderNotFound,
    ProviderRefused,
    ProviderUnavailable,
    WebhookEvent,
    WebhookRejected,
    provider,
)
from tests.fakes import crc16_ccitt
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.xendit import FakeXendit

WEBHOOK_URL = "https://kuota.example/v1/payments/midtrans/webhook/acct-1"


@dataclass
class Inbox:
    """Webhooks the fake delivered, answered 200 as Kuota would."""

    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def __call__(self, url: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((url, headers, body))
        return 200


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def midtrans(inbox: Inbox) -> Iterator[FakeMidtrans]:
    with FakeMidtrans(deliver=inbox) as fake:
        yield fake


@pytest.fixture
def xendit(inbox: Inbox) -> Iterator[FakeXendit]:
    with FakeXendit(deliver=inbox) as fake:
        fake.set_callback_url(fake.credentials, "https://kuota.example/v1/payments/xendit/webhook/acct-2")
        yield fake


def adapter_for(fake: FakeMidtrans | FakeXendit) -> Provider:
    settings = get_settings()
    if isinstance(fake, FakeMidtrans):
        return provider("midtrans", replace(settings, midtrans_api_url=fake.base_url))
    return provider("xendit", replace(settings, xendit_api_url=fake.base_url))


def charge_request(amount: int = 25_000, **changes: Any) -> ChargeRequest:
    request = ChargeRequest(
        order_id="ord_" + uuid.uuid4().hex[:20],
        amount=amount,
        expiry_minutes=15,
        webhook_url=WEBHOOK_URL,
        idempotency_key=str(uuid.uuid4()),
        created_at=datetime.now(UTC),
    )
    return replace(request, **changes)


def verified(adapter: Provider, creds: Credentials, inbox: Inbox, index: int = -1) -> WebhookEvent:
    _, headers, body = inbox.received[index]
    return adapter.verify_webhook(creds, headers, body)


def assert_qris(qr_string: str) -> None:
    """EMVCo merchant-presented: starts with payload format 01, ends with a CRC16 over everything before it."""
    assert qr_string.startswith("000201")
    assert qr_string[-8:-4] == "6304"
    assert int(qr_string[-4:], 16) == crc16_ccitt(qr_string[:-4].encode())


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(payments_http, "TIMEOUT", urllib3.Timeout(connect=1.0, read=0.3))


# ---- Midtrans ---------------------------------------------------------------------------------------


def test_midtrans_charge_sends_the_documented_request_and_reads_the_expiry_in_utc(midtrans: FakeMidtrans) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    before = datetime.now(UTC).replace(microsecond=0)

    charge = adapter.create_charge(midtrans.credentials, request)

    transaction = midtrans.transaction(request.order_id)
    assert charge.provider_ref == transaction.transaction_id
    assert_qris(charge.qr_string)
    assert charge.deeplink is None
    assert charge.expires_at.tzinfo is not None
    assert before + timedelta(minutes=15) <= charge.expires_at <= datetime.now(UTC) + timedelta(minutes=15)
    (sent,) = midtrans.requests_to("POST", "/v2/charge")
    assert sent.idempotency_key == request.idempotency_key
    assert sent.headers["x-override-notification"] == WEBHOOK_URL
    assert sent.account == midtrans.credentials.server_key  # HTTP Basic, key as user, empty password
    assert sent.body == {
        "payment_type": "qris",
        "transaction_details": {"order_id": request.order_id, "gross_amount": 25_000},
        "qris": {"acquirer": "gopay"},
        "custom_expiry": {"expiry_duration": 15, "unit": "minute"},
    }


def test_midtrans_payment_reaches_the_charges_webhook_url_signed_and_trusted(
    midtrans: FakeMidtrans, inbox: Inbox
) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    charge = adapter.create_charge(midtrans.credentials, request)

    midtrans.simulate_payment(request.order_id)

    assert inbox.received[0][0] == WEBHOOK_URL
    event = verified(adapter, midtrans.credentials, inbox)
    assert event.trusted
    assert (event.state.status, event.state.amount, event.state.payment_id) == ("paid", 25_000, charge.provider_ref)
    assert event.state.merchant == midtrans.accounts[str(midtrans.credentials.server_key)].merchant_id
    status = adapter.read_status(midtrans.credentials, request.order_id, charge.provider_ref)
    assert (status.status, status.amount, status.payment_id) == ("paid", 25_000, charge.provider_ref)
    assert status.paid_at is not None


def test_midtrans_status_follows_the_order_from_pending_to_expired(midtrans: FakeMidtrans) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    charge = adapter.create_charge(midtrans.credentials, request)
    assert adapter.read_status(midtrans.credentials, request.order_id, None).status == "pending"

    adapter.expire(midtrans.credentials, request.order_id, charge.provider_ref)

    assert midtrans.expire_calls == [request.order_id]
    assert adapter.read_status(midtrans.credentials, request.order_id, None).status == "expired"
    with pytest.raises(ValueError, match="even_if_closed"):
        midtrans.simulate_payment(request.order_id)


def test_midtrans_expire_leaves_a_paid_order_paid_and_ignores_an_unknown_one(midtrans: FakeMidtrans) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    adapter.create_charge(midtrans.credentials, request)
    midtrans.simulate_payment(request.order_id)

    adapter.expire(midtrans.credentials, request.order_id, None)  # Midtrans refuses (412): already settled
    adapter.expire(midtrans.credentials, "ord_never_created", None)

    assert adapter.read_status(midtrans.credentials, request.order_id, None).status == "paid"
    with pytest.raises(ProviderNotFound):
        adapter.read_status(midtrans.credentials, "ord_never_created", None)


def test_midtrans_out_of_order_expire_after_paid_is_a_stale_notification(midtrans: FakeMidtrans, inbox: Inbox) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    adapter.create_charge(midtrans.credentials, request)
    midtrans.simulate_payment(request.order_id)

    midtrans.notify(request.order_id, "expire", status_code="407")

    late = verified(adapter, midtrans.credentials, inbox)
    assert late.state.status == "expired"
    assert not late.trusted
    assert adapter.read_status(midtrans.credentials, request.order_id, None).status == "paid"


def test_midtrans_payment_after_expiry_and_of_another_amount_shows_in_the_status(
    midtrans: FakeMidtrans, inbox: Inbox
) -> None:
    adapter, request = adapter_for(midtrans), charge_request(amount=25_000)
    adapter.create_charge(midtrans.credentials, request)
    midtrans.expire_now(request.order_id)

    midtrans.simulate_payment(request.order_id, amount=20_000, even_if_closed=True)

    assert verified(adapter, midtrans.credentials, inbox).state.amount == 20_000
    status = adapter.read_status(midtrans.credentials, request.order_id, None)
    assert (status.status, status.amount) == ("paid", 20_000)


def test_midtrans_forged_and_relabelled_notifications_from_the_fake(midtrans: FakeMidtrans, inbox: Inbox) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    adapter.create_charge(midtrans.credentials, request)

    midtrans.notify(request.order_id, "settlement", status_code="200", sign_with="SB-Mid-server-attacker")
    midtrans.notify(request.order_id, "settlement")  # a genuine pending (201), relabelled
    midtrans.notify(request.order_id, "settlement", status_code="200", gross_amount_text="25000")
    midtrans.notify(request.order_id, gross_amount_text="25000", sign_with_text="25000.00")
    midtrans.notify(request.order_id, order_id_override="ord_someone_else")

    with pytest.raises(WebhookRejected):
        verified(adapter, midtrans.credentials, inbox, 0)
    relabelled = verified(adapter, midtrans.credentials, inbox, 1)
    assert (relabelled.state.status, relabelled.redacted["status_code"]) == ("paid", "201")
    assert not relabelled.trusted
    reformatted_but_signed = verified(adapter, midtrans.credentials, inbox, 2)  # signed over what was sent
    assert reformatted_but_signed.state.amount == 25_000
    with pytest.raises(WebhookRejected):  # the amount reformatted after signing
        verified(adapter, midtrans.credentials, inbox, 3)
    assert verified(adapter, midtrans.credentials, inbox, 4).state.order_id == "ord_someone_else"


def test_midtrans_duplicate_notifications_arrive_together(midtrans: FakeMidtrans, inbox: Inbox) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    adapter.create_charge(midtrans.credentials, request)

    deliveries = midtrans.simulate_payment(request.order_id, copies=5, concurrent=True)

    assert [d.status for d in deliveries] == [200] * 5
    assert len({body for _, _, body in inbox.received}) == 1
    assert all(verified(adapter, midtrans.credentials, inbox, i).trusted for i in range(5))


def test_midtrans_refund_is_idempotent_on_its_key(midtrans: FakeMidtrans) -> None:
    adapter, request = adapter_for(midtrans), charge_request()
    charge = adapter.create_charge(midtrans.credentials, request)
    midtrans.simulate_payment(request.order_id)

    first = adapter.refund(
        midtrans.credentials, request.order_id, charge.provider_ref, charge.provider_ref, 25_000, "rf-1", "guest"
    )
    again = adapter.refund(
        midtrans.credentials, request.order_id, charge.provider_ref, charge.provider_ref, 25_000, "rf-1", "guest"
    )

    assert first == again
    assert [(r["refund_key"], r["amount"]) for r in midtrans.refunds] == [("rf-1", 25_000)]
    assert adapter.read_status(midtrans.credentials, request.order_id, None).status == "refunded"
    with pytest.raises(ProviderRefused):  # nothing left to refund under a new key
        adapter.refund(midtrans.credentials, request.order_id, charge.provider_ref, None, 25_000, "rf-2", "again")


# ---- Xendit -----------------------------------------------------------------------------------------


def test_xendit_create_sends_the_documented_request(xendit: FakeXendit) -> None:
    adapter, request = adapter_for(xendit), charge_request(amount=50_000)

    charge = adapter.create_charge(xendit.credentials, request)

    assert charge.provider_ref.startswith("qr_")
    assert charge.provider_ref == xendit.qr(request.order_id).id
    assert_qris(charge.qr_string)
    assert charge.expires_at - datetime.now(UTC) == pytest.approx(timedelta(minutes=15), abs=timedelta(seconds=5))
    (sent,) = xendit.requests_to("POST", "/qr_codes")
    assert sent.headers["api-version"] == "2022-07-31"
    assert sent.idempotency_key == request.idempotency_key
    assert sent.body is not None
    assert {k: sent.body[k] for k in ("reference_id", "type", "currency", "amount")} == {
        "reference_id": request.order_id,
        "type": "DYNAMIC",
        "currency": "IDR",
        "amount": 50_000,
    }


@pytest.mark.parametrize("shape", ["2022-07-31", "legacy"])
def test_xendit_payment_callback_in_either_shape_then_the_status_read_confirms_it(
    xendit: FakeXendit, inbox: Inbox, shape: str
) -> None:
    adapter, request = adapter_for(xendit), charge_request()
    charge = adapter.create_charge(xendit.credentials, request)

    xendit.simulate_payment(request.order_id, shape="legacy" if shape == "legacy" else "2022-07-31")

    url, headers, _ = inbox.received[0]
    assert url.endswith("/webhook/acct-2")
    assert headers["x-callback-token"] == xendit.credentials.callback_token
    event = verified(adapter, xendit.credentials, inbox)
    assert not event.trusted
    assert (event.state.order_id, event.state.status, event.state.provider_ref) == (
        request.order_id,
        "paid",
        charge.provider_ref,
    )
    status = adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref)
    assert (status.status, status.amount, status.payment_id) == ("paid", 25_000, event.state.payment_id)
    assert status.merchant == xendit.accounts[str(xendit.credentials.secret_key)].business_id


def test_xendit_callback_with_a_wrong_token_is_refused(xendit: FakeXendit, inbox: Inbox) -> None:
    adapter, request = adapter_for(xendit), charge_request()
    adapter.create_charge(xendit.credentials, request)

    xendit.simulate_payment(request.order_id, callback_token="guessed")

    with pytest.raises(WebhookRejected):
        verified(adapter, xendit.credentials, inbox)


def test_xendit_status_pending_expired_and_paid_after_expiry(xendit: FakeXendit) -> None:
    adapter, request = adapter_for(xendit), charge_request()
    charge = adapter.create_charge(xendit.credentials, request)
    assert adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref).status == "pending"

    adapter.expire(xendit.credentials, request.order_id, charge.provider_ref)  # Xendit has no such call
    assert adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref).status == "pending"
    xendit.expire_now(request.order_id)
    assert adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref).status == "expired"

    xendit.simulate_payment(request.order_id, amount=24_000, even_if_closed=True)
    status = adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref)
    assert (status.status, status.amount) == ("paid", 24_000)
    with pytest.raises(ProviderNotFound):
        adapter.read_status(xendit.credentials, request.order_id, None)
    with pytest.raises(ProviderRefused):  # a QR id from another order
        adapter.read_status(xendit.credentials, "ord_other", charge.provider_ref)


def test_xendit_refund_finds_the_payment_and_is_idempotent(xendit: FakeXendit) -> None:
    adapter, request = adapter_for(xendit), charge_request()
    charge = adapter.create_charge(xendit.credentials, request)
    xendit.simulate_payment(request.order_id)

    first = adapter.refund(xendit.credentials, request.order_id, charge.provider_ref, None, 25_000, "rf-1", "guest")
    again = adapter.refund(xendit.credentials, request.order_id, charge.provider_ref, None, 25_000, "rf-1", "guest")

    assert first == again
    assert first.startswith("qrrf_")
    assert [(r["refund_key"], r["amount"], r["reason"]) for r in xendit.refunds] == [("rf-1", 25_000, "OTHERS")]
    assert adapter.read_status(xendit.credentials, request.order_id, charge.provider_ref).status == "refunded"


def test_xendit_test_mode_simulate_endpoint_sends_the_callback(xendit: FakeXendit, inbox: Inbox) -> None:
    adapter, request = adapter_for(xendit), charge_request()
    charge = adapter.create_charge(xendit.credentials, request)

    answer = urllib3.request(
        "POST",
        f"{xendit.base_url}/qr_codes/{charge.provider_ref}/payments/simulate",
        json={"amount": 25_000},
        headers={
            "Authorization": payments_http.basic_auth(str(xendit.credentials.secret_key)),
            "api-version": "2022-07-31",
        },
    )

    assert answer.status == 200
    deadline = datetime.now(UTC) + timedelta(seconds=5)
    while not inbox.received and datetime.now(UTC) < deadline:
        threading.Event().wait(0.02)
    assert verified(adapter, xendit.credentials, inbox).state.status == "paid"


# ---- both: faults and retries -----------------------------------------------------------------------


@pytest.fixture(params=["midtrans", "xendit"])
def fake(request: pytest.FixtureRequest, inbox: Inbox) -> Iterator[FakeMidtrans | FakeXendit]:
    with FakeMidtrans(deliver=inbox) if request.param == "midtrans" else FakeXendit(deliver=inbox) as started:
        yield started


def count_charges(fake: FakeMidtrans | FakeXendit) -> int:
    return len(fake.transactions) if isinstance(fake, FakeMidtrans) else len(fake.qr_codes)


def test_a_5xx_on_create_is_retried_with_the_same_key_and_charges_once(fake: FakeMidtrans | FakeXendit) -> None:
    adapter, request = adapter_for(fake), charge_request()
    fake.fail_next_create(503)

    with pytest.raises(ProviderUnavailable):
        adapter.create_charge(fake.credentials, request)
    charge = adapter.create_charge(fake.credentials, request)

    assert fake.idempotency_keys == [request.idempotency_key] * 2
    assert count_charges(fake) == 1
    assert charge.provider_ref


@pytest.mark.usefixtures("short_timeout")
def test_a_create_that_times_out_is_found_again_by_its_key(fake: FakeMidtrans | FakeXendit) -> None:
    """The provider made the charge but the answer came too late: the retry gets that same charge."""
    adapter, request = adapter_for(fake), charge_request()
    fake.fail_next_create(hang_seconds=1.0)

    with pytest.raises(ProviderUnavailable):
        adapter.create_charge(fake.credentials, request)
    time.sleep(1.1)  # a retry a moment later sends the very same body (the expiry counts from the order)
    charge = adapter.create_charge(fake.credentials, request)

    assert count_charges(fake) == 1
    ref = fake.transaction(request.order_id).transaction_id if isinstance(fake, FakeMidtrans) else None
    assert charge.provider_ref == (ref or fake.qr(request.order_id).id)  # type: ignore[union-attr]


def test_the_same_key_for_another_charge_and_a_reused_order_id_are_refused(fake: FakeMidtrans | FakeXendit) -> None:
    adapter, request = adapter_for(fake), charge_request()
    adapter.create_charge(fake.credentials, request)

    with pytest.raises(ProviderRefused):
        adapter.create_charge(fake.credentials, replace(request, amount=30_000))
    with pytest.raises(ProviderRefused):
        adapter.create_charge(fake.credentials, replace(request, idempotency_key=str(uuid.uuid4())))


def test_a_wrong_key_is_refused_and_an_unreachable_provider_is_unavailable(fake: FakeMidtrans | FakeXendit) -> None:
    adapter = adapter_for(fake)
    wrong = Credentials(environment="sandbox", server_key="SB-Mid-server-wrong", secret_key="xnd_development_wrong")

    with pytest.raises(ProviderRefused):
        adapter.create_charge(wrong, charge_request())
    fake.stop()
    with pytest.raises(ProviderUnavailable):
        adapter.create_charge(fake.credentials, charge_request())


def test_webhooks_travel_over_real_http_when_no_deliver_hook_is_set() -> None:
    received: list[tuple[dict[str, str], bytes]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1/payments/xendit/webhook/acct-9"
    try:
        with FakeXendit() as xendit:
            creds = xendit.register_account(callback_url=url)
            adapter, request = adapter_for(xendit), charge_request()
            adapter.create_charge(creds, request)
            (delivery,) = xendit.simulate_payment(request.order_id)
    finally:
        server.shutdown()
        server.server_close()

    assert delivery.status == 200
    ((headers, body),) = received
    assert headers["content-type"] == "application/json"
    assert adapter.verify_webhook(creds, headers, body).state.order_id == request.order_id


@pytest.mark.parametrize(
    ("status", "body", "raised"),
    [
        (200, b'{"status_code": "406", "status_message": "Duplicate order ID"}', ProviderRefused),
        (200, b'{"status_code": "503", "status_message": "Service unavailable"}', ProviderUnavailable),
        (200, b'{"status_code": "404", "status_message": "Transaction doesn\'t exist."}', ProviderNotFound),
        (200, b"<html>maintenance</html>", ProviderUnavailable),
        (502, b"<html>Bad Gateway</html>", ProviderUnavailable),
        (429, b'{"status_code": "429"}', ProviderUnavailable),
        (401, b"<html>Unauthorized</html>", ProviderRefused),
        (404, b"", ProviderNotFound),
    ],
    ids=["body-406", "body-503", "body-404", "html-200", "html-502", "429", "html-401", "empty-404"],
)
def test_odd_answers_map_to_retry_or_not(status: int, body: bytes, raised: type[Exception]) -> None:
    """Midtrans also reports errors in the body under HTTP 200; gateways in front of it answer HTML."""

    class Canned(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Canned)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    settings = replace(get_settings(), midtrans_api_url=f"http://127.0.0.1:{server.server_address[1]}")
    try:
        with pytest.raises(raised):
            provider("midtrans", settings).read_status(FakeMidtrans().credentials, "ord_1", None)
    finally:
        server.shutdown()
        server.server_close()
