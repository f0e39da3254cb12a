"""The local API server reads chunked request bodies, as API Gateway does (found by the schema fuzzer: a
chunked body stayed in the socket, was read as the next request, and the client got a bare HTML error), and
answers a Content-Length it cannot read with a 400 (found by `make fuzz`: the connection was dropped unanswered)."""

from __future__ import annotations

import http.client
import io
import json
import socket
from typing import Any

from infra.api_server import read_chunked
from tests.api.local_server import LocalServer


def _send(connection: http.client.HTTPConnection, chunks: list[bytes]) -> tuple[int, Any]:
    connection.request("POST", "/v1/guest/status", body=iter(chunks), encode_chunked=True,
                       headers={"Content-Type": "application/json"})  # fmt: skip
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_a_chunked_body_is_read_and_the_connection_goes_on(server: LocalServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        status, body = _send(connection, [b'{"org_id": "0123456789ab", ', b'"code": "ZZZZ-ZZZZ"}'])
        assert (status, body["error"]["code"]) == (404, "invalid_code"), body  # the body reached the app whole
        status, body = _send(connection, [])  # an empty chunked body: "0\r\n\r\n"
        assert (status, body["error"]["code"], body["error"]["field"]) == (400, "validation_error", "body")
        connection.request("GET", "/v1/openapi.json")  # the same connection: nothing was left in it
        response = connection.getresponse()
        assert response.status == 200 and json.loads(response.read())["openapi"].startswith("3.1")
    finally:
        connection.close()


def test_chunked_framing() -> None:
    assert read_chunked(io.BytesIO(b"4\r\nWiki\r\n5;x=1\r\npedia\r\n0\r\nTrailer: y\r\n\r\n"), 100) == b"Wikipedia"
    assert read_chunked(io.BytesIO(b"0\r\n\r\n"), 100) == b""
    assert read_chunked(io.BytesIO(b"zz\r\n"), 100) is None  # not a size
    assert read_chunked(io.BytesIO(b"5\r\nhello\r\n0\r\n\r\n"), 4) is None  # over the limit
    assert read_chunked(io.BytesIO(b"5\r\nhelloX0\r\n\r\n"), 100) is None  # no CRLF after the data


def _raw(server: LocalServer, head: bytes) -> tuple[int, dict[str, str], Any, bytes]:
    """Send `head` (a request without a body) on a socket of its own; the answer, then what follows it."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = json.loads(response.read())
        return response.status, dict(response.getheaders()), body, sock.recv(100)


def test_a_content_length_that_is_not_a_number_is_a_400_and_the_connection_closes(server: LocalServer) -> None:
    for lengths in ([b";Ya*$u'"], [b"-5"], [b"12", b"13"]):
        head = b"POST /v1/guest/status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        head += b"".join(b"Content-Length: " + length + b"\r\n" for length in lengths) + b"\r\n"
        status, headers, body, after = _raw(server, head)
        assert (status, body["error"]["code"], body["error"]["field"]) == (400, "validation_error", "Content-Length")
        assert headers["Connection"] == "close" and headers["X-Content-Type-Options"] == "nosniff"
        assert after == b""  # closed: nothing of the request is read as another
    status, _, body, _ = _raw(server, b"GET /v1/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200 and body["openapi"].startswith("3.1")  # the server goes on
