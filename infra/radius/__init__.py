"""FreeRADIUS in front of Kuota: a private configuration built from Debian's, and the server run from it.

The configuration is Debian's stock one (/etc/freeradius/3.0) plus the small
files beside this module: `rest` (the module pointed at Kuota), `kuota` (the
virtual server), `clients.conf` (the NAS) and `dictionary.kuota`. Their
`$ENV{...}` values (Kuota's URL, the radius key, ports, the NAS secret) come
from the environment FreeRADIUS is started with, so no secret is written to
disk. `python -m infra.radius` (`make radius`) runs it in the foreground on
loopback against `make dev`'s API; tests and bench/radius.py use `running`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from infra.children import die_with_parent

HERE = Path(__file__).resolve().parent
STOCK = Path("/etc/freeradius/3.0")
FREERADIUS = "/usr/sbin/freeradius"
READY = "Ready to process requests"
START_TIMEOUT_SECONDS = 15.0
STOP_TIMEOUT_SECONDS = 10.0
LOOPBACK = "127.0.0.1"


class RadiusError(Exception):
    """Something to fix before FreeRADIUS can run (missing packages, unsafe permissions, a failed start)."""


@dataclass(frozen=True)
class RadiusSettings:
    """What differs between one FreeRADIUS and another: where Kuota is, the key, the ports, the NAS."""

    api_url: str
    radius_key: str = field(repr=False)
    nas_secret: str = field(repr=False)
    auth_port: int = 1812
    acct_port: int = 1813
    address: str = LOOPBACK
    nas_address: str = LOOPBACK
    nas_coa_port: int = 3799  # RFC 5176
    # Debian's 1 s slows every Access-Reject down; Kuota limits failed attempts itself.
    reject_delay: int = 0

    def environment(self) -> dict[str, str]:
        """The `$ENV{...}` values the repo's configuration files read."""
        return {
            "KUOTA_API_URL": self.api_url.rstrip("/"),
            "KUOTA_RADIUS_KEY": self.radius_key,
            "KUOTA_RADIUS_ADDRESS": self.address,
            "KUOTA_RADIUS_AUTH_PORT": str(self.auth_port),
            "KUOTA_RADIUS_ACCT_PORT": str(self.acct_port),
            "KUOTA_NAS_ADDRESS": self.nas_address,
            "KUOTA_NAS_SECRET": self.nas_secret,
            "KUOTA_NAS_COA_PORT": str(self.nas_coa_port),
        }


def refuse_world_writable(root: Path) -> None:
    """FreeRADIUS refuses these too, but says why only under -X: say it here, naming the path."""
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink() and path.stat().st_mode & stat.S_IWOTH:
            raise RadiusError(f"{path} is world-writable: FreeRADIUS refuses to start (chmod o-w it)")


def _edit_radiusd_conf(conf: Path, reject_delay: int) -> None:
    lines = []
    for line in conf.read_text().splitlines():
        setting = line.strip().split("=")[0].strip()
        if setting in ("user", "group"):
            # Stock `freerad` drops privileges, and then cannot write its run
            # and log directories; this private copy runs as whoever starts it.
            continue
        if setting == "reject_delay":
            line = f"\treject_delay = {reject_delay}"
        lines.append(line)
    conf.write_text("\n".join(lines) + "\n")


def build_config(target: Path, reject_delay: int = 0) -> Path:
    """Debian's configuration with Kuota's files, in `target/raddb` (private); its path."""
    if not (STOCK / "radiusd.conf").is_file() or not Path(FREERADIUS).is_file():
        raise RadiusError(f"FreeRADIUS is not installed ({STOCK}): run `make system-deps`")
    refuse_world_writable(HERE)
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    raddb = target / "raddb"
    if raddb.exists():
        shutil.rmtree(raddb)
    shutil.copytree(STOCK, raddb, symlinks=True)
    # Kuota's virtual server replaces `default` (users files, EAP) and
    # `inner-tunnel` (a second listener on 127.0.0.1:18120).
    for site in (raddb / "sites-enabled").iterdir():
        site.unlink()
    shutil.copy(HERE / "kuota", raddb / "sites-available" / "kuota")
    (raddb / "sites-enabled" / "kuota").symlink_to("../sites-available/kuota")
    # EAP needs the inner-tunnel server and certificates; Kuota's guests use PAP.
    (raddb / "mods-enabled" / "eap").unlink(missing_ok=True)
    shutil.copy(HERE / "rest", raddb / "mods-available" / "rest")
    (raddb / "mods-enabled" / "rest").symlink_to("../mods-available/rest")
    shutil.copy(HERE / "clients.conf", raddb / "clients.conf")
    shutil.copy(HERE / "dictionary.kuota", raddb / "dictionary.kuota")
    with (raddb / "dictionary").open("a") as dictionary:
        dictionary.write("$INCLUDE dictionary.kuota\n")
    _edit_radiusd_conf(raddb / "radiusd.conf", reject_delay)
    for path in [raddb, *raddb.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o700 if path.is_dir() else 0o600)
    refuse_world_writable(raddb)
    return raddb


