"""`make dev`: the API and the console come up, data and keys survive a restart, Ctrl-C stops it all,
`make reset` empties it, and what can go wrong at start-up is said plainly."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import ROOT, launched_stack, port_is_closed, run_dev

pytestmark = pytest.mark.e2e
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "e2e-dev-stack-password"
MAC = "AA:BB:CC:00:11:22"


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


def _call(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> Any:
    status, _, raw = _request(url, body=body, token=token)
    assert 200 <= status < 300, f"{url}: {status} {raw!r}"
    return json.loads(raw)


def _login(api: str) -> str:
    return str(_call(f"{api}/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["access_token"])


def test_dev_stack_serves_api_and_console_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD) as stack:
        api, console = stack.api, stack.console
        assert f"API {api}  console {console}" in stack.output.text()

        status, _, body = _request(f"{api}/v1/openapi.json")
        assert status == 200
        assert json.loads(body)["openapi"].startswith("3.1")

        status, _, body = _request(f"{api}/v1/me", token=_login(api))
        assert status == 200, body
        assert json.loads(body)["role"] == "platform_admin"

        status, headers, body = _request(f"{console}/")
        assert status == 200
        assert "<title>Kuota</title>" in body.decode()  # the sign-in itself is tested in a browser (test_console.py)
        assert "script-src 'self'" in headers["Content-Security-Policy"]

        status, headers, body = _request(f"{console}/config.json")
        assert status == 200
        assert json.loads(body) == {"apiBase": api}

        assert stack.stop() == 0, stack.output.text()
        for port in (stack.api_port, stack.console_port, stack.dynamodb_port):
            assert port_is_closed(port), f"port {port} outlived the stack:\n{stack.output.text()}"


def test_data_and_keys_survive_a_restart_and_make_reset_empties_them(tmp_path: Path) -> None:
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD) as first:
        api = first.api
        token = _login(api)
        org = _call(f"{api}/v1/orgs", {"name": "Warung Kopi"}, token)
        base = f"{api}/v1/orgs/{org['org_id']}"
        site = _call(f"{base}/sites", {"name": "Kasir", "timezone": "Asia/Jakarta"}, token)
        key = _call(f"{base}/sites/{site['site_id']}/keys", {"kind": "controller", "name": "router"}, token)
        plan = _call(f"{base}/plans", {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30},
                     token)  # fmt: skip
        batch = _call(f"{base}/batches", {"plan_id": plan["plan_id"], "quantity": 2}, token)
        codes = _call(f"{base}/batches/{batch['batch_id']}/codes", token=token)["codes"]
        assert first.stop() == 0, first.output.text()

    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password="a-different-password") as second:
        api = second.api
        assert "already exists; its password is unchanged" in second.output.text()
        token = _login(api)  # the first run's admin and password, and the same signing keys' data
        base = f"{api}/v1/orgs/{org['org_id']}"
        assert [p["plan_id"] for p in _call(f"{base}/plans", token=token)["plans"]] == [plan["plan_id"]]
        redeemed = _call(f"{api}/v1/redeem", {"code": codes[0], "mac": MAC}, key["api_key"])
        assert redeemed["status"] == "active"
        events = _call(f"{base}/audit", token=token)["events"]
        assert {"batch.create", "batch.codes_exported"} <= {event["action"] for event in events}
        # `make verify-ledger` against the running stack: both runs' records are chained and add up.
        clean = {name: value for name, value in os.environ.items() if not name.startswith("AWS_ENDPOINT_URL")}
        verified = subprocess.run(
            [sys.executable, "-m", "infra.verify_ledger", "--org", org["org_id"]], cwd=ROOT, capture_output=True,
            text=True, timeout=120,
            env={**clean, "KUOTA_LOCAL_DIR": str(tmp_path), "KUOTA_DYNAMODB_PORT": str(second.dynamodb_port)},
        )  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "OK: every record holds." in verified.stdout and "audit trail" in verified.stdout
        assert second.stop() == 0, second.output.text()

    reset = run_dev(["reset"], tmp_path)
    assert reset.returncode == 0, reset.stderr
    assert f"{tmp_path / 'data'}/" in reset.stdout and str(tmp_path / "code-keys.json") in reset.stdout
    assert not (tmp_path / "data").exists() and not (tmp_path / "code-keys.json").exists()

    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD) as third:
        token = _login(third.api)
        status, _, _ = _request(f"{third.api}/v1/orgs/{org['org_id']}/plans", token=token)
        assert status == 404  # empty again: the organisation is gone
        assert third.stop() == 0, third.output.text()


def test_data_without_its_keys_or_keys_without_their_data_is_refused(tmp_path: Path) -> None:
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD) as stack:
        assert stack.stop() == 0, stack.output.text()
    saved = (tmp_path / "code-keys.json").read_bytes()

    (tmp_path / "code-keys.json").unlink()
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                        wait_until_ready=False) as refused:  # fmt: skip
        assert refused.process.wait(timeout=30) == 2
        assert refused.output.closed.wait(5)
        assert "the keys it depends on are missing" in refused.output.text()
        assert "make reset" in refused.output.text()

    (tmp_path / "code-keys.json").write_bytes(saved)
    for path in (tmp_path / "data").iterdir():
        path.unlink()
    (tmp_path / "data").rmdir()
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                        wait_until_ready=False) as refused:  # fmt: skip
        assert refused.process.wait(timeout=30) == 2
        assert refused.output.closed.wait(5)
        assert "no data in" in refused.output.text() and "make reset" in refused.output.text()


def test_a_port_in_use_is_named_with_the_variable_that_moves_it(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD,
                            env={"KUOTA_API_PORT": str(port)}, wait_until_ready=False) as refused:  # fmt: skip
            assert refused.process.wait(timeout=30) == 2
            assert refused.output.closed.wait(5)
            text = refused.output.text()
    assert f"127.0.0.1:{port}" in text and "KUOTA_API_PORT" in text
    assert "Traceback" not in text


def test_dynamodb_local_dying_stops_the_stack_with_a_message(tmp_path: Path) -> None:
    with launched_stack(tmp_path, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD) as stack:
        found = re.search(r"Started DynamoDB Local at \S+ \(pid (\d+);", stack.output.text())
        assert found, stack.output.text()
        os.kill(int(found.group(1)), signal.SIGKILL)
        assert stack.process.wait(timeout=30) == 1
        assert stack.output.closed.wait(10)
        assert "DynamoDB Local stopped unexpectedly" in stack.output.text()
        assert port_is_closed(stack.api_port)
