"""Browser tests of the admin console against the real local stack (`make dev`).

One dev stack (emulator, `chalice local`, console server) and one headless
Debian Chromium serve the whole session; every test gets a fresh browser
context, fails if the page logged an error, and can save screenshots at
desktop and phone width under test-artifacts/screenshots/<docs folder>/ (`make
console-screenshots` copies them into docs/ after a green run: tests never write docs/).
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import StackOutput, launched_stack
from tests.fakes.midtrans import FakeMidtrans
from tests.fakes.xendit import FakeXendit

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ADMIN_EMAIL = "platform-admin@example.com"
ADMIN_PASSWORD = "e2e-console-admin-password"
UI_TIMEOUT_MS = 30_000  # the emulator is slow; so is the first render after a cold API


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Stack:
    """The running dev stack: where its API and console are, and who may sign in."""

    api: str
    console: str
    admin_email: str
    admin_password: str = field(repr=False)
    output: StackOutput = field(repr=False)

    def request(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """One call to the API (urllib: quicker than clicking through setup the test is not about)."""
        sent = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.api}{path}", data=data, headers=sent, method=method)  # noqa: S310 (a local http URL)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (a local http URL)
                return Response(response.status, dict(response.headers), response.read())
        except urllib.error.HTTPError as error:
            return Response(error.code, dict(error.headers), error.read())

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, token: str | None = None) -> Any:
        """A call that must succeed; its JSON body."""
        response = self.request(method, path, body, token=token)
        assert 200 <= response.status < 300, f"{method} {path}: {response.status} {response.body!r}"
        return response.json

    def login(self, email: str, password: str) -> str:
        return str(self.call("POST", "/v1/auth/login", {"email": email, "password": password})["access_token"])


def _console_built() -> bool:
    return (DIST / "index.html").is_file()


@pytest.fixture(scope="session")
def midtrans() -> Iterator[FakeMidtrans]:
    """The fake Midtrans on loopback that the stack's Midtrans adapter talks to (it sends no webhook unless told)."""
    with FakeMidtrans() as fake:
        yield fake


@pytest.fixture(scope="session")
def xendit() -> Iterator[FakeXendit]:
    """The fake Xendit on loopback; its callbacks go to the URL an account registers (Xendit's dashboard)."""
    with FakeXendit() as fake:
        yield fake


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, midtrans: FakeMidtrans, xendit: FakeXendit) -> Iterator[Stack]:
    """The local stack (`make dev`) on free ports with its own data directory, stopped with Ctrl-C at the end."""
    if not _console_built():
        pytest.skip("frontend/dist does not exist: build the console first (`make console`; `make test` does it)")
    with launched_stack(
        tmp_path_factory.mktemp("kuota-local"),
        admin_email=ADMIN_EMAIL,
        admin_password=ADMIN_PASSWORD,
        env={"KUOTA_MIDTRANS_API_URL": midtrans.base_url, "KUOTA_XENDIT_API_URL": xendit.base_url},
    ) as running:
        yield Stack(
            api=running.api,
            console=running.console,
            admin_email=ADMIN_EMAIL,
            admin_password=ADMIN_PASSWORD,
            output=running.output,
        )


