"""Dev key files: created once, whole, however many requests need them at the same moment."""

from __future__ import annotations

import itertools
import stat
import threading
from pathlib import Path

from chalicelib.secrets import load_secret


def test_requests_arriving_together_all_read_the_one_whole_file_written(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "code-keys.json"
    numbers = itertools.count()
    start = threading.Barrier(32)
    seen: list[str] = []

    def read() -> None:
        start.wait()
        seen.append(load_secret(secret_id=None, file=str(path), create=lambda: f'{{"key": {next(numbers)}}}',
                                what="test keys"))  # fmt: skip

    threads = [threading.Thread(target=read) for _ in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 32
    assert len(set(seen)) == 1 and seen[0] == path.read_text() and seen[0].startswith('{"key": ')
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [entry.name for entry in path.parent.iterdir()] == ["code-keys.json"]  # no temporary file left


def test_an_existing_file_is_read_and_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "ledger.pem"
    path.write_text("kept")
    assert load_secret(secret_id=None, file=str(path), create=lambda: "new", what="test key") == "kept"
