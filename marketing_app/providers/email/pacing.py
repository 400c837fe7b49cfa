"""An email provider's sending rate: evenly paced in this process, shared through Redis.

`RateLimiter` alone lets a full window's worth of calls go at once and then waits: an SES
quota of 50 a second would go out as bursts of 50 simultaneous requests, and a provider that
counts arrivals in its own sliding second throttles the burst whose first request was
delayed a little more than its last. `PacedLimiter` spaces calls 1.5% wider than the limit
allows (49.3 a second for 50), and the shared `RateLimiter` behind it (with a small margin)
keeps all workers of the account under the limit together.
"""

from __future__ import annotations

import threading
import time

from limits import parse_many

from marketing_app.domain.errors import ProviderRateLimited
from marketing_app.providers.rate_limit import RateLimiter

PACING_SLACK = 1.015  # spacing over the exact limit: a call may arrive 15 ms late a second
SHARED_MARGIN_SECONDS = 0.005  # the shared window's margin; pacing does the smoothing


class PacedLimiter:
    """Same `acquire()` as `RateLimiter`: blocks until one more call may go."""

    def __init__(
        self,
        rate_limits: str,
        *,
        provider: str,
        account: str,
        storage_uri: str | None = None,
        max_wait_seconds: float = 30.0,
    ) -> None:
        items = parse_many(rate_limits)
        self.interval_seconds = max(item.get_expiry() / item.amount for item in items) * (
            PACING_SLACK
        )
        self.rate_limits = rate_limits
        self.provider = provider
        self.max_wait_seconds = max_wait_seconds
        self._shared = RateLimiter(
            rate_limits,
            provider=provider,
            account=account,
            storage_uri=storage_uri,
            max_wait_seconds=max_wait_seconds,
            margin_seconds=SHARED_MARGIN_SECONDS,
        )
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        now = time.monotonic()
        with self._lock:
            slot = max(now, self._next_slot)
            wait = slot - now
            if wait > self.max_wait_seconds:
                raise ProviderRateLimited(
                    f"client-side limit {self.rate_limits} reached; next call in {wait:.1f}s",
                    provider=self.provider,
                    retry_after_seconds=wait,
                    client_side=True,
                )
            self._next_slot = slot + self.interval_seconds
        if wait > 0:
            time.sleep(wait)
        return wait + self._shared.acquire()
