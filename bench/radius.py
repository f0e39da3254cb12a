"""RADIUS logins through FreeRADIUS vs the same logins straight to Kuota's API, side by side.

Budget (design): one Kuota request and one DynamoDB write per accepted login, and
FreeRADIUS (infra/radius, Debian's 3.2) adds <= 5 ms at p95 over calling the API
directly. The API is served over HTTP in this process (infra.api_server's server),
so its DynamoDB calls are counted per login. Each of the 1,000 rounds sends one
Access-Request (pyrad, PAP) through FreeRADIUS with a fresh code, then posts another
fresh code's login to /v1/radius/authorize with the JSON body rlm_rest sends;
interleaved, so drift on a shared machine cannot favour either side.
Run: .venv/bin/python bench/radius.py [--dynamodb moto]
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import statistics
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import stack

ROUNDS = 1_000
WARMUP = 20
NAS_ID = "bench-nas"
NAS_SECRET = b"bench-nas-secret"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class NoDelayConnection(http.client.HTTPConnection):
    """As libcurl (rlm_rest) connects: TCP_NODELAY, so a request's body is not held back waiting for an ACK."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Api:
    """One kept-alive connection to the API (rlm_rest keeps its connections open too)."""

    def __init__(self, port: int) -> None:
        self._connection = NoDelayConnection("127.0.0.1", port, timeout=30)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        sent = {"Content-Type": "application/json", **(headers or {})}
        try:
            self._connection.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
            response = self._connection.getresponse()
        except (http.client.RemoteDisconnected, ConnectionError):
            # The server closes a connection idle for 5 s (e.g. while a batch is issued): once more, on a new one.
            self._connection.close()
            self._connection.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
            response = self._connection.getresponse()
        data = response.read()
        assert 200 <= response.status < 300, (method, path, response.status, data)
        return json.loads(data) if data else None


