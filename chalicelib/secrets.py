"""Key material from configuration: a Secrets Manager secret in production, a local file in dev.

Read once per container by the callers' caches. A missing dev file is created
with fresh keys (mode 0600), so `make dev` and the tests need no setup.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def load_secret(*, secret_id: str | None, file: str | None, create: Callable[[], str], what: str) -> str:
    if secret_id:
        import boto3  # only production containers pay for this import

        return str(boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])
    if not file:
        raise RuntimeError(f"no {what} configured: set its secret id or its file")
    path = Path(file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text()  # another process created it a moment ago
        with os.fdopen(fd, "w") as handle:
            handle.write(create())
    return path.read_text()
