"""Deployment is proven by a synthesised template that cfn-lint accepts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def test_prod_stage_packages_into_a_lint_clean_template(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "AWS_DEFAULT_REGION": "ap-southeast-3"}
    env.pop("AWS_ENDPOINT_URL", None)
    build = subprocess.run(
        [sys.executable, "-m", "infra.package", "--stage", "prod", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    assert "Could not install dependencies" not in build.stdout + build.stderr

    template = json.loads((out / "sam.json").read_text())
    handler = template["Resources"]["APIHandler"]["Properties"]
    assert handler["Runtime"] == "python3.13"
    assert {"AppTable", "AuditTable", "IdempotencyTable", "JwtKeysSecret", "ConsoleBucket"} <= set(
        template["Resources"]
    )
    with zipfile.ZipFile(out / "deployment.zip") as package:
        native = [name for name in package.namelist() if name.endswith(".so")]
    assert native and all("cpython-313" in name or ".abi3." in name for name in native), native

    lint = subprocess.run(
        [str(Path(sys.executable).parent / "cfn-lint"), str(out / "sam.json")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert lint.returncode == 0, lint.stdout + lint.stderr
