"""Fixed-window counters: failed attempts (login, redeem), counted events (alerts), budgets (issuing)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.errors import RateLimited, TooManyAttempts
from chalicelib.models import RateCounter
from chalicelib.services import Clock, utc_now


def scope_key(kind: str, value: str) -> str:
    """Counters are keyed by a hash so emails and addresses are not stored in clear."""
    return f"{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: int, clock: Clock = utc_now) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock

    def _window(self) -> tuple[str, int]:
        now = int(self._clock().timestamp())
        start = now - now % self.window_seconds
        return str(start), start + self.window_seconds - now

    def check(self, scope: str) -> None:
        """Raise TooManyAttempts while the scope is over its limit in this window."""
        window, retry_after = self._window()
        try:
            counter = RateCounter.get(f"RL#{scope}", window)
        except DoesNotExist:
            return
        if counter.failures >= self.limit:
            raise TooManyAttempts(retry_after=retry_after)

    def record_failure(self, scope: str) -> int:
        window, _ = self._window()
        counter = RateCounter(f"RL#{scope}", window)
        counter.update(
            actions=[
                RateCounter.failures.add(1),
                RateCounter.ttl.set(self._clock() + timedelta(seconds=2 * self.window_seconds)),
            ]
        )
        return int(counter.failures)

    def reset(self, scope: str) -> None:
        window, _ = self._window()
        RateCounter(f"RL#{scope}", window).delete()


class EventCounter:
    """Counts events per scope in fixed windows, remembering which (for alerts that name them)."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds

    def window_start(self, at: datetime) -> int:
        now = int(at.timestamp())
        return now - now % self.window_seconds

    def entries(self, scope: str, window_start: int) -> list[str]:
        """What was counted in the window that starts at `window_start` (oldest first)."""
        try:
            return list(RateCounter.get(f"RL#{scope}", str(window_start)).events or [])
        except DoesNotExist:
            return []

    def count(self, scope: str, event_id: str, at: datetime) -> tuple[int, list[str]] | None:
        """Add an event (of time `at`) to its window; the count and the events so far, or None if counted before."""
        counter = RateCounter(f"RL#{scope}", str(self.window_start(at)))
        try:
            counter.update(
                actions=[
                    RateCounter.failures.add(1),
                    RateCounter.events.set((RateCounter.events | []).append([event_id])),
                    RateCounter.ttl.set(at + timedelta(seconds=2 * self.window_seconds)),
                ],
                condition=~RateCounter.events.contains(event_id),  # an event observed twice counts once
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return None
        return int(counter.failures), list(counter.events or [])


class Budget:
    """An amount of work a scope may do per fixed window (vouchers an organization issues per hour).

    Taken with one conditional ADD, so concurrent requests never overspend it; a request that
    would pass the limit takes nothing and is refused with when the window ends.
    """

    def __init__(self, limit: int, window_seconds: int, clock: Clock = utc_now) -> None:
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock

    def _window(self) -> tuple[str, int]:
        now = int(self._clock().timestamp())
        start = now - now % self.window_seconds
        return str(start), start + self.window_seconds - now

    def take(self, scope: str, amount: int, *, what: str, field: str | None = None) -> Callable[[], None]:
        """Spend `amount`, or raise RateLimited naming `what`; returns how to give it back (when the work failed)."""
        window, retry_after = self._window()
        counter = RateCounter(f"RL#{scope}", window)
        try:
            counter.update(
                actions=[
                    RateCounter.failures.add(amount),
                    RateCounter.ttl.set(self._clock() + timedelta(seconds=2 * self.window_seconds)),
                ],
                condition=RateCounter.failures.does_not_exist() | (RateCounter.failures <= self.limit - amount),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            minutes = max(1, -(-retry_after // 60))
            raise RateLimited(
                f"At most {self.limit} {what} per {self.window_seconds // 60} minutes; try again in {minutes} min.",
                retry_after=retry_after, field=field,
            ) from exc  # fmt: skip

        def give_back() -> None:
            RateCounter(f"RL#{scope}", window).update(actions=[RateCounter.failures.add(-amount)])

        return give_back
