"""Test harness for the whole suite: configuration, and the AWS emulators for the tests that use AWS.

DynamoDB is AWS's own DynamoDB Local (one in-memory instance per session, a Java
child process); SQS, Secrets Manager and S3 are a moto server in this process.
Both are reached through pytest-localstack's `RunningSession`; set
LOCALSTACK_HOST to run the same suite against LocalStack instead. The session
fixture `aws` starts them on first use, so pure unit tests start nothing;
`tests/api/conftest.py` empties the tables after every API test. The end of the
run prints the suite's wall time and the peak memory of this process.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Configuration must be in place before chalicelib reads it at import time.
_KEYS_DIR = tempfile.mkdtemp(prefix="kuota-test-keys-")
os.environ.update(
    {
        "KUOTA_STAGE": "test",
        "KUOTA_JWT_KEYS_FILE": str(Path(_KEYS_DIR) / "jwt-keys.json"),
        "KUOTA_CODE_KEYS_FILE": str(Path(_KEYS_DIR) / "code-keys.json"),
        "KUOTA_LEDGER_KEY_FILE": str(Path(_KEYS_DIR) / "ledger-key.pem"),
        "KUOTA_TRUST_FORWARDED_FOR": "true",
        # A cheaper argon2id profile keeps the suite fast; production uses the defaults.
        "KUOTA_PASSWORD_TIME_COST": "1",
        "KUOTA_PASSWORD_MEMORY_KIB": "8192",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "ap-southeast-3",
        "AWS_REGION": "ap-southeast-3",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("KUOTA_JWT_KEYS_SECRET_ID", None)

import resource  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from pytest_localstack.session import RunningSession  # noqa: E402

MOTO_SERVICES = ["secretsmanager", "s3", "sqs"]
PEAK_RSS_BUDGET_MIB = 1536
logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the emulator's access log
_STARTED = time.monotonic()


@pytest.fixture(scope="session")
def aws() -> Iterator[RunningSession]:
    """The emulators, started once per session; AWS_ENDPOINT_URL(_DYNAMODB) point every client at them."""
    host = os.environ.get("LOCALSTACK_HOST")
    if host:
        hostname, _, edge_port = host.partition(":")
        services = dict.fromkeys(["dynamodb", *MOTO_SERVICES], int(edge_port or 4566))
        session = RunningSession(hostname, services=services)
        stop_servers: list[Callable[[], None]] = []
    else:
        from moto.server import ThreadedMotoServer

        from infra import dynamodb_local

        dynamodb = dynamodb_local.start()
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        moto.start()
        services = {"dynamodb": dynamodb.port, **dict.fromkeys(MOTO_SERVICES, moto.get_host_and_port()[1])}
        session = RunningSession("127.0.0.1", services=services)
        stop_servers = [moto.stop, dynamodb.stop]
    session.start(timeout=60)
    os.environ["AWS_ENDPOINT_URL"] = session.endpoint_url("sqs")
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = session.endpoint_url("dynamodb")
    from chalicelib.models.tables import ensure_tables

    ensure_tables()
    yield session
    session.stop()
    for stop in stop_servers:
        stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`make test`), the end-to-end tests run on one worker: they share one local stack and
    one Chromium, and two of them at once would fight over the two cores their timings assume."""
    for item in items:
        if "e2e" in item.path.parts:
            item.add_marker(pytest.mark.xdist_group("e2e"))


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


_WORKER_PEAKS: list[float] = []


def pytest_testnodedown(node: Any, error: object) -> None:
    """(xdist controller) A worker finished: keep its peak memory for the summary."""
    _WORKER_PEAKS.append(float(node.workeroutput.get("peak_mib", 0)))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int) -> None:
    peak_mib = max([_peak_mib(), *_WORKER_PEAKS])
    terminalreporter.write_line(
        f"suite wall time {time.monotonic() - _STARTED:.0f} s; peak RSS of a pytest process {peak_mib:.0f} MiB "
        f"(budget {PEAK_RSS_BUDGET_MIB} MiB; {len(_WORKER_PEAKS) or 'no'} workers)"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: the controller judges
        workeroutput["peak_mib"] = _peak_mib()
        return
    if max([_peak_mib(), *_WORKER_PEAKS]) > PEAK_RSS_BUDGET_MIB and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED  # the summary line says why
