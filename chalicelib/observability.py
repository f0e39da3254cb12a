"""Structured JSON logging (Powertools) with the request id on every line.

Routes are logged by their template (`/v1/orgs/{org_id}/vouchers/{code}`),
never by the raw path, which can carry a voucher code. The one logger is made
on first use, so Powertools is not loaded by `import app`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from chalice.app import Request, Response

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger


@lru_cache(maxsize=1)
def get_logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service="kuota")


def log_requests(event: Request, get_response: Callable[[Request], Response]) -> Response:
    logger = get_logger()
    logger.clear_state()
    started = time.perf_counter()
    response = get_response(event)
    context = event.context or {}
    logger.info(
        "request",
        extra={
            "method": event.method,
            "route": context.get("resourcePath"),
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response
