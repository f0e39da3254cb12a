"""Cold start: the time to `import app` against the bare framework imports, side by side.

Budget (design): `import app` <= 1.25 x `import chalice, pynamodb.models, jwt`
measured in the same run (heavy modules load lazily, in the handlers that need them).
Run: .venv/bin/python bench/cold_start.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

ROUNDS = 15
BUDGET = 1.25
ROOT = Path(__file__).resolve().parent.parent
BARE = "chalice, pynamodb.models, jwt"
# The child times its own import only; interpreter start-up stays outside the figure.
CHILD = "import time; started = time.perf_counter(); import {modules}; print(time.perf_counter() - started)"


def import_seconds(modules: str) -> float:
    output = subprocess.run(  # noqa: S603 (this interpreter, a fixed command)
        [sys.executable, "-c", CHILD.format(modules=modules)],
        cwd=ROOT, env=os.environ.copy(), capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return float(output.strip().splitlines()[-1])


def main() -> int:
    import_seconds(BARE), import_seconds("app")  # compile bytecode before anything is timed
    bare_times, app_times = [], []
    for round_number in range(ROUNDS):
        # Alternate which goes first, so drift on a shared machine cannot favour either side.
        if round_number % 2:
            app_times.append(import_seconds("app"))
            bare_times.append(import_seconds(BARE))
        else:
            bare_times.append(import_seconds(BARE))
            app_times.append(import_seconds("app"))
    bare_median = statistics.median(bare_times) * 1000
    app_median = statistics.median(app_times) * 1000
    ratio = app_median / bare_median
    print(f"import {BARE}: {ROUNDS} fresh processes, median {bare_median:.1f} ms "
          f"(min {min(bare_times) * 1000:.1f}, max {max(bare_times) * 1000:.1f})")  # fmt: skip
    print(f"import app: {ROUNDS} fresh processes, median {app_median:.1f} ms "
          f"(min {min(app_times) * 1000:.1f}, max {max(app_times) * 1000:.1f})")  # fmt: skip
    print(f"budget: import app <= {BUDGET} x bare imports")
    print(f"import_ratio={ratio:.2f}")
    return 0 if ratio <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
