"""Running the dev stack as a real process: free ports and its output, read as it comes."""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

READY = "Kuota is running"


def free_ports(count: int) -> list[int]:
    # Held open together so the kernel cannot hand out the same port twice.
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


class StackOutput:
    """Everything the dev stack prints, read in a thread so its pipe never fills."""

    def __init__(self, stream: Any) -> None:
        self.lines: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)
            if line.startswith(READY):
                self.ready.set()

    def text(self) -> str:
        return "".join(self.lines)
