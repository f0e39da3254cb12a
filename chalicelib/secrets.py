"""Key material from configuration: a Secrets Manager secret in production, a local file in dev.

Read once per container by the callers' caches. A missing dev file is created
with fresh keys (mode 0600), so `make dev` and the tests need no setup.
"""

from __future__ import annotations

import os
import uuid
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
        _create_once(path, create())
    return path.read_text()


def _create_once(path: Path, content: str) -> None:
    """Write `content` to `path` unless another thread or process got there first.

    Written whole to a private temporary file first and then linked into place, so that
    a concurrent reader never finds the file empty or half written (the first requests
    after `make dev` starts arrive together, and each needs the keys).
    """
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(content)
        os.link(temporary, path)  # fails if the file exists: the first writer's keys stay
    except FileExistsError:
        pass  # another writer's whole file is in place
    finally:
        temporary.unlink()
