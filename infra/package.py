"""Synthesise a stage offline: `python -m infra.package --stage prod [OUT]` (what `make synth` runs).

Writes into OUT (default `build/<stage>/`):
  sam.json         the stage's template: Chalice's functions, API and roles, merged with infra/stack.py
  deployment.zip   the Lambda code: app.py, chalicelib/ and the runtime dependencies
  merge.json       the template handed to `chalice package --merge-template`
  project/         the project as Chalice packaged it (generated config and policies, vendor/)

Only Chalice's supported inputs are used. The runtime dependencies are
installed by pip for the Lambda platform (manylinux2014 aarch64, CPython 3.13:
`--platform --python-version --implementation --only-binary`) into the
project's `vendor/` directory, which Chalice copies into the package as is; the
packaged project's `requirements.txt` is empty, so Chalice builds nothing for
the local interpreter. Libraries the Lambda runtime already provides (boto3,
botocore and their dependencies) are left out. The functions' runtime is set in
the merge template, and each function's IAM policy is its `iam_policy_file`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from infra.stack import (
    API_GATEWAY_STAGE,
    FUNCTIONS,
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    StageSpec,
    function_policy,
    lambda_environment,
    merge_template,
    stage_spec,
)

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
TARGET_PYTHON = LAMBDA_RUNTIME.removeprefix("python")
PLATFORM = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}[LAMBDA_ARCHITECTURE]
# In every Lambda Python runtime (the AWS SDK and what it needs): not packaged.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"})
DEFAULT_REGION = "ap-southeast-3"


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--quiet", *args], check=True)  # noqa: S603


def _platform_args() -> list[str]:
    return [
        "--platform", PLATFORM, "--implementation", "cp", "--python-version", TARGET_PYTHON,
        "--only-binary=:all:", "--no-compile",
    ]  # fmt: skip


def vendor_dependencies() -> Path:
    """requirements.txt installed for the Lambda platform, without what the runtime provides; cached by its hash."""
    requirements = (ROOT / "requirements.txt").read_bytes()
    digest = hashlib.sha256(requirements + " ".join(_platform_args()).encode()).hexdigest()[:16]
    target = BUILD / "vendor" / f"{LAMBDA_RUNTIME}-{LAMBDA_ARCHITECTURE}-{digest}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        _pip("install", "--dry-run", "--ignore-installed", "--report", str(report), "--target", scratch,
             *_platform_args(), "-r", str(ROOT / "requirements.txt"))  # fmt: skip
        resolved = json.loads(report.read_text())["install"]
    pins = [
        f"{item['metadata']['name']}=={item['metadata']['version']}"
        for item in resolved
        if _canonical(item["metadata"]["name"]) not in RUNTIME_PROVIDED
    ]
    _pip("install", "--no-deps", "--target", str(target), *_platform_args(), *pins)
    (target / ".complete").write_text("\n".join(sorted(pins)) + "\n")
    return target


def stage_project(spec: StageSpec, project: Path, vendor: Path) -> None:
    """The project as Chalice should see it on AWS: the app, a generated stage config and policies, vendor/."""
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    shutil.copy2(ROOT / "app.py", project / "app.py")
    shutil.copytree(ROOT / "chalicelib", project / "chalicelib", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(vendor, project / "vendor", ignore=shutil.ignore_patterns(".complete"))
    (project / "requirements.txt").write_text("# Dependencies are in vendor/, built for the Lambda platform.\n")
    repo_config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    chalice_dir = project / ".chalice"
    chalice_dir.mkdir()
    function_settings: dict[str, Any] = {}
    for function in FUNCTIONS:
        policy_file = f"policy-{function}.json"
        (chalice_dir / policy_file).write_text(json.dumps(function_policy(spec, function), indent=2))
        function_settings[function] = {
            **repo_config.get("lambda_functions", {}).get(function, {}),
            "iam_policy_file": policy_file,
        }
    config = {
        "version": "2.0",
        "app_name": repo_config["app_name"],
        "automatic_layer": False,
        "stages": {
            spec.name: {
                "api_gateway_stage": API_GATEWAY_STAGE,
                "api_gateway_endpoint_type": "REGIONAL",
                "environment_variables": lambda_environment(spec),
                "autogen_policy": False,
                "lambda_architecture": LAMBDA_ARCHITECTURE,
                "log_retention_in_days": spec.log_retention_days,
                "tags": {"project": "kuota", "stage": spec.name},
                "lambda_functions": function_settings,
            }
        },
    }
    (chalice_dir / "config.json").write_text(json.dumps(config, indent=2))


def synthesise(spec: StageSpec, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("sam.json", "deployment.zip"):
        (out / stale).unlink(missing_ok=True)
    vendor = vendor_dependencies()
    project = out / "project"
    stage_project(spec, project, vendor)
    merge = out / "merge.json"
    merge.write_text(json.dumps(merge_template(spec), indent=2))
    package_dir = out / "package"
    shutil.rmtree(package_dir, ignore_errors=True)
    env = {name: value for name, value in os.environ.items() if not name.startswith(("KUOTA_", "AWS_ENDPOINT_URL"))}
    env.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)
    chalice = Path(sys.executable).parent / "chalice"
    subprocess.run(  # noqa: S603 (our own chalice, our own arguments)
        [str(chalice), "--project-dir", str(project), "package", "--stage", spec.name,
         "--pkg-format", "cloudformation", "--merge-template", str(merge), str(package_dir)],
        check=True, env=env,
    )  # fmt: skip
    for name in ("sam.json", "deployment.zip"):
        (package_dir / name).replace(out / name)
    package_dir.rmdir()
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.package", description=__doc__.split("\n")[0])
    parser.add_argument("--stage", required=True, choices=["dev", "prod"])
    parser.add_argument("--console-origin", help="https://<console domain> (default: the stage's)")
    parser.add_argument("out", nargs="?", help="output directory (default: build/<stage>)")
    args = parser.parse_args(argv)
    spec = stage_spec(args.stage, args.console_origin)
    out = synthesise(spec, Path(args.out) if args.out else BUILD / spec.name)
    with zipfile.ZipFile(out / "deployment.zip") as package:
        unzipped = sum(info.file_size for info in package.infolist())
    zipped = (out / "deployment.zip").stat().st_size
    print(f"Synthesised stage {spec.name} ({LAMBDA_RUNTIME}, {LAMBDA_ARCHITECTURE}) into {out}/")
    print(f"  template:   {out / 'sam.json'}")
    print(f"  package:    {out / 'deployment.zip'} ({zipped / 1e6:.1f} MB zipped, {unzipped / 1e6:.1f} MB unzipped)")
    print(f"  console at: {spec.console_origin}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
