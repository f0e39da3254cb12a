"""The load benchmark (bench/load.py) runs: a few seconds of locust, every kind of request sent, no error.

It is run as its own process, as a developer runs it (locust monkey-patches the standard library
with gevent: it must never be imported into pytest's process). The figures themselves are
recorded from longer runs in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pytest_localstack.session import RunningSession

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_SECONDS = 120  # a loaded machine; the run itself is 4 s


def test_a_short_load_run_sends_every_kind_and_gets_no_error(aws: RunningSession) -> None:
    # The session's DynamoDB Local (the bench's own tables in it), not a second one started for a 4-second run.
    endpoint = aws.endpoint_url("dynamodb")
    finished = subprocess.run(
        [sys.executable, "bench/load.py", "--users", "3", "--seconds", "4", "--printed", "10", "--warm-up", "1",
         "--dynamodb-endpoint", endpoint],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    output = finished.stdout + finished.stderr
    print(finished.stdout)  # the figures (the bench prints no code or key)
    assert finished.returncode == 0, output
    figures = dict(pair.split("=", 1) for pair in finished.stdout.strip().splitlines()[-1].split())
    assert figures["errors"] == "0", output
    counts = {kind: int(figures[f"{kind}_requests"]) for kind in ("sale", "redeem", "accounting")}
    assert min(counts.values()) >= 1, output
    assert int(figures["total_requests"]) == sum(counts.values()), output