@pytest.fixture(scope="session")
def browser(stack: Stack) -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (never `playwright install`: no browser downloads here)."""
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (`make test` does it)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class PageErrors:
    """Errors the page reported (console.error and uncaught exceptions); any not expected fails the test."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        """Allow an error the test causes on purpose (e.g. the browser's log line for a refused sign-in)."""
        self._expected.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        return [text for text in self.seen if not any(p.search(text) for p in self._expected)]


@pytest.fixture
def page_errors() -> PageErrors:
    return PageErrors()


@pytest.fixture
def page(browser: Any, stack: Stack, page_errors: PageErrors) -> Iterator[Any]:
    """A fresh context (own localStorage) at desktop size, with console errors recorded."""
    context = browser.new_context(viewport=DESKTOP, base_url=stack.console, accept_downloads=True)
    context.set_default_timeout(UI_TIMEOUT_MS)
    context.set_default_navigation_timeout(UI_TIMEOUT_MS)
    new_page = context.new_page()

    def on_console(message: Any) -> None:
        if message.type == "error":
            location = message.location or {}
            page_errors.seen.append(f"console.error: {message.text} ({location.get('url', '')})")

    new_page.on("console", on_console)
    new_page.on("pageerror", lambda error: page_errors.seen.append(f"uncaught: {error}"))
    try:
        yield new_page
    finally:
        context.close()
    unexpected = page_errors.unexpected()
    if unexpected:
        pytest.fail("the browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


def screenshot(page: Any, name: str, folder: str = "console") -> list[Path]:
    """Save the page as <name>-desktop.png (1280x900) and <name>-phone.png (390x844), full height, for the
    docs/<folder>/ guide."""
    (SCREENSHOTS / folder).mkdir(parents=True, exist_ok=True)
    saved = []
    for suffix, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.wait_for_timeout(150)  # let the layout settle after the resize
        path = SCREENSHOTS / folder / f"{name}-{suffix}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
    page.set_viewport_size(DESKTOP)
    return saved


# ---- RADIUS: a venue behind FreeRADIUS, and the NAS that receives its Disconnect- and CoA-Requests ---

RADIUS_NAS_SECRET = "e2e-nas-secret"  # the loopback test NAS's, shared with FreeRADIUS's clients.conf
NAS_DICTIONARIES = (
    "/usr/share/freeradius/dictionary.rfc2865",
    "/usr/share/freeradius/dictionary.rfc2866",
    "/usr/share/freeradius/dictionary.mikrotik",
    "/usr/share/freeradius/dictionary.chillispot",
)


class NasListener:
    """A NAS's RFC 5176 side on 127.0.0.1 (pyrad): answers every Disconnect- and CoA-Request with an ACK and
    keeps it."""

    def __init__(self) -> None:
        from pyrad import dictionary, server

        nas = self

        class DisconnectServer(server.Server):  # type: ignore[misc]
            def HandleDisconnectPacket(self, pkt: Any) -> None:
                with nas.arrived:
                    nas.disconnects.append({name: list(pkt[name]) for name in pkt.keys()})  # noqa: SIM118 (pyrad: keys() names them)
                    nas.arrived.notify_all()
                self.SendReplyPacket(pkt.fd, self.CreateReplyPacket(pkt))

            def HandleCoaPacket(self, pkt: Any) -> None:
                with nas.arrived:
                    nas.coas.append({name: list(pkt[name]) for name in pkt.keys()})  # noqa: SIM118 (as above)
                    nas.arrived.notify_all()
                self.SendReplyPacket(pkt.fd, self.CreateReplyPacket(pkt))

        self.disconnects: list[dict[str, list[Any]]] = []
        self.coas: list[dict[str, list[Any]]] = []
        self.arrived = threading.Condition()
        self._stop = threading.Event()
        self._server = DisconnectServer(
            addresses=["127.0.0.1"], coaport=0, auth_enabled=False, acct_enabled=False, coa_enabled=True,
            hosts={"127.0.0.1": server.RemoteHost("127.0.0.1", RADIUS_NAS_SECRET.encode(), "freeradius")},
            dict=dictionary.Dictionary(*NAS_DICTIONARIES),
        )  # fmt: skip
        self.port = int(self._server.coafds[0].getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        # pyrad's Run() never returns: the same loop, with a way out.
        from pyrad import packet, server

        self._server._poll = select.poll()
        self._server._fdmap = {}
        self._server._PrepareSockets()
        while not self._stop.is_set():
            for fd, _event in self._server._poll.poll(100):
                with contextlib.suppress(server.ServerPacketError, packet.PacketError):
                    self._server._ProcessInput(self._server._fdmap[fd])

    def wait_for_disconnect(self, session_id: str, timeout: float = 10.0) -> dict[str, list[Any]]:
        """The Disconnect-Request for this Acct-Session-Id (fails after `timeout` seconds without one)."""
        with self.arrived:
            found = self.arrived.wait_for(lambda: self._find(session_id), timeout)
        assert found, f"no Disconnect-Request for session {session_id}; got {self.disconnects}"
        return found

    def wait_for_coa(self, session_id: str, timeout: float = 10.0) -> dict[str, list[Any]]:
        """The CoA-Request for this Acct-Session-Id (fails after `timeout` seconds without one)."""
        with self.arrived:
            found = self.arrived.wait_for(lambda: self._find(session_id, self.coas), timeout)
        assert found, f"no CoA-Request for session {session_id}; got {self.coas}"
        return found

    def _find(self, session_id: str, packets: list[dict[str, list[Any]]] | None = None) -> dict[str, list[Any]] | None:
        seen = self.disconnects if packets is None else packets
        return next((d for d in seen if d.get("Acct-Session-Id") == [session_id]), None)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for fd in self._server.coafds:
            fd.close()


@pytest.fixture(scope="module")
def nas() -> Iterator[NasListener]:
    if not Path("/usr/bin/radclient").is_file():
        pytest.fail("FreeRADIUS is missing: run `make system-deps` (`make test` does it)")
    listener = NasListener()
    try:
        yield listener
    finally:
        listener.close()
