"""`make dev`: Kuota on this machine, from the emulators up to the console.

Starts AWS's DynamoDB Local keeping its data in KUOTA_LOCAL_DIR/data (default
`.kuota/data`, beside the keys that data depends on) and an in-process moto
server for SQS, Secrets Manager and S3 (unless AWS_ENDPOINT_URL points at an
emulator already), creates missing tables, ensures a platform admin, runs the
API (`infra.api_server`) as a child process, serves the console's static files
with a strict Content-Security-Policy, and runs the scheduled jobs (expiry every
KUOTA_EXPIRY_INTERVAL seconds, the audit outbox every few seconds, the ledger seal
hourly, suspension stages every 5 minutes) in a background thread, as EventBridge
does in production. Ctrl-C stops all of it;
`python -m infra.dev reset` (`make reset`) wipes the local data and its keys.
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
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from infra import dynamodb_local
from infra.children import die_with_parent
from infra.local_data import LocalData, LocalDataError

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

    from chalicelib.api.deps import Services

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STAGE = "dev"
DEFAULT_LOCAL_DIR = ".kuota"
DEFAULT_ADMIN_EMAIL = "admin@example.com"
MIN_ADMIN_PASSWORD_LENGTH = 10  # the API's rule for new passwords
API_START_TIMEOUT_SECONDS = 60.0
API_STOP_GRACE_SECONDS = 5.0
OUTBOX_DRAIN_SECONDS = 10.0  # audit events show up in the console soon after a redeem
SEAL_SECONDS = 3600.0  # the days due are sealed within an hour of becoming due
COMPLIANCE_SECONDS = 300.0  # suspension stages move on their deadlines, as the scheduled job does
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


def _check_port_free(port: int, what: str, variable: str) -> None:
    # Without this, a stack already running on the port would answer our readiness check.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            raise StartupError(
                f"cannot use {HOST}:{port} for the {what}: {exc.strerror} (set {variable} to use another port)"
            ) from None


def local_data() -> LocalData:
    """Where `make dev` keeps its data and the keys that data depends on."""
    local_dir = ROOT / (os.environ.get("KUOTA_LOCAL_DIR") or DEFAULT_LOCAL_DIR)
    keys = (local_dir / "jwt-keys.json", local_dir / "code-keys.json", local_dir / "ledger-key.pem")
    return LocalData(data_dir=local_dir / "data", key_files=keys)


def _stage_environment(stage: str) -> dict[str, str]:
    """The variables `chalice local --stage` will put into the API's environment."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    variables: dict[str, str] = dict(config.get("environment_variables", {}))
    variables.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return variables


EMULATOR_KEY = "dev"  # the local emulators take any credentials


