"""Load: POS sales, redeems and accounting together, driven by locust against the local API.

Budget (issue 11): zero errors at the recorded rate; throughput, p50/p95/p99 and errors recorded.
The emulators and the API (infra.api_server's server, as `make dev` serves it) run in this
process on 127.0.0.1; locust runs headless in a process of its own (it monkey-patches the
standard library with gevent), bounded by `--seconds` and `--users`, and loopback only.
Setup: an org, a site with a controller key and a POS key, a one-hour plan and a batch of
printed codes. Each locust user repeats a guest's cycle (bench/locustfile.py): a POS sale with
its own Idempotency-Key, a redeem of a fresh code (a printed card while any are left, else the
voucher just sold) with a new MAC, and that session's accounting start, interim and stop. Every
request should be 2xx by design; anything else is an error, and any error exits 1.
A user keeps its connection open, as controllers and tills do, and the server gives each open
connection a worker thread: with more users than worker threads (64) they take turns (each answer
closes its connection while another waits), and each request waits longer.
Run: .venv/bin/python bench/load.py [--users 20] [--seconds 60] [--rate 0] [--printed 2000]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import stack
from radius import Api, percentile

KINDS = ("sale", "redeem", "accounting")
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=20, help="locust users, each one guest cycle at a time")
    parser.add_argument("--seconds", type=int, default=60, help="how long the load runs")
    parser.add_argument("--rate", type=float, default=0.0,
                        help="requests a second per user (0: the next as soon as one is answered)")  # fmt: skip
    parser.add_argument("--printed", type=int, default=2000, help="printed codes issued before the run")
    parser.add_argument("--warm-up", type=int, default=5,
                        help="guest cycles before the run, not measured (caches, the emulator's JIT)")  # fmt: skip
    parser.add_argument("--threads", type=int, default=0, help="the API server's worker threads (0: its default)")


def main() -> int:
    started = time.monotonic()
    options = stack.options(__doc__.splitlines()[0], _arguments)
    stop = stack.start(options.dynamodb, options.dynamodb_endpoint)
    from chalicelib.api.deps import configure
    from infra import api_server
    from tests.e2e.processes import free_ports

    registry = configure()
    email, password = f"bench-admin-{uuid.uuid4().hex[:8]}@example.com", uuid.uuid4().hex  # a reused DynamoDB has one
    registry.accounts.ensure_platform_admin(email, password)
    (api_port,) = free_ports(1)
    threads = options.threads or api_server.DEFAULT_THREADS
    if options.users > threads:
        print(f"note: {options.users} users share the server's {threads} workers (connections closed in turn)")
    server = api_server.build_server(api_port, "dev", threads)
    threading.Thread(target=server.server.serve_forever, daemon=True).start()
    workdir = Path(tempfile.mkdtemp(prefix="kuota-load-"))
    try:
        api = Api(api_port)
        ready = time.monotonic()
        world = _world(api, registry, email, password, options.printed + options.warm_up)
        venue = time.monotonic()
        _warm_up(api, world, options.warm_up)
        print(f"ready in {time.monotonic() - started:.1f} s: the stack {ready - started:.1f} s, the venue "
              f"{venue - ready:.1f} s, the warm-up {time.monotonic() - venue:.1f} s")  # fmt: skip
        world_file = workdir / "world.json"
        world_file.touch(mode=0o600)  # keys and codes: readable by this user only, removed at the end
        world_file.write_text(json.dumps(world))
        load_before, cpu_before = os.getloadavg()[0], time.process_time()
        with stack.counting() as calls:  # every DynamoDB request the API makes during the run
            results = _run_locust(options, api_port, world_file, workdir)
        load_after, results["api_cpu"] = os.getloadavg()[0], time.process_time() - cpu_before
        results["dynamodb"] = dict(calls.requests)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        server.server.shutdown()
        server.server.server_close()  # requests still queued are dropped before the emulators stop
        stop()
    return _report(options, threads, results, load_before, load_after)


def _world(api: Api, registry: Any, email: str, password: str, printed: int) -> dict[str, Any]:
    """A venue set up through the API as an operator would: its keys, a plan and printed codes."""
    token = api.call("POST", "/v1/auth/login", {"email": email, "password": password})["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    org_id = api.call("POST", "/v1/orgs", {"name": "Bench load"}, admin)["org_id"]
    base = f"/v1/orgs/{org_id}"
    site_id = api.call("POST", f"{base}/sites", {"name": "Kafe", "timezone": "Asia/Jakarta"}, admin)["site_id"]
    keys = {kind: api.call("POST", f"{base}/sites/{site_id}/keys", {"kind": kind, "name": kind}, admin)["api_key"]
            for kind in ("controller", "pos")}  # fmt: skip
    plan = {"name": "1 Jam", "price": 5000, "duration_minutes": 60, "validity_days": 30}
    plan_id = api.call("POST", f"{base}/plans", plan, admin)["plan_id"]
    codes: list[str] = []
    if printed:
        batch = api.call("POST", f"{base}/batches", {"plan_id": plan_id, "quantity": printed}, admin)
        if batch["status"] != "done":  # a large batch is issued by the queue worker in production: here, at once
            registry.issuing.issue(org_id, batch["batch_id"])
        codes = api.call("GET", f"{base}/batches/{batch['batch_id']}/codes", headers=admin)["codes"]
        assert len(codes) == printed, len(codes)
    return {"controller_key": keys["controller"], "pos_key": keys["pos"], "plan_id": plan_id, "codes": codes}


def _warm_up(api: Api, world: dict[str, Any], cycles: int) -> None:
    """A few guest cycles, as locust will send them, on printed codes taken from the world's."""
    controller, pos = ({"Authorization": f"Bearer {world[key]}"} for key in ("controller_key", "pos_key"))
    for index in range(cycles):
        code, mac = world["codes"].pop(), f"02:4b:00:00:00:{index:02x}"
        api.call("POST", "/v1/pos/sales", {"plan_id": world["plan_id"], "quantity": 1},
                 {**pos, "Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
        api.call("POST", "/v1/redeem", {"code": code, "mac": mac}, controller)
        for event, seconds in (("start", 0), ("interim", 60), ("stop", 120)):
            usage = {"code": code, "mac": mac, "session_id": f"warm-{index}", "event": event, "session_time": seconds}
            api.call("POST", "/v1/accounting", usage, controller)


def _run_locust(options: argparse.Namespace, port: int, world_file: Path, workdir: Path) -> dict[str, Any]:
    """Locust, headless, in its own process for `--seconds`; what the locustfile measured."""
    results_file = workdir / "results.json"
    log_file = workdir / "locust.log"
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--users", str(options.users), "--spawn-rate", str(options.users), "--run-time", f"{options.seconds}s",
        "--stop-timeout", "10", "--host", f"http://127.0.0.1:{port}", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "KUOTA_LOAD_WORLD": str(world_file), "KUOTA_LOAD_RESULTS": str(results_file),
           "KUOTA_LOAD_USER_RATE": str(options.rate)}  # fmt: skip
    mode = f"{options.rate:g} requests/s per user" if options.rate else "each request as soon as the last is answered"
    print(f"locust: {options.users} users for {options.seconds} s, {mode}")
    with log_file.open("w") as log:
        finished = subprocess.run(command, cwd=stack.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,  # noqa: S603 (our own locust)
                                  timeout=options.seconds + 120, check=False)  # fmt: skip
    if not results_file.is_file():
        sys.stdout.write(log_file.read_text()[-4000:])
        raise SystemExit(f"locust wrote no results (exit {finished.returncode})")
    results: dict[str, Any] = json.loads(results_file.read_text())
    results["exit"] = finished.returncode
    return results


def _report(options: argparse.Namespace, threads: int, results: dict[str, Any], load_before: float,
            load_after: float) -> int:  # fmt: skip
    latencies: dict[str, list[float]] = results["latencies_ms"]
    errors: dict[str, dict[str, int]] = results["errors"]
    seconds = float(results["seconds"])
    redeemed: dict[str, int] = results["redeemed"]
    every = [value for kind in KINDS for value in latencies[kind]]
    error_count = sum(sum(reasons.values()) for reasons in errors.values())
    figures: dict[str, str] = {"users": str(options.users), "seconds": f"{seconds:.1f}"}
    print(f"{'kind':<11}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for kind, samples in [*((kind, latencies[kind]) for kind in KINDS), ("total", every)]:
        failed = error_count if kind == "total" else sum(errors[kind].values())
        rate = len(samples) / seconds if seconds else 0.0
        p50, p95, p99 = (percentile(samples, share) if samples else 0.0 for share in (0.5, 0.95, 0.99))
        print(f"{kind:<11}{len(samples):>10}{rate:>9.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}{failed:>8}")
        figures |= {f"{kind}_rps": f"{rate:.1f}", f"{kind}_p50_ms": f"{p50:.1f}", f"{kind}_p95_ms": f"{p95:.1f}",
                    f"{kind}_p99_ms": f"{p99:.1f}", f"{kind}_requests": str(len(samples))}  # fmt: skip
    for kind in KINDS:
        for reason, count in sorted(errors[kind].items()):
            print(f"error: {kind} {reason} x {count}")
    api_cpu = float(results["api_cpu"])
    print(f"redeemed: {redeemed['printed']} printed cards, {redeemed['sold']} vouchers just sold; "
          f"API server {threads} worker threads, its process's CPU {api_cpu:.1f} s "
          f"({api_cpu / max(len(every), 1) * 1000:.1f} ms a request); {os.cpu_count()} CPUs, load average "
          f"{load_before:.2f} before, {load_after:.2f} after")  # fmt: skip
    dynamodb: dict[str, int] = results["dynamodb"]
    total = sum(dynamodb.values())
    print(f"DynamoDB requests during the run: {total} ({total / max(len(every), 1):.1f} an API request): "
          f"{dict(sorted(dynamodb.items()))}")  # fmt: skip
    if results["exit"] not in (0, 1):  # 1: locust saw failures, counted above
        print(f"locust exited {results['exit']}")
        error_count += 1
    print(" ".join(f"{name}={value}" for name, value in {**figures, "errors": str(error_count)}.items()))
    return 1 if error_count else 0


if __name__ == "__main__":
    raise SystemExit(main())
