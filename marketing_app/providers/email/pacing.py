"""An email provider's sending rate: evenly paced, and a window of release times that keeps
a margin for the way to the provider, shared through Redis.

`RateLimiter` alone lets a full window's worth of calls go at once and then waits: an SES
quota of 50 a second would go out as bursts of 50 simultaneous requests, and a provider that
counts arrivals in its own sliding second throttles the burst whose first request was
delayed a little more than its last. `PacedLimiter` spaces calls 0.4% wider than the limit
allows (49.8 a second for 50).

Spacing alone does not hold the limit: a call that reaches the provider late (a thread
waiting for the GIL, the provider's process not scheduled on a loaded machine) puts it closer
to the call 50 after it; arrivals were seen to scatter by 20 ms and, on a machine loaded
three times past its cores, by 200-350 ms. No margin covers that, but the answer does: a
call has arrived by the time it is answered. So every call is admitted through a window of
the account's calls, each entered as pending when it goes and, once answered, as its
release time plus how much longer than the quickest recent round trip it took (the most it
can have been late on the way there): call k goes no sooner than a margin (2 ms)
more than a window after that bound for call k-50, and not while call k-50 is unanswered
(for `PENDING_HOLD_SECONDS` at most). Until `ROUND_TRIPS_KNOWN` round trips are known (the
first ones connect) the whole round trip counts as late. A slow answer is mostly the way
back, so the bound costs rate when answers scatter (the fake answering 40 ms late a quarter
of the time held it to 48.4 a second; once fixed, 49.5-49.7 at load 2-4): the spacing is
kept tight (49.8 a second) and the window sets the pace. The threads of a process
take turns at the window (several waiting on the same edge woke together and delayed the
one let through). Only callers that report answers (`report_answers()`, SES) hold the window
while pending; for the others an entry is its release time.

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

# (spacing over the exact limit, window margin in seconds) for callers that report answers
# (49.8 a second for 50; the margin covers what the bound leaves: the round trip's minimum)
# and for the others (49.26 a second; the margin is all a late call may be late)
PACING_WITH_ANSWERS = (1.004, 0.002)
PACING_BLIND = (1.015, 0.010)
PENDING_HOLD_SECONDS = 2.0  # an unanswered call holds the window this long at most
ROUND_TRIPS_KNOWN = 20
ROUND_TRIPS_KEPT = 200  # the quickest of the latest round trips is the unavoidable part
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
# seconds with the margin, pairwise, then how long an unanswered call may hold the window),
# the call `amount` back went at least `seconds` ago (and was answered); then record it as
# 'p<time>' (pending its answer). Returns 'wait:<seconds>' or 'go:<the recorded value>'.
_ADMIT = """
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local wait = 0
for i, key in ipairs(KEYS) do
  local amount, seconds = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  local oldest = redis.call('LINDEX', key, amount - 1)
  if oldest and string.sub(oldest, 1, 1) == 'p' then  -- not answered yet: may still arrive
    local since = tonumber(string.sub(oldest, 2))
    if t - since < tonumber(ARGV[#ARGV]) then wait = math.max(wait, 0.002) end
    oldest = since
  end
  if oldest then wait = math.max(wait, tonumber(oldest) + seconds - t) end
end
if wait > 0 then return string.format('wait:%.6f', math.max(wait, 0.000001)) end
local released = string.format('p%.6f', t)
for i, key in ipairs(KEYS) do
  local amount, seconds = tonumber(ARGV[2 * i - 1]), tonumber(ARGV[2 * i])
  redis.call('LPUSH', key, released)
  redis.call('LTRIM', key, 0, amount - 1)
  redis.call('PEXPIRE', key, math.floor(seconds * 1000) + 1000)
end
return 'go:' .. released
"""
# Replace a pending release (ARGV[1]) in every window (KEYS) by the latest time the call may
# have arrived (ARGV[2]), if it is still among the latest ARGV[3] there.
_LATE = """
for _, key in ipairs(KEYS) do
  local index = redis.call('LPOS', key, ARGV[1], 'MAXLEN', tonumber(ARGV[3]))
  if index then redis.call('LSET', key, index, ARGV[2]) end
end
return 0
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
        self._items = parse_many(rate_limits)
        self._pace(*PACING_BLIND)
        self.rate_limits = rate_limits
        self.provider = provider
        self.max_wait_seconds = max_wait_seconds
        self._next_slot = 0.0
        self._released = [deque[float](maxlen=item.amount) for item in self._items]
        self._lock = threading.Lock()
        self._admitting = threading.Lock()
        self._thread = threading.local()  # the release this thread's call was let go at
        self._round_trips = deque[float](maxlen=ROUND_TRIPS_KEPT)
        self._pending_hold_seconds = 0.0  # until the caller says it reports answers
        self._unanswered: set[float] = set()  # this process's own releases, without Redis
        self._pace_key = PACE_KEY.format(provider=provider, account=account)
        self._window_keys = [
            WINDOW_KEY.format(provider=provider, account=account, seconds=item.get_expiry())
            for item in self._items
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
            while True:
                asked = time.monotonic()
                wait, released = self._admit()
                if wait <= 0:
                    break
                self._sleep(wait, started)
        self._thread.release = (asked, released)
        return time.monotonic() - started

    def report_answers(self) -> None:
        """The caller calls `answered()` after each call: a call holds the window until then."""
        self._pending_hold_seconds = PENDING_HOLD_SECONDS
        self._pace(*PACING_WITH_ANSWERS)

    def _pace(self, slack: float, margin_seconds: float) -> None:
        items = self._items
        self.interval_seconds = max(item.get_expiry() / item.amount for item in items) * slack
        # (calls, seconds with the margin) per limit, e.g. [(50, 1.002)] for "50/second"
        self.windows = [(item.amount, item.get_expiry() + margin_seconds) for item in items]

    def answered(self) -> None:
        """The call this thread was last let go has been answered, so it arrived by now.

        How much longer than the quickest recent round trip it took bounds how late it may
        have reached the provider: its release time in the window moves that much later.
        """
        release = getattr(self._thread, "release", None)
        if release is None:
            return
        self._thread.release = None
        asked, released = release
        round_trip = time.monotonic() - asked
        with self._lock:  # until enough are known (the first ones connect), all of it
            known = len(self._round_trips) >= ROUND_TRIPS_KNOWN
            late = round_trip - min(self._round_trips) if known else round_trip
            self._round_trips.append(round_trip)
        self._mark_answered(released, max(late, 0.0))

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

    def _admit(self) -> tuple[float, str | float]:
        """(0, the release as recorded) when the call may go now, else (the wait, None)."""
        if self._redis_url:
            arguments = [value for window in self.windows for value in window]
            arguments.append(self._pending_hold_seconds)
            try:
                answer = _redis(self._redis_url).eval(
                    _ADMIT, len(self._window_keys), *self._window_keys, *arguments
                )
                return _wait_and_release(answer.decode())
            except redis.RedisError:
                logger.warning("%s: shared window unavailable, counting here", self.provider)
        return self._local_admit()

    def _local_admit(self) -> tuple[float, str | float]:
        now = time.monotonic()
        with self._lock:
            waits = [
                self._local_wait(released[0], seconds, now)
                for (amount, seconds), released in zip(self.windows, self._released, strict=True)
                if len(released) == amount
            ]
            wait = max(waits, default=0.0)
            if wait <= 0:
                for released in self._released:
                    if len(released) == released.maxlen:
                        self._unanswered.discard(released[0])  # out of every window now
                    released.append(now)
                if self._pending_hold_seconds:
                    self._unanswered.add(now)
        return max(wait, 0.0), now

    def _local_wait(self, oldest: float, seconds: float, now: float) -> float:
        if oldest in self._unanswered and now - oldest < self._pending_hold_seconds:
            return max(oldest + seconds - now, 0.002)  # as the script: not before its answer
        return oldest + seconds - now

    def _mark_answered(self, released: str | float, late: float) -> None:
        if isinstance(released, float):
            with self._lock:
                self._unanswered.discard(released)
                for window in self._released:
                    if released in window:
                        window[window.index(released)] = released + late
            return
        moved = f"{float(released[1:]) + late:.6f}"
        deepest = max(amount for amount, _ in self.windows)
        try:
            _redis(self._redis_url or "").eval(
                _LATE, len(self._window_keys), *self._window_keys, released, moved, deepest
            )
        except redis.RedisError:
            logger.warning("%s: shared window unavailable, an answer not marked", self.provider)


def _wait_and_release(answer: str) -> tuple[float, str]:
    """The admit script answers 'wait:<seconds>' or 'go:<release time>'."""
    kind, _, value = answer.partition(":")
    return (float(value), "") if kind == "wait" else (0.0, value)


@lru_cache(maxsize=8)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
