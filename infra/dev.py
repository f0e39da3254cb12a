"""`make dev`: Kuota on this machine, from the emulator up to the console.

Starts an in-process moto server (unless AWS_ENDPOINT_URL points at an emulator
already), creates the tables, ensures a platform admin, runs `chalice local` as
a child process, serves the console's static files with a strict
Content-Security-Policy, and runs the scheduled jobs (expiry every
KUOTA_EXPIRY_INTERVAL seconds, the audit outbox every few seconds) in a
background thread, as EventBridge does in production. Ctrl-C stops all of it.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STAGE = "dev"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
MIN_ADMIN_PASSWORD_LENGTH = 10  # the API's rule for new passwords
API_START_TIMEOUT_SECONDS = 60.0
API_STOP_GRACE_SECONDS = 5.0
OUTBOX_DRAIN_SECONDS = 10.0  # audit events show up in the console soon after a redeem
BATCH_POLL_SECONDS = 2.0  # a large batch starts this soon after it is created
JOBS_STOP_GRACE_SECONDS = 10.0


class StartupError(Exception):
    """Something the developer has to fix before the stack can run."""


def _port(name: str, default: int, *, minimum: int = 1) -> int:
    raw = os.environ.get(name) or str(default)
    try:
        port = int(raw)
    except ValueError:
        raise StartupError(f"{name} must be a port number, not {raw!r}") from None
    if not minimum <= port < 65536:
        raise StartupError(f"{name} must be between {minimum} and 65535, not {port}")
    return port


def _check_port_free(port: int, what: str) -> None:
    # Without this, a stack already running on the port would answer our readiness check.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise StartupError(f"cannot use {HOST}:{port} for the {what}: {exc.strerror}") from None


def _stage_environment(stage: str) -> dict[str, str]:
    """The variables `chalice local --stage` will put into the API's environment."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables: dict[str, str] = dict(config.get("environment_variables", {}))
    variables.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return variables


def _configure_environment(console_port: int) -> None:
    defaults = {
        "AWS_ACCESS_KEY_ID": "dev",
        "AWS_SECRET_ACCESS_KEY": "dev",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
        "KUOTA_STAGE": STAGE,
        "KUOTA_JWT_KEYS_FILE": ".kuota/jwt-keys.json",
        "KUOTA_CONSOLE_ORIGIN": f"http://{HOST}:{console_port}",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # `chalice local` overwrites these with the stage's values; this process must
    # agree with it, or the admin would land in tables the API never reads.
    for name, value in _stage_environment(STAGE).items():
        current = os.environ.get(name)
        if current is not None and current != value:
            print(f"Note: .chalice/config.json (stage {STAGE}) sets {name}={value}; using that", flush=True)
        os.environ[name] = value


def _start_emulator() -> ThreadedMotoServer | None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        print(f"Using the AWS emulator at {endpoint}", flush=True)
        return None
    from infra.emulator import start_emulator

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    server, port = start_emulator(_port("KUOTA_EMULATOR_PORT", 0, minimum=0))
    os.environ["AWS_ENDPOINT_URL"] = f"http://{HOST}:{port}"
    print(f"Started the AWS emulator at {os.environ['AWS_ENDPOINT_URL']} (data lasts until you stop)", flush=True)
    return server


@dataclass(frozen=True)
class AdminCredentials:
    email: str
    password: str = field(repr=False)
    generated: bool


def _admin_credentials() -> AdminCredentials:
    email = os.environ.get("KUOTA_ADMIN_EMAIL") or DEFAULT_ADMIN_EMAIL
    supplied = os.environ.get("KUOTA_ADMIN_PASSWORD")
    if not supplied:
        return AdminCredentials(email, secrets.token_urlsafe(12), generated=True)
    if len(supplied) < MIN_ADMIN_PASSWORD_LENGTH:
        raise StartupError(f"KUOTA_ADMIN_PASSWORD must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters")
    return AdminCredentials(email, supplied, generated=False)


def _prepare_storage(admin: AdminCredentials) -> None:
    # chalicelib reads its settings at import time, so it is imported only now.
    from chalicelib.api.deps import services
    from chalicelib.models.tables import ensure_tables

    ensure_tables()
    _, created = services().accounts.ensure_platform_admin(admin.email, admin.password)
    if created and admin.generated:
        print(f"Created platform admin {admin.email} with generated password: {admin.password}", flush=True)
    elif created:
        print(f"Created platform admin {admin.email} with the password from KUOTA_ADMIN_PASSWORD", flush=True)
    else:
        unused = "the generated one was not applied" if admin.generated else "KUOTA_ADMIN_PASSWORD was not applied"
        print(f"Platform admin {admin.email} already exists; its password is unchanged ({unused})", flush=True)


class ConsoleHandler(SimpleHTTPRequestHandler):
    """Static files plus a generated `/config.json`, every response under the CSP."""

    def __init__(self, *args: Any, config: bytes, csp: str, **kwargs: Any) -> None:
        # Set before the base class runs: it handles the request inside __init__.
        self.config_body = config
        self.csp = csp
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if not self._send_config(include_body=True):
            super().do_GET()

    def do_HEAD(self) -> None:
        if not self._send_config(include_body=False):
            super().do_HEAD()

    def _send_config(self, *, include_body: bool) -> bool:
        if self.path.split("?", 1)[0] != "/config.json":
            return False
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.config_body)))
        self.end_headers()
        if include_body:
            self.wfile.write(self.config_body)
        return True

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("X-Content-Type-Options", "nosniff")
        # Edits to the console should show on the next reload.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


