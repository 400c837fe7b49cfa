"""An email provider's sending rate: evenly paced in this process, shared through Redis.

`RateLimiter` alone lets a full window's worth of calls go at once and then waits: an SES
quota of 50 a second would go out as bursts of 50 simultaneous requests, and a provider that
counts arrivals in its own sliding second throttles the burst whose first request was
delayed a little more than its last. `PacedLimiter` spaces calls 1.5% wider than the limit
allows (49.3 a second for 50), and the shared `RateLimiter` behind it (with a small margin)
keeps all workers of the account under the limit together.

With Redis the spacing itself is shared: each call reserves the account's next free slot
(one Lua script on Redis's clock), so several worker processes together send at the paced
rate. Paced only per process, two workers would each run at 49.3 a second and meet the
shared window's edge together, calls released in bursts the provider then throttles.
"""

from __future__ import annotations

import logging
import threading
import time
from functools import lru_cache

import redis
from limits import parse_many

from marketing_app.domain.errors import ProviderRateLimited
from marketing_app.providers.rate_limit import RateLimiter

PACING_SLACK = 1.015  # spacing over the exact limit: a call may arrive 15 ms late a second
SHARED_MARGIN_SECONDS = 0.005  # the shared window's margin; pacing does the smoothing
PACE_KEY = "mk:email-pace:{provider}:{account}"
# Reserve the next slot unless it is more than ARGV[2] seconds away: returns the wait.
_RESERVE = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local slot = math.max(t, tonumber(redis.call('GET', KEYS[1]) or '0'))
local interval, max_wait = tonumber(ARGV[1]), tonumber(ARGV[2])
if slot - t <= max_wait then
  local keep_ms = math.floor((slot - t + interval) * 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.6f', slot + interval), 'PX', keep_ms)
end
return string.format('%.6f', slot - t)
"""
logger = logging.getLogger(__name__)


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
        self._pace_key = PACE_KEY.format(provider=provider, account=account)
        self._redis_url = storage_uri if (storage_uri or "").startswith("redis") else None

    def acquire(self) -> float:
        wait = self._shared_slot_wait() if self._redis_url else None
        if wait is None:
            wait = self._local_slot_wait()
        if wait > self.max_wait_seconds:
            raise ProviderRateLimited(
                f"client-side limit {self.rate_limits} reached; next call in {wait:.1f}s",
                provider=self.provider,
                retry_after_seconds=wait,
                client_side=True,
            )
        if wait > 0:
            time.sleep(wait)
        return wait + self._shared.acquire()

    def _local_slot_wait(self) -> float:
        """Reserve this process's next slot (unless too far away); the wait until it."""
        now = time.monotonic()
        with self._lock:
            slot = max(now, self._next_slot)
            if slot - now <= self.max_wait_seconds:
                self._next_slot = slot + self.interval_seconds
        return slot - now

    def _shared_slot_wait(self) -> float | None:
        """Reserve the account's next slot in Redis; None when Redis is unreachable."""
        assert self._redis_url is not None
        try:
            answer = _redis(self._redis_url).eval(
                _RESERVE, 1, self._pace_key, self.interval_seconds, self.max_wait_seconds
            )
        except redis.RedisError:
            logger.warning("%s: shared pacing unavailable, pacing this process", self.provider)
            return None
        return float(answer)


@lru_cache(maxsize=8)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
