"""Fake payment providers: real HTTP servers on loopback that answer like Midtrans and Xendit.

Kuota's adapters (`chalicelib.payments`) talk to them over HTTP exactly as they talk to
the real APIs; only the base URL differs (`KUOTA_MIDTRANS_API_URL`,
`KUOTA_XENDIT_API_URL`, or `Settings.midtrans_api_url` / `xendit_api_url`). Webhooks
go back to Kuota signed exactly as each provider documents.

    from tests.fakes.midtrans import FakeMidtrans
    from tests.fakes.xendit import FakeXendit

    with FakeMidtrans() as midtrans:              # or: midtrans.start() ... midtrans.stop()
        midtrans.base_url                         # "http://127.0.0.1:<port>", also what start() returns
        midtrans.credentials                      # Credentials of the default account (sandbox)
        creds = midtrans.register_account()       # another merchant account, with its own key
        ... Kuota creates a charge; Midtrans's webhook URL is the create's X-Override-Notification ...
        midtrans.simulate_payment(order_id)       # pays it and POSTs the signed notification
        midtrans.requests                         # every request received (RecordedRequest)
        midtrans.deliveries                       # every webhook sent (Delivery) with Kuota's answer

Xendit's webhook URL is a dashboard setting, so the fake keeps it per account:
`FakeXendit().register_account(callback_url=...)` or `set_callback_url(creds, url)`.

Common to both (`FakeProvider`):
- `deliver`: by default a webhook is a real HTTP POST to its URL. Pass
  `deliver=callable(url, headers, body) -> status` (constructor or attribute) to hand it to
  something else instead, e.g. the in-process app of the API tests:
  `FakeMidtrans(deliver=lambda url, headers, body: api.call("POST", urlsplit(url).path,
  raw=body, headers=headers).status)`. Deliveries run in the caller's thread (or one
  thread per copy with `concurrent=True`), never while the fake holds its lock, so
  Kuota may read the status from the fake while it handles the webhook.
- `simulate_payment(order_id_or_ref, amount=None, *, copies=1, concurrent=False,
  even_if_closed=False, ...)`: the guest pays; the fake's status read says so from then
  on. `amount` pays a different amount; `copies` sends the webhook that many times
  (`concurrent=True`: all at once, from threads); `even_if_closed` pays an order that
  expired or was cancelled (refused otherwise, like a real QR).
- `fail_next_create(status=503, *, times=1, hang_seconds=None)`: the next creates answer
  `status` without creating anything, or (`hang_seconds`) create the charge and answer
  only after that long, so the client times out; a retry with the same idempotency key
  gets the charge created the first time. Shorten the client's wait with
  `monkeypatch.setattr(chalicelib.payments.http, "TIMEOUT", urllib3.Timeout(connect=1, read=0.5))`.
- `idempotency_keys`: the keys seen on creates, in order; `expire_calls`, `refunds`.
- Provider-specific knobs (wrong key or token, either Xendit shape, out-of-order
  notifications) are on each class: see `tests/fakes/midtrans.py` and `tests/fakes/xendit.py`.

The fakes send no webhook on their own: only `simulate_payment()`, the `notify...()`
methods, `FakeMidtrans.expire_now(notify=True)` and Xendit's test-mode simulate endpoint
do, so a test decides when Kuota hears what.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self

import urllib3

Deliver = Callable[[str, dict[str, str], bytes], int]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any] | None
    account: str | None  # the key that authenticated it (None: no or unknown key)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass(frozen=True)
class Delivery:
    url: str
    headers: dict[str, str]
    body: bytes
    status: int  # Kuota's answer; 0 when it could not be reached

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Fault:
    status: int
    hang_seconds: float | None


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    hang_seconds: float | None = None


class ProviderError(Exception):
    """Raised inside a route: the fake answers `status` with the provider's error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


