"""`make dev`'s data on disk: DynamoDB Local's file and the keys that data depends on.

Vouchers are keyed by an HMAC of their code and codes are the FF3-1 encryption
of counters kept in the table, so the data and the key files belong together:
data without its keys cannot be redeemed, and keys kept after the data was
wiped would issue again codes that were printed before. A fingerprint of the
keys is stored beside the data; a start that finds one without the other, or
other keys, is refused with what to do. `make reset` removes both together.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path

FINGERPRINT = "keys.sha256"
DATABASE = "shared-local-instance.db"  # DynamoDB Local's file with -sharedDb


class LocalDataError(Exception):
    """The data directory and the key files do not belong together."""


@dataclass(frozen=True)
class LocalData:
    data_dir: Path
    key_files: tuple[Path, ...]

    @property
    def fingerprint_file(self) -> Path:
        return self.data_dir / FINGERPRINT

    def has_data(self) -> bool:
        return (self.data_dir / DATABASE).exists()

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in self.key_files:
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
        return digest.hexdigest()

    def check(self) -> None:
        """Refuse data without its keys, keys without their data, and keys other than the data's."""
        present = [path for path in self.key_files if path.exists()]
        missing = [path for path in self.key_files if not path.exists()]
        if self.fingerprint_file.exists():
            if missing:
                raise LocalDataError(
                    f"{self.data_dir} holds Kuota's data, but the keys it depends on are missing "
                    f"({', '.join(map(str, missing))}): its vouchers could not be redeemed and its users could "
                    "not sign in. Put the key files back, or run `make reset` to wipe the data too."
                )
            if self.fingerprint_file.read_text().strip() != self._fingerprint():
                raise LocalDataError(
                    f"The key files ({', '.join(map(str, self.key_files))}) are not the ones {self.data_dir} "
                    "was written with. Put the original key files back, or run `make reset` to start empty."
                )
        elif present and not self.has_data():
            raise LocalDataError(
                f"Found key files ({', '.join(map(str, present))}) but no data in {self.data_dir}: the data was "
                "wiped without its keys, and codes issued now would repeat codes printed before. "
                "Run `make reset` to remove the keys too and start empty."
            )

    def bind(self) -> None:
        """Record which keys this data belongs to (once the keys exist)."""
        if not self.fingerprint_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self.fingerprint_file.write_text(self._fingerprint() + "\n")

    def contents(self) -> list[Path]:
        """What `reset` deletes: the data directory and the key files, where they exist."""
        return [path for path in (self.data_dir, *self.key_files) if path.exists()]

    def reset(self) -> list[Path]:
        removed = self.contents()
        for path in removed:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        return removed
