"""An email provider's sending rate: evenly paced, and a window of release times that keeps
a margin for the way to the provider, shared through Redis.

`RateLimiter` alone lets a full window's worth of calls go at once and then waits: an SES
quota of 50 a second would go out as bursts of 50 simultaneous requests, and a provider that
counts arrivals in its own sliding second throttles the burst whose first request was
delayed a little more than its last. `PacedLimiter` spaces calls 1.5% wider than the limit
allows (49.3 a second for 50).

Spacing alone does not hold the limit: a call that reaches the provider late (a sleep woken
late, a thread waiting for the GIL on a loaded machine) puts it closer to the call 50 after
it. So every call is also admitted through a window of the account's actual release times
(the moment it goes, after its sleep) that is `WINDOW_MARGIN_SECONDS` longer than the
provider's: call k goes no sooner than that margin more than a window after call k-50 went.
Only what happens between release and arrival (writing the request, the provider reading it)
is left to the margin. The window is narrower than the spacing (10 of its 15 ms), so it
only delays a call whose predecessor went late, and the threads of a process take turns at
it (several waiting on the same edge woke together and delayed the one let through).
What the margin cannot cover is a request that takes longer than that from release to the
provider than the one 50 before it: on a loaded machine (a thread waiting for the GIL, the
provider's process not scheduled) arrivals were seen to scatter by 20-30 ms.

With Redis both the slot sequence and the window are per account on Redis's clock (one Lua
script each), so several worker processes together send at the paced rate; otherwise (or
while Redis is unreachable) this process paces and counts its own calls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from functools import lru_cache

import redis
from limits import parse_many

from marketing_app.domain.errors import ProviderRateLimited

PACING_SLACK = 1.015  # spacing over the exact limit: 49.26 calls a second for 50
WINDOW_MARGIN_SECONDS = 0.010  # a call may reach the provider this much later than another
PACE_KEY = "mk:email-pace:{provider}:{account}"
WINDOW_KEY = "mk:email-window:{provider}:{account}:{seconds}"
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
# Admit a call now if, in every window (KEYS[i]: release times, newest first; ARGV: amount,
# seconds with the margin, pairwise), the call `amount` back went at least `seconds` ago;
# then record it. Returns the wait until it may go (0: recorded, go now).
_ADMIT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local wait = 0
for i, key in ipairs(KEYS) do
  local amount, seconds = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local oldest = redis.call('LINDEX', key, amount - 1)
  if oldest then wait = math.max(wait, tonumber(oldest) + seconds - t) end
end
if wait > 0 then return string.format('%.6f', math.max(wait, 0.000001)) end
for i, key in ipairs(KEYS) do
  local amount, seconds = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('LPUSH', key, string.format('%.6f', t))
  redis.call('LTRIM', key, 0, amount - 1)
  redis.call('PEXPIRE', key, math.floor(seconds * 1000) + 1000)
end
return '0'
"""
logger = logging.getLogger(__name__)


class PacedLimiter:
    """`acquire()` blocks until one more call may go (as `RateLimiter`'s does)."""

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
        # (calls, seconds with the margin) per limit, e.g. [(50, 1.015)] for "50/second"
        self.windows = [(item.amount, item.get_expiry() + WINDOW_MARGIN_SECONDS) for item in items]
        self._next_slot = 0.0
        self._released = [deque[float](maxlen=amount) for amount, _ in self.windows]
        self._lock = threading.Lock()
        self._admitting = threading.Lock()
        self._pace_key = PACE_KEY.format(provider=provider, account=account)
        self._window_keys = [
            WINDOW_KEY.format(provider=provider, account=account, seconds=item.get_expiry())
            for item in items
        ]
        self._redis_url = storage_uri if (storage_uri or "").startswith("redis") else None

    def acquire(self) -> float:
        """Wait for this call's slot, then until the window admits it; the seconds waited."""
        started = time.monotonic()
        wait = self._shared_slot_wait() if self._redis_url else None
        if wait is None:
            wait = self._local_slot_wait()
        self._sleep(wait, started)
        with self._admitting:  # one thread of the process at a time: no herd at the edge
            while (wait := self._admit()) > 0:
                self._sleep(wait, started)
        return time.monotonic() - started

    def _sleep(self, wait: float, started: float) -> None:
        if time.monotonic() + wait > started + self.max_wait_seconds:
            raise ProviderRateLimited(
                f"client-side limit {self.rate_limits} reached; next call in {wait:.1f}s",
                provider=self.provider,
                retry_after_seconds=wait,
                client_side=True,
            )
        if wait > 0:
            time.sleep(wait)

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

    def _admit(self) -> float:
        """0 when the call may go now (and it is counted as gone), else the wait."""
        if self._redis_url:
            arguments = [value for window in self.windows for value in window]
            try:
                answer = _redis(self._redis_url).eval(
                    _ADMIT, len(self._window_keys), *self._window_keys, *arguments
                )
                return float(answer)
            except redis.RedisError:
                logger.warning("%s: shared window unavailable, counting here", self.provider)
        return self._local_admit()

    def _local_admit(self) -> float:
        now = time.monotonic()
        with self._lock:
            waits = [
                released[0] + seconds - now
                for (amount, seconds), released in zip(self.windows, self._released, strict=True)
                if len(released) == amount
            ]
            wait = max(waits, default=0.0)
            if wait <= 0:
                for released in self._released:
                    released.append(now)
        return max(wait, 0.0)


@lru_cache(maxsize=8)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