def content_security_policy(api_base: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src 'self' {api_base}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )


def _console_directory() -> Path:
    built = ROOT / "frontend" / "dist"
    return built if built.is_dir() else ROOT / "frontend" / "static"


def _start_console(port: int, api_base: str) -> ThreadingHTTPServer:
    handler = functools.partial(
        ConsoleHandler,
        directory=str(_console_directory()),
        config=json.dumps({"apiBase": api_base}).encode(),
        csp=content_security_policy(api_base),
    )
    try:
        server = ThreadingHTTPServer((HOST, port), handler)
    except OSError as exc:
        raise StartupError(f"cannot serve the console on {HOST}:{port}: {exc.strerror}") from None
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server


def _start_api(port: int) -> subprocess.Popen[bytes]:
    command = [
        str(Path(sys.executable).parent / "chalice"),
        "local",
        "--host",
        HOST,
        "--port",
        str(port),
        "--stage",
        STAGE,
        "--no-autoreload",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A terminal sends Ctrl-C to the whole process group. The child starts with
    # SIGINT ignored (that survives exec) so shutdown happens once, from here.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL)  # noqa: S603 (fixed argv)
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_for_api(api: subprocess.Popen[bytes], api_base: str, stop: threading.Event) -> bool:
    deadline = time.monotonic() + API_START_TIMEOUT_SECONDS
    url = f"{api_base}/v1/openapi.json"
    while time.monotonic() < deadline and not stop.is_set():
        if api.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http URL)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        stop.wait(0.25)
    return False


