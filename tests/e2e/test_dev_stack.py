"""`make dev` brings up the API and the console, the admin can sign in, and Ctrl-C stops it all."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import READY, StackOutput, free_ports

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "e2e-dev-stack-password"
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 15


def _request(
    url: str, *, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (a local http URL)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (a local http URL)
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _port_is_closed(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_dev_stack_serves_api_and_console_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    api_port, console_port = free_ports(2)
    api, console = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{console_port}"
    env = {
        **os.environ,
        "KUOTA_API_PORT": str(api_port),
        "KUOTA_CONSOLE_PORT": str(console_port),
        "KUOTA_ADMIN_EMAIL": ADMIN_EMAIL,
        "KUOTA_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "KUOTA_JWT_KEYS_FILE": str(tmp_path / "jwt-keys.json"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AWS_ENDPOINT_URL", None)  # the dev stack starts its own emulator

    process = subprocess.Popen(
        [sys.executable, "-m", "infra.dev"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )  # fmt: skip
    try:
        output = StackOutput(process.stdout)
        assert output.ready.wait(START_TIMEOUT_SECONDS), f"no '{READY}' line:\n{output.text()}"
        assert f"API {api}  console {console}" in output.text()

        status, _, body = _request(f"{api}/v1/openapi.json")
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.1")

        status, _, body = _request(f"{api}/v1/auth/login", body={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert status == 200, body
        access_token = json.loads(body)["access_token"]

        status, _, body = _request(f"{api}/v1/me", token=access_token)
        assert status == 200, body
        assert json.loads(body)["role"] == "platform_admin"

        status, headers, body = _request(f"{console}/")
        assert status == 200
        assert "<title>Kuota</title>" in body.decode()  # the sign-in itself is tested in a browser (test_console.py)
        assert "script-src 'self'" in headers["Content-Security-Policy"]

        status, headers, body = _request(f"{console}/config.json")
        assert status == 200
        assert json.loads(body) == {"apiBase": api}

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=STOP_TIMEOUT_SECONDS) == 0, output.text()
        assert _port_is_closed(api_port), "the API outlived the dev stack"
        assert _port_is_closed(console_port), "the console outlived the dev stack"
    finally:
        # The whole session: the dev stack and its `chalice local` child.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