def main() -> None:
    options = stack.options(__doc__.splitlines()[0])
    stop = stack.start(options.dynamodb)
    from pyrad import client, dictionary, packet

    from chalicelib.api.deps import configure
    from infra import api_server
    from infra.radius import RadiusSettings, running
    from tests.e2e.processes import free_ports

    registry = configure()
    email, password = "bench-admin@example.com", uuid.uuid4().hex
    registry.accounts.ensure_platform_admin(email, password)
    api_port, auth_port, acct_port, coa_port = free_ports(4)
    server = api_server.build_server(api_port, "dev", api_server.DEFAULT_THREADS)
    threading.Thread(target=server.server.serve_forever, daemon=True).start()

    api = Api(api_port)
    admin = {"Authorization": "Bearer " + api.call("POST", "/v1/auth/login", {"email": email, "password": password})[
        "access_token"]}  # fmt: skip
    org_id = api.call("POST", "/v1/orgs", {"name": "Bench"}, admin)["org_id"]
    base = f"/v1/orgs/{org_id}"
    site_id = api.call("POST", f"{base}/sites", {"name": "Kios", "timezone": "Asia/Jakarta"}, admin)["site_id"]
    api.call("POST", f"{base}/sites/{site_id}/nas", {"name": "hAP", "nas_identifier": NAS_ID}, admin)
    radius_key = api.call("POST", f"{base}/keys", {"kind": "radius", "name": "bench"}, admin)["api_key"]
    plan = {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30, "data_quota_mb": 1024,
            "rate_up_kbps": 1024, "rate_down_kbps": 4096}  # fmt: skip
    plan_id = api.call("POST", f"{base}/plans", plan, admin)["plan_id"]
    quantity = 2 * (ROUNDS + WARMUP)
    batch = api.call("POST", f"{base}/batches", {"plan_id": plan_id, "quantity": quantity}, admin)
    if batch["status"] != "done":  # a large batch is issued by the queue worker in production: here, at once
        registry.issuing.issue(org_id, batch["batch_id"])
    codes = api.call("GET", f"{base}/batches/{batch['batch_id']}/codes", headers=admin)["codes"]
    assert len(codes) == quantity, len(codes)
    through_codes, direct_codes = codes[::2], codes[1::2]

    basic = base64.b64encode(f"freeradius:{radius_key}".encode()).decode()
    rest_headers = {"Authorization": f"Basic {basic}", "X-FreeRADIUS-Section": "authorize",
                    "X-FreeRADIUS-Server": "kuota"}  # fmt: skip
    nas = client.Client(server="127.0.0.1", authport=auth_port, acctport=acct_port, secret=NAS_SECRET,
                        dict=dictionary.Dictionary("/usr/share/freeradius/dictionary.rfc2865"))  # fmt: skip
    nas.timeout, nas.retries = 5, 1

    def through_freeradius(code: str, index: int) -> float:
        request = nas.CreateAuthPacket(code=packet.AccessRequest, User_Name=code, NAS_Identifier=NAS_ID,
                                       Calling_Station_Id=_mac(index), NAS_IP_Address="127.0.0.1")  # fmt: skip
        request["User-Password"] = request.PwCrypt(code)
        started = time.perf_counter()
        reply = nas.SendPacket(request)
        elapsed = time.perf_counter() - started
        assert reply.code == packet.AccessAccept, reply.code
        return elapsed

    def straight_to_api(code: str, index: int) -> float:
        body = {name: {"type": kind, "value": [value]} for name, kind, value in (
            ("User-Name", "string", code), ("User-Password", "string", code), ("NAS-IP-Address", "ipaddr", "127.0.0.1"),
            ("Calling-Station-Id", "string", _mac(index + 100_000)), ("NAS-Identifier", "string", NAS_ID))}  # fmt: skip
        started = time.perf_counter()
        answer = api.call("POST", "/v1/radius/authorize", body, rest_headers)
        elapsed = time.perf_counter() - started
        assert answer.get("control:Auth-Type") == "Accept", answer
        return elapsed

    settings = RadiusSettings(api_url=f"http://127.0.0.1:{api_port}", radius_key=radius_key,
                              nas_secret=NAS_SECRET.decode(), auth_port=auth_port, acct_port=acct_port,
                              nas_coa_port=coa_port)  # fmt: skip
    through: list[float] = []
    direct: list[float] = []
    writes = {"through": 0, "direct": 0}
    requests = {"through": 0, "direct": 0}
    with running(settings) as freeradius:
        for index in range(WARMUP):  # API key cache, site cache, connections on both paths
            through_freeradius(through_codes[index], index)
            straight_to_api(direct_codes[index], index)
        cpu_before = _cpu_seconds(freeradius.process.pid)
        with stack.counting() as calls:
            for index in range(WARMUP, WARMUP + ROUNDS):
                for side, login, code in (("through", through_freeradius, through_codes[index]),
                                          ("direct", straight_to_api, direct_codes[index])):  # fmt: skip
                    before_writes = sum(calls.requests[name] for name in WRITES)
                    before_total = calls.total
                    (through if side == "through" else direct).append(login(code, index))
                    writes[side] += sum(calls.requests[name] for name in WRITES) - before_writes
                    requests[side] += calls.total - before_total
        freeradius_cpu = _cpu_seconds(freeradius.process.pid) - cpu_before
    server.server.shutdown()
    stop()

    def ms(samples: list[float], share: float) -> float:
        return percentile(samples, share) * 1000

    print(f"logins through FreeRADIUS:   {len(through)}, p50 {ms(through, 0.5):.2f} ms, p95 {ms(through, 0.95):.2f} ms")
    print(f"the same straight to the API: {len(direct)}, p50 {ms(direct, 0.5):.2f} ms, p95 {ms(direct, 0.95):.2f} ms")
    print(f"FreeRADIUS adds: p50 {ms(through, 0.5) - ms(direct, 0.5):.2f} ms, "
          f"p95 {ms(through, 0.95) - ms(direct, 0.95):.2f} ms (budget 5 ms at p95)")  # fmt: skip
    paired = [(t - d) * 1000 for t, d in zip(through, direct, strict=True)]  # the same round, one after the other
    print(f"paired per round (through minus straight): median {statistics.median(paired):.2f} ms, "
          f"p95 {percentile(paired, 0.95):.2f} ms")  # fmt: skip
    # What FreeRADIUS itself spends (user + system CPU), apart from waiting for a CPU on a busy machine.
    print(f"FreeRADIUS CPU per login: {freeradius_cpu / ROUNDS * 1000:.2f} ms")
    print(f"DynamoDB per accepted login: through FreeRADIUS {writes['through'] / ROUNDS:.2f} writes "
          f"({requests['through'] / ROUNDS:.2f} requests), straight {writes['direct'] / ROUNDS:.2f} writes "
          f"({requests['direct'] / ROUNDS:.2f} requests)")  # fmt: skip
    print(f"radius_added_p95_ms={ms(through, 0.95) - ms(direct, 0.95):.2f} "
          f"writes_per_login={writes['through'] / ROUNDS:g} mean_through_ms={statistics.mean(through) * 1000:.2f}")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _mac(index: int) -> str:
    return "02:42:" + ":".join(f"{(index >> shift) & 0xFF:02x}" for shift in (24, 16, 8, 0))


if __name__ == "__main__":
    main()