def _stop_api(api: subprocess.Popen[bytes]) -> None:
    if api.poll() is not None:
        return
    api.terminate()
    try:
        api.wait(timeout=API_STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        api.kill()
        api.wait()


def run_jobs(stop: threading.Event, expiry_seconds: float, drain_seconds: float = OUTBOX_DRAIN_SECONDS) -> None:
    """Run the scheduled jobs on their intervals until `stop` is set (the background thread's body)."""
    from chalicelib.api.deps import services
    from chalicelib.messaging import finish_batch_job, receive_batch_jobs
    from chalicelib.services.expiring import ExpiryService
    from chalicelib.services.outbox import AuditOutbox

    expiry = ExpiryService()
    outbox = AuditOutbox()

    def seconds_left() -> float:
        # Ctrl-C ends an expiry run at its next item; what it finished is kept.
        return -1.0 if stop.is_set() else 3600.0

    next_expiry = next_drain = time.monotonic()
    while not stop.is_set():
        now = time.monotonic()
        if now >= next_expiry:
            next_expiry = now + expiry_seconds
            try:
                report = expiry.run(seconds_left, request_id=f"dev-expiry-{secrets.token_hex(4)}")
                if report.vouchers_expired or report.batches_processed:
                    print(f"Expiry: {report.vouchers_expired} vouchers expired, "
                          f"{report.batches_processed} batches done", flush=True)  # fmt: skip
            except Exception as exc:  # the next run tries again, as the scheduler would
                print(f"Expiry run failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if now >= next_drain:
            next_drain = now + drain_seconds
            try:
                outbox.drain()
            except Exception as exc:
                print(f"Audit outbox drain failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        try:  # the SQS trigger's part: large batches are issued in the background
            for org_id, batch_id, receipt in receive_batch_jobs():
                services().issuing.issue(org_id, batch_id)
                finish_batch_job(receipt)
        except Exception as exc:  # the message comes back after its visibility timeout, as on SQS
            print(f"Batch worker failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        stop.wait(max(0.0, min(next_expiry, next_drain, time.monotonic() + BATCH_POLL_SECONDS) - time.monotonic()))


def _start_jobs(stop: threading.Event) -> threading.Thread:
    from chalicelib.config import get_settings

    interval = get_settings().expiry_interval_seconds
    thread = threading.Thread(target=run_jobs, args=(stop, float(interval)), name="jobs", daemon=True)
    thread.start()
    print(f"Running the expiry job every {interval} s and the audit outbox every {OUTBOX_DRAIN_SECONDS:.0f} s",
          flush=True)  # fmt: skip
    return thread


def main() -> int:
    os.chdir(ROOT)  # chalice resolves the stage's relative paths (key files) from here too
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    emulator: ThreadedMotoServer | None = None
    console: ThreadingHTTPServer | None = None
    api: subprocess.Popen[bytes] | None = None
    jobs: threading.Thread | None = None
    try:
        api_port = _port("KUOTA_API_PORT", 8000)
        console_port = _port("KUOTA_CONSOLE_PORT", 8080)
        api_base = f"http://{HOST}:{api_port}"
        console_base = f"http://{HOST}:{console_port}"
        admin = _admin_credentials()
        _check_port_free(api_port, "API")

        emulator = _start_emulator()
        _configure_environment(console_port)
        _prepare_storage(admin)
        console = _start_console(console_port, api_base)
        if stop.is_set():
            return 0
        api = _start_api(api_port)
        if not _wait_for_api(api, api_base, stop):
            if stop.is_set():
                return 0
            reason = "exited" if api.poll() is not None else f"did not answer within {API_START_TIMEOUT_SECONDS:.0f} s"
            print(f"The API {reason}; stopping", file=sys.stderr, flush=True)
            return 1

        jobs = _start_jobs(stop)
        print(f"Kuota is running: API {api_base}  console {console_base}  (Ctrl-C to stop)", flush=True)
        while not stop.wait(0.5):
            if api.poll() is not None:
                print(f"The API exited with code {api.returncode}; stopping", file=sys.stderr, flush=True)
                return 1
        print("Stopping Kuota", flush=True)
        return 0
    except StartupError as exc:
        print(f"infra.dev: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        stop.set()  # also when the API exited on its own: the jobs thread must not outlive the emulator
        if jobs is not None:
            jobs.join(timeout=JOBS_STOP_GRACE_SECONDS)
        if api is not None:
            _stop_api(api)
        if console is not None:
            console.shutdown()
            console.server_close()
        if emulator is not None:
            emulator.stop()


if __name__ == "__main__":
    raise SystemExit(main())
