"""Package a stage for deployment: `python -m infra.package --stage prod OUT`.

Wraps `chalice package`, merging `infra/resources.json` (tables, secret,
console bucket), and targets a current Lambda runtime: Chalice picks the
runtime from the local interpreter, and Lambda no longer accepts python3.11,
so the target is pinned here and Chalice fetches wheels built for it (pip is
told the target Python version, which Chalice leaves to the local interpreter).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

LAMBDA_RUNTIME = "python3.13"
TARGET_PYTHON = "3.13"
ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    from chalice import cli
    from chalice.config import Config
    from chalice.deploy.packager import PipRunner

    Config.lambda_python_version = property(lambda self: LAMBDA_RUNTIME)  # type: ignore[method-assign,assignment]
    download_wheels = PipRunner.download_manylinux_wheels

    def download_for_target(
        self: PipRunner, abi: str, packages: list[str], directory: str, platforms: object = None
    ) -> None:
        original_execute = self._execute

        def execute(command: str, args: list[str], *rest: Any) -> Any:
            return original_execute(command, ["--python-version", TARGET_PYTHON, *args], *rest)

        self._execute = execute  # type: ignore[method-assign,assignment]
        try:
            download_wheels(self, abi, packages, directory, platforms)  # type: ignore[arg-type]
        finally:
            del self._execute

    PipRunner.download_manylinux_wheels = download_for_target  # type: ignore[method-assign]
    args = ["--project-dir", str(ROOT), "package", "--merge-template", str(ROOT / "infra" / "resources.json"), *argv]
    try:
        cli.cli.main(args=args, prog_name="chalice", obj={}, standalone_mode=False)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