def configure_environment(console_port: int, data: LocalData, api_port: int = 8000) -> None:
    """The environment this process and the API share: what the caller set, then the stage's values."""
    defaults = {
        "AWS_ACCESS_KEY_ID": EMULATOR_KEY,
        "AWS_SECRET_ACCESS_KEY": EMULATOR_KEY,
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
        "KUOTA_STAGE": STAGE,
        "KUOTA_CONSOLE_ORIGIN": f"http://{HOST}:{console_port}",
        # What the console's "connect a controller" page tells an openNDS router to poll.
        "KUOTA_API_PUBLIC_URL": f"http://{HOST}:{api_port}",
        **_stage_environment(STAGE),
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    # The keys live beside the data they belong to, wherever KUOTA_LOCAL_DIR puts them.
    jwt_keys, code_keys, ledger_key = data.key_files
    os.environ["KUOTA_JWT_KEYS_FILE"] = str(jwt_keys)
    os.environ["KUOTA_CODE_KEYS_FILE"] = str(code_keys)
    os.environ["KUOTA_LEDGER_KEY_FILE"] = str(ledger_key)


@dataclass
class Emulators:
    """What this process started (nothing when the caller's AWS_ENDPOINT_URL points at an emulator)."""

    dynamodb: dynamodb_local.DynamoDBLocal | None = None
    moto: ThreadedMotoServer | None = None

    def stop(self) -> None:
        if self.moto is not None:
            self.moto.stop()
        if self.dynamodb is not None:
            self.dynamodb.stop()


def _start_emulators(emulators: Emulators, data: LocalData) -> None:
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        print(f"Using the AWS emulator at {endpoint}", flush=True)
        return
    if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        print(f"Using DynamoDB at {os.environ['AWS_ENDPOINT_URL_DYNAMODB']}", flush=True)
    else:
        port = _port("KUOTA_DYNAMODB_PORT", 8001)
        _check_port_free(port, "DynamoDB Local", "KUOTA_DYNAMODB_PORT")
        try:
            emulators.dynamodb = dynamodb_local.start(port, data.data_dir)
        except dynamodb_local.DynamoDBLocalError as exc:
            raise StartupError(str(exc)) from None
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = emulators.dynamodb.endpoint
        print(f"Started DynamoDB Local at {emulators.dynamodb.endpoint} (pid {emulators.dynamodb.process.pid}; "
              f"data kept in {data.data_dir})", flush=True)  # fmt: skip
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
    emulators.moto = ThreadedMotoServer(ip_address=HOST, port=_port("KUOTA_EMULATOR_PORT", 0, minimum=0), verbose=False)
    emulators.moto.start()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{HOST}:{emulators.moto.get_host_and_port()[1]}"
    print(f"Started moto for SQS, Secrets Manager and S3 at {os.environ['AWS_ENDPOINT_URL']}", flush=True)


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


def _prepare_storage(admin: AdminCredentials, data: LocalData) -> None:
    # chalicelib reads its settings at import time, so it is imported only now.
    from chalicelib.api.deps import services
    from chalicelib.auth.signing_keys import get_key_set
    from chalicelib.codes import get_code_keys
    from chalicelib.models.tables import ensure_tables
    from chalicelib.services.chain import key_id

    ensure_tables()
    get_key_set(), get_code_keys(), key_id()  # created on first use: the key files exist from here on
    data.bind()
    registry = services()
    _requeue_unfinished_batches(registry)
    _, created = registry.accounts.ensure_platform_admin(admin.email, admin.password)
    if created and admin.generated:
        print(f"Created platform admin {admin.email} with generated password: {admin.password}", flush=True)
    elif created:
        print(f"Created platform admin {admin.email} with the password from KUOTA_ADMIN_PASSWORD", flush=True)
    else:
        unused = "the generated one was not applied" if admin.generated else "KUOTA_ADMIN_PASSWORD was not applied"
        print(f"Platform admin {admin.email} already exists; its password is unchanged ({unused})", flush=True)


def _requeue_unfinished_batches(registry: Services) -> None:
    """Large batches that were waiting or running when the stack stopped go back on the queue.

    The queue is moto's, in memory, so its messages did not survive the restart; issuing
    resumes where a batch stopped, so queueing one twice does no harm.
    """
    from chalicelib.messaging import send_batch_job

    for org in registry.accounts.list_orgs():
        cursor: str | None = None
        while True:
            page = registry.issuing.list_batches(org.org_id, limit=200, cursor=cursor)
            for batch in page.batches:
                if batch.status in ("pending", "running"):
                    send_batch_job(org.org_id, batch.batch_id)
                    progress = f"{batch.issued} of {batch.quantity} issued"
                    print(f"Queued batch {batch.batch_id} again ({progress})", flush=True)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor


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
    if not (built / "index.html").is_file():
        raise StartupError("the console is not built (frontend/dist): run `make console` (make dev does it)")
    return built


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
        raise StartupError(
            f"cannot serve the console on {HOST}:{port}: {exc.strerror} (set KUOTA_CONSOLE_PORT to use another port)"
        ) from None
    threading.Thread(target=server.serve_forever, name="console", daemon=True).start()
    return server


def _start_api(port: int) -> subprocess.Popen[bytes]:
    threads = _port("KUOTA_API_THREADS", 64)  # a count, checked like a port: a positive number
    command = [sys.executable, "-m", "infra.api_server", "--port", str(port), "--stage", STAGE]
    command += ["--threads", str(threads)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A terminal sends Ctrl-C to the whole process group. The child starts with
    # SIGINT ignored (that survives exec) so shutdown happens once, from here.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.Popen(  # noqa: S603 (fixed argv)
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def _wait_for_api(api: subprocess.Popen[bytes], api_base: str, stop: threading.Event) -> bool:
    deadline = time.monotonic() + API_START_TIMEOUT_SECONDS
    url = f"{api_base}/v1/openapi.json"
    while time.monotonic() < deadline and not stop.is_set():
        if api.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own http URL)  # nosec B310
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
    from chalicelib.auth.principal import scheduler_actor
    from chalicelib.messaging import finish_batch_job, receive_batch_jobs
    from chalicelib.services.chain import seal_due
    from chalicelib.services.expiring import ExpiryService
    from chalicelib.services.outbox import AuditOutbox

    expiry = ExpiryService()
    outbox = AuditOutbox(services().audit)

    def seconds_left() -> float:
        # Ctrl-C ends an expiry run at its next item; what it finished is kept.
        return -1.0 if stop.is_set() else 3600.0

    next_expiry = next_drain = next_seal = next_compliance = time.monotonic()
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
        if now >= next_seal:
            next_seal = now + SEAL_SECONDS
            try:
                owners = ["PLATFORM", *(f"ORG#{org.org_id}" for org in services().accounts.list_orgs())]
                seal_due(owners, datetime.now(UTC))
            except Exception as exc:
                print(f"Ledger sealing failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        if now >= next_compliance:
            next_compliance = now + COMPLIANCE_SECONDS
            try:
                services().compliance.advance(scheduler_actor(f"dev-compliance-{secrets.token_hex(4)}"))
            except Exception as exc:
                print(f"Compliance run failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            try:  # on the same 5 minutes as the scheduler's reconcile_payments
                services().payments.reconcile(scheduler_actor(f"dev-payments-{secrets.token_hex(4)}"))
            except Exception as exc:
                print(f"Payment reconciliation failed: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
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
    print(f"Running the expiry job every {interval} s, the audit outbox every {OUTBOX_DRAIN_SECONDS:.0f} s and "
          f"suspension stages every {COMPLIANCE_SECONDS:.0f} s", flush=True)  # fmt: skip
    return thread


def _stack_failure(api: subprocess.Popen[bytes], emulators: Emulators) -> str | None:
    """Why the stack cannot go on, or None while everything runs."""
    dynamodb = emulators.dynamodb
    if dynamodb is not None and not dynamodb.alive():
        return f"DynamoDB Local stopped unexpectedly (exit code {dynamodb.process.returncode}):\n{dynamodb.output()}"
    if api.poll() is not None:
        return f"The API exited with code {api.returncode}"
    return None


def run() -> int:
    os.chdir(ROOT)  # the stage's relative paths resolve from here
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    emulators = Emulators()
    console: ThreadingHTTPServer | None = None
    api: subprocess.Popen[bytes] | None = None
    jobs: threading.Thread | None = None
    try:
        api_port = _port("KUOTA_API_PORT", 8000)
        console_port = _port("KUOTA_CONSOLE_PORT", 8080)
        api_base = f"http://{HOST}:{api_port}"
        console_base = f"http://{HOST}:{console_port}"
        admin = _admin_credentials()
        data = local_data()
        data.check()
        _check_port_free(api_port, "API", "KUOTA_API_PORT")
        _check_port_free(console_port, "console", "KUOTA_CONSOLE_PORT")
        _console_directory()

        configure_environment(console_port, data, api_port)
        _start_emulators(emulators, data)
        _prepare_storage(admin, data)
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
        print(f"Guest page: {console_base}/guest.html?org=<org_id> (see docs/integrations/guest-page.md)", flush=True)
        while not stop.wait(0.5):
            failure = _stack_failure(api, emulators)
            if failure:
                print(f"{failure}; stopping", file=sys.stderr, flush=True)
                return 1
        print("Stopping Kuota", flush=True)
        return 0
    except (StartupError, LocalDataError) as exc:
        print(f"infra.dev: {exc}", file=sys.stderr, flush=True)
        return 2
    finally:
        stop.set()  # also when the API exited on its own: the jobs thread must not outlive the emulators
        if api is not None:
            _stop_api(api)
        if jobs is not None:
            jobs.join(timeout=JOBS_STOP_GRACE_SECONDS)
        if console is not None:
            console.shutdown()
            console.server_close()
        emulators.stop()


def reset() -> int:
    """`make reset`: delete the local data and its keys, saying what goes first."""
    data = local_data()
    doomed = data.contents()
    if not doomed:
        print("Nothing to delete: no local data or keys.", flush=True)
        return 0
    print("Deleting Kuota's local data and the keys it depends on:", flush=True)
    for path in doomed:
        print(f"  {path}{'/' if path.is_dir() else ''}", flush=True)
    data.reset()
    print("Done: the next `make dev` starts empty.", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["reset"]:
        return reset()
    if args:
        print("usage: python -m infra.dev [reset]", file=sys.stderr)
        return 2
    return run()


if __name__ == "__main__":
    raise SystemExit(main())
