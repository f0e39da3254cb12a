"""The local API server: Kuota's Chalice app behind a server sized for a busy venue.

`chalice local` serves with socketserver's defaults: a listen backlog of 5 and a
thread per connection, so a burst of a few dozen connections gets resets. This
serves the same app through Chalice's own local gateway and request handler
(`chalice.local.LocalDevServer`, the app still the one source of routes) with a
server class that has a deep listen backlog and a bounded pool of worker
threads, and sizes botocore's connection pools to that pool. A kept-alive connection holds
its worker; while more connections are open than there are workers, each answer closes
its own, so clients that keep theirs busy take turns instead of starving the rest.

Run: python -m infra.api_server --port 8000 [--stage dev] [--threads 64]
(`make dev` runs it as a child process; SIGTERM or SIGINT stops it.)
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import HTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
LISTEN_BACKLOG = 1024  # connections the kernel holds while every worker is busy
DEFAULT_THREADS = 64
IDLE_CONNECTION_SECONDS = 5  # a kept-alive connection with nothing to say gives its worker back


class PooledHTTPServer(HTTPServer):
    """An HTTP server whose connections are handled by a fixed pool of worker threads."""

    request_queue_size = LISTEN_BACKLOG
    allow_reuse_address = True  # a restart right after Ctrl-C finds the port free

    def __init__(self, address: tuple[str, int], handler: Any, threads: int = DEFAULT_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="api")
        self._threads = threads
        self._connections = 0  # accepted and not yet closed: with a worker, or waiting for one
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections += 1
        self._pool.submit(self._handle, request, client_address)

    def connections_waiting(self) -> bool:
        """Whether some connection waits for a worker (every worker holds one open)."""
        with self._connections_lock:
            return self._connections > self._threads

    def _handle(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)
            with self._connections_lock:
                self._connections -= 1

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-response is routine under load, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError | socket.timeout):
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


MAX_CHUNKED_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit


def read_chunked(stream: Any, limit: int) -> bytes | None:
    """A chunked request body (RFC 9112 7.1), trailers skipped; None when malformed or over `limit` bytes."""
    body = bytearray()
    while True:
        line = stream.readline(1026)
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            return None
        if size == 0:
            break
        if size < 0 or len(body) + size > limit:
            return None
        body += stream.read(size)
        if stream.readline(3) not in (b"\r\n", b"\n"):
            return None
    while stream.readline(8194) not in (b"\r\n", b"\n", b""):
        pass  # trailer fields
    return bytes(body)


def build_server(port: int, stage: str, threads: int) -> Any:
    """The app behind a pooled server on 127.0.0.1:`port`, not yet serving (`.server.serve_forever()`)."""
    # Every worker may talk to DynamoDB at once: botocore's pools must be as large (read in chalicelib.config).
    os.environ["KUOTA_AWS_MAX_POOL_CONNECTIONS"] = str(threads)
    from chalice.cli.factory import CLIFactory
    from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

    # The stage's environment variables fill in what the caller did not set (`make dev` sets the
    # local ones, such as where the keys are); `chalice local` would overwrite them instead.
    config = CLIFactory(project_dir=str(ROOT), environ=dict(os.environ)).create_config_obj(chalice_stage_name=stage)
    for name, value in config.environment_variables.items():
        os.environ.setdefault(name, value)
    app = config.chalice_app
    if not isinstance(app, CustomLocalChalice):  # a second server in one process (tests) finds it done
        # As chalice.local.create_local_server does: `current_request` becomes per thread.
        CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
        app.__class__ = CustomLocalChalice

    class Handler(ChaliceRequestHandler):
        timeout = IDLE_CONNECTION_SECONDS
        # Headers and body go out in separate writes: with Nagle on, the body waits for the client's
        # delayed ACK of the headers (about 40 ms on Linux) whenever the client does not ACK at once.
        disable_nagle_algorithm = True

        def end_headers(self) -> None:
            # A kept-alive connection holds its worker until it is idle for IDLE_CONNECTION_SECONDS, so
            # clients that keep theirs busy (more controllers or tills than workers) would starve the rest:
            # while any connection waits, each answer closes its own, and the clients take turns.
            if isinstance(self.server, PooledHTTPServer) and self.server.connections_waiting():
                self.send_header("Connection", "close")  # and the handler closes it after this answer
            super().end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the app logs every request itself (JSON, by route template, never the raw path)

        def _parse_payload(self) -> tuple[dict[str, str], bytes | None]:
            # Chalice's handler reads only a Content-Length body: a chunked one (curl and requests send
            # them for streamed bodies) stayed in the socket and was read as the next request, and the
            # client got a bare HTML error where it expected a status line. API Gateway de-chunks; so does this.
            if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
                return cast(tuple[dict[str, str], bytes | None], super()._parse_payload())
            body = read_chunked(self.rfile, MAX_CHUNKED_BYTES)
            if body is None:  # over the limit, or malformed: the connection's framing is lost
                self.close_connection = True
                body = b"x" * (MAX_CHUNKED_BYTES + 1)  # the app answers 413 (or 400) as for any big body
            headers = {name: value for name, value in self.headers.items() if name.lower() != "transfer-encoding"}
            headers["Content-Length"] = str(len(body))
            return headers, body or None

        def _refuse_unreadable_length(self) -> bool:
            """Answer 400 and close for a Content-Length that is not a number of bytes (found by `make fuzz`:
            Chalice's handler raised on it and dropped the connection unanswered). API Gateway refuses such a
            request at its edge; here the answer has the API's error shape and headers."""
            lengths = self.headers.get_all("Content-Length") or []
            if all(length.strip().isdigit() for length in lengths) and len(set(lengths)) <= 1:
                return False
            from chalicelib.api.http import SECURITY_HEADERS
            from chalicelib.errors import ValidationFailed

            error = ValidationFailed("Content-Length: must be one whole number of bytes", field="Content-Length")
            body = json.dumps(error.to_body()).encode()
            self.close_connection = True  # where this request's body ends cannot be known
            self.send_response(400)
            for name, value in {**SECURITY_HEADERS, "Content-Type": "application/json", "Connection": "close",
                                "Content-Length": str(len(body))}.items():  # fmt: skip
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            return True

        def _generic_handle(self) -> None:
            if self._refuse_unreadable_length():
                return
            # Chalice's event converter says every request came from 127.0.0.1; API Gateway puts the
            # caller's address in `sourceIp`, and so does this server: the socket's peer (each
            # connection has its own gateway and converter, so this is per request).
            self.local_gateway.event_converter.LOCAL_SOURCE_IP = str(self.client_address[0])
            super()._generic_handle()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    return LocalDevServer(
        app, config, HOST, port, handler_cls=Handler,
        server_cls=lambda address, handler: PooledHTTPServer(address, handler, threads),
    )  # fmt: skip


def serve(port: int, stage: str, threads: int) -> None:
    """Serve the app on 127.0.0.1:`port` until SIGTERM or SIGINT."""
    server = build_server(port, stage, threads)

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()  # shutdown() must not run on the serving thread

    signal.signal(signal.SIGTERM, stop)
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # `make dev` stops it with SIGTERM, once
        signal.signal(signal.SIGINT, stop)
    print(f"Serving the API on http://{HOST}:{port} with {threads} worker threads", flush=True)
    try:
        server.server.serve_forever()
    finally:
        server.server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)  # the stage's relative paths (key files) resolve from the project
    try:
        serve(args.port, args.stage, max(1, args.threads))
    except OSError as exc:
        print(f"infra.api_server: cannot serve on {HOST}:{args.port}: {exc.strerror}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