class RadiusOutput:
    """What FreeRADIUS prints, read in a thread so its pipe never fills."""

    def __init__(self, process: subprocess.Popen[str], echo: bool) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._echo = echo
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        for line in process.stdout or ():
            self.lines.append(line)
            if self._echo:
                print(line, end="", flush=True)
            if READY in line:
                self.ready.set()

    def text(self) -> str:
        return "".join(self.lines)


@dataclass
class RadiusServer:
    """A running FreeRADIUS: its process, settings and output."""

    process: subprocess.Popen[str]
    settings: RadiusSettings
    output: RadiusOutput

    def stop(self) -> int | None:
        """SIGTERM (FreeRADIUS exits cleanly on it); the exit code, or None if it had to be killed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


@contextlib.contextmanager
def running(settings: RadiusSettings, *, echo: bool = False) -> Iterator[RadiusServer]:
    """FreeRADIUS in the foreground from a private configuration, until the block ends."""
    with tempfile.TemporaryDirectory(prefix="kuota-radius-") as private:
        raddb = build_config(Path(private), settings.reject_delay)
        process = subprocess.Popen(  # noqa: S603 (a fixed binary and our own directory)
            [FREERADIUS, "-f", "-l", "stdout", "-d", str(raddb)],
            env={**os.environ, **settings.environment()}, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=die_with_parent,
        )  # fmt: skip
        server = RadiusServer(process, settings, RadiusOutput(process, echo))
        try:
            deadline = time.monotonic() + START_TIMEOUT_SECONDS
            while not server.output.ready.wait(0.05) and process.poll() is None and time.monotonic() < deadline:
                pass
            if not server.output.ready.is_set() or process.poll() is not None:
                server.stop()
                raise RadiusError(f"FreeRADIUS did not start:\n{server.output.text()}")
            yield server
        finally:
            server.stop()


RADCLIENT = "/usr/bin/radclient"


@dataclass(frozen=True)
class RadiusReply:
    """What radclient received: the packet type (None when nothing came back) and its attributes."""

    code: str | None
    attributes: dict[str, list[str]]

    def first(self, name: str) -> str | None:
        values = self.attributes.get(name)
        return values[0] if values else None


def radclient(
    server: str, command: str, secret: str, attributes: dict[str, str | int], *, timeout: float = 5.0
) -> RadiusReply:
    """One request through Debian's radclient (`auth`, `acct`, `disconnect`), bounded in time, never retried."""
    lines = ", ".join(f'{name} = "{value}"' if isinstance(value, str) else f"{name} = {value}"
                      for name, value in attributes.items())  # fmt: skip
    done = subprocess.run(  # noqa: S603 (a fixed binary; attributes go through stdin)
        [RADCLIENT, "-x", "-r", "1", "-t", str(timeout), server, command, secret],
        input=lines + "\n", capture_output=True, text=True, timeout=timeout + 5, check=False,
    )  # fmt: skip
    code: str | None = None
    received: dict[str, list[str]] = {}
    for line in done.stdout.splitlines():
        if line.startswith("Received "):
            code = line.split()[1]
            received = {}
        elif line.startswith("\t") and code is not None and " = " in line:
            name, value = line.strip().split(" = ", 1)
            received.setdefault(name, []).append(value.strip('"'))
    return RadiusReply(code, received)
