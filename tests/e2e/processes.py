"""Running the local stack (`python -m infra.dev`, what `make dev` runs) as a real process, one way for every test.

`launched_stack` starts it on free ports with its own data directory, waits for
its ready line, and stops it with Ctrl-C (SIGINT) at the end; its output is read
as it comes so the pipe never fills.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
READY = "Kuota is running"
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 20


def free_ports(count: int) -> list[int]:
    # Held open together so the kernel cannot hand out the same port twice.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


class StackOutput:
    """Everything the stack prints, read in a thread so its pipe never fills."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self.closed = threading.Event()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)
            if line.startswith(READY):
                self.ready.set()
        self.closed.set()

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class StackProcess:
    """A running local stack: its process, addresses and output."""

    process: subprocess.Popen[str]
    api: str
    console: str
    api_port: int
    console_port: int
    dynamodb_port: int
    output: StackOutput

    def stop(self) -> int | None:
        """Ctrl-C, as a developer would; the exit code, or None when it did not stop in time."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            return None


def run_dev(args: list[str], local_dir: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m infra.dev <args>` to its end (e.g. `reset`), with the given local directory."""
    return subprocess.run(
        [sys.executable, "-m", "infra.dev", *args],
        cwd=ROOT, env={**os.environ, "KUOTA_LOCAL_DIR": str(local_dir), **(env or {})},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@contextlib.contextmanager
def launched_stack(
    local_dir: Path,
    *,
    admin_email: str,
    admin_password: str,
    env: dict[str, str] | None = None,
    wait_until_ready: bool = True,
) -> Iterator[StackProcess]:
    """The local stack on free ports, keeping its data and keys in `local_dir`; stopped (or killed) at the end."""
    api_port, console_port, dynamodb_port = free_ports(3)
    full_env = {
        **os.environ,
        "KUOTA_API_PORT": str(api_port),
        "KUOTA_CONSOLE_PORT": str(console_port),
        "KUOTA_DYNAMODB_PORT": str(dynamodb_port),
        "KUOTA_LOCAL_DIR": str(local_dir),
        "KUOTA_ADMIN_EMAIL": admin_email,
        "KUOTA_ADMIN_PASSWORD": admin_password,
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):  # the stack starts its own emulators
        full_env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.dev"],
        cwd=ROOT, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output = StackOutput(process.stdout)
        stack = StackProcess(
            process=process,
            api=f"http://127.0.0.1:{api_port}",
            console=f"http://127.0.0.1:{console_port}",
            api_port=api_port,
            console_port=console_port,
            dynamodb_port=dynamodb_port,
            output=output,
        )
        if wait_until_ready and not output.ready.wait(START_TIMEOUT_SECONDS):
            raise AssertionError(f"the local stack printed no '{READY}' line:\n{output.text()}")
        yield stack
        stack.stop()
    finally:
        # The whole session: the stack and its API child (DynamoDB Local dies with its parent).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
