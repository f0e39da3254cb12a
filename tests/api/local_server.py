"""A client of the local API server (`infra.api_server`, what `make dev` runs) that the tests start in their own
process (the `server` fixture)."""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import urlencode


class LocalServer:
    """Calls from a chosen loopback source address, as a venue's router calls from its public address."""

    def __init__(self, port: int) -> None:
        self.port = port

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None, source: str = "127.0.0.1",
             headers: dict[str, str] | None = None, form: bool = False) -> tuple[int, Any]:  # fmt: skip
        """One request on a connection whose socket is bound to `source`."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        try:
            sent = {"Content-Type": "application/x-www-form-urlencoded" if form else "application/json",
                    **({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}  # fmt: skip
            data = urlencode(body) if form else (json.dumps(body) if body is not None else None)
            connection.request(method, path, body=data, headers=sent)
            response = connection.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, raw.decode()
        finally:
            connection.close()