@dataclass
class FakeProvider:
    """The HTTP server, the request log, faults on create, and webhook delivery shared by both fakes."""

    deliver: Deliver | None = None
    requests: list[RecordedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    expire_calls: list[str] = field(default_factory=list)  # the order or QR ids Kuota asked to expire
    refunds: list[dict[str, Any]] = field(default_factory=list)  # each refund made, as the fake recorded it
    _faults: list[Fault] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # ---- lifecycle -----------------------------------------------------------------------
    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: stop() leaves none open

            def do_GET(self) -> None:
                fake._serve(self)

            def do_POST(self) -> None:
                fake._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the fake's log is `requests`."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        serve = threading.Thread(target=self._server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True)
        serve.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake provider is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # ---- knobs and log -------------------------------------------------------------------
    def fail_next_create(self, status: int = 503, *, times: int = 1, hang_seconds: float | None = None) -> None:
        with self._lock:
            self._faults.extend(Fault(status=status, hang_seconds=hang_seconds) for _ in range(times))

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    create_path: ClassVar[str] = ""

    @property
    def idempotency_keys(self) -> list[str]:
        """The idempotency keys of the creates received, in order (a retry shows its key twice)."""
        return [key for r in self.requests_to("POST", self.create_path) if (key := r.idempotency_key)]

    def requests_to(self, method: str, path_part: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and path_part in r.path]

    # ---- HTTP ----------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        account = self._account_of(headers.get("authorization", ""))
        with self._lock:
            self.requests.append(RecordedRequest(handler.command, handler.path, headers, body, account))
        try:
            with self._lock:  # routes change state; webhooks are sent outside the lock
                answer = self.route(handler.command, handler.path.split("?")[0], headers, body, account)
        except ProviderError as error:
            answer = Answer(error.status, error.body)
        if answer.hang_seconds:
            time.sleep(answer.hang_seconds)
        payload = json.dumps(answer.body).encode()
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up waiting (the hang knob): that is the point

    def _account_of(self, authorization: str) -> str | None:
        """The key from `Basic base64(key:)`, if it is one of this fake's accounts."""
        if not authorization.startswith("Basic "):
            return None
        try:
            user = base64.b64decode(authorization[6:]).decode().partition(":")[0]
        except ValueError:
            return None
        return user if self.knows_key(user) else None

    def knows_key(self, key: str) -> bool:
        raise NotImplementedError

    def route(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any] | None, account: str | None
    ) -> Answer:
        raise NotImplementedError

    # ---- webhooks ------------------------------------------------------------------------
    def send_webhook(
        self, url: str | None, headers: dict[str, str], body: bytes, *, copies: int = 1, concurrent: bool = False
    ) -> list[Delivery]:
        """POST `body` to `url` `copies` times (all at once when `concurrent`); the deliveries, in order sent."""
        if not url:
            raise ValueError("no webhook URL: give the charge one or set the account's")
        all_headers = {"Content-Type": "application/json", **headers}
        if not concurrent:
            return [self._deliver_once(url, all_headers, body) for _ in range(copies)]
        results: list[Delivery] = []
        barrier = threading.Barrier(copies)

        def send() -> None:
            barrier.wait()
            delivery = self._deliver_once(url, all_headers, body)
            with self._lock:
                results.append(delivery)

        threads = [threading.Thread(target=send) for _ in range(copies)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _deliver_once(self, url: str, headers: dict[str, str], body: bytes) -> Delivery:
        if self.deliver is not None:
            status = self.deliver(url, headers, body)
        else:
            try:
                response = urllib3.request(
                    "POST", url, body=body, headers=headers, timeout=urllib3.Timeout(connect=3, read=30), retries=False
                )
                status = response.status
            except urllib3.exceptions.HTTPError:
                status = 0
        delivery = Delivery(url=url, headers=headers, body=body, status=status)
        with self._lock:
            self.deliveries.append(delivery)
        return delivery


def now() -> datetime:
    return datetime.now(UTC)


def qris_string(merchant: str, amount: int, reference: str) -> str:
    """A dynamic QRIS payload shaped like the real ones: EMVCo TLV ending in its CRC16-CCITT (`6304xxxx`)."""

    def tlv(tag: str, value: str) -> str:
        return f"{tag}{len(value):02d}{value}"

    merchant_account = tlv("00", "ID.CO.QRIS.WWW") + tlv("01", "936009150000000001") + tlv("02", "ID1026000000001")
    body = (
        tlv("00", "01")
        + tlv("01", "12")  # dynamic
        + tlv("26", merchant_account)
        + tlv("52", "4899")
        + tlv("53", "360")
        + tlv("54", str(amount))
        + tlv("58", "ID")
        + tlv("59", merchant[:25])
        + tlv("60", "JAKARTA")
        + tlv("62", tlv("01", reference[:25]))
        + "6304"
    )
    return body + f"{crc16_ccitt(body.encode()):04X}"


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as EMVCo's merchant-presented QR uses."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc
