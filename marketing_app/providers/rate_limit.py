"""A rate limiter per provider account, shared across worker processes through Redis."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import deque

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from marketing_app.domain.errors import ProviderRateLimited

logger = logging.getLogger(__name__)


class RateLimiter:
    """Keeps calls to one provider account under its limits, e.g. "10/second;2000/hour".

    The count lives in `limits` storage (moving windows): Redis when `storage_uri` is a
    redis:// URL, so every worker process shares one budget per account; otherwise memory,
    shared by the clients of one process.
    Within a process each call also stays `margin_seconds` clear of the window's edge: the
    provider counts a call when it arrives, a little after we counted it, so a call released
    at the exact edge could still land inside the provider's window. A wait longer than
    `max_wait_seconds` raises `ProviderRateLimited` so a job can reschedule instead of sleeping.
    """

    def __init__(
        self,
        rate_limits: str,
        *,
        provider: str,
        account: str,
        storage_uri: str | None = None,
        max_wait_seconds: float = 30.0,
        margin_seconds: float = 0.05,
    ) -> None:
        self.provider = provider
        self.rate_limits = rate_limits
        self.max_wait_seconds = max_wait_seconds
        self.margin_seconds = margin_seconds
        self._items: list[RateLimitItem] = parse_many(rate_limits)
        self._key = hashlib.sha256(f"{provider}:{account}".encode()).hexdigest()[:24]
        self._strategy = MovingWindowRateLimiter(_storage(storage_uri or "memory://"))
        self._recent = [deque[float](maxlen=item.amount) for item in self._items]
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Block until one more call fits every limit; return the seconds waited."""
        started = time.monotonic()
        if not self._lock.acquire(timeout=self.max_wait_seconds):
            raise self._exhausted(self.max_wait_seconds)
        try:
            while True:
                wait = self._local_wait() or self._shared_wait_or_none()
                if wait <= 0:
                    now = time.monotonic()
                    for recent in self._recent:
                        recent.append(now)
                    return now - started
                if time.monotonic() + wait > started + self.max_wait_seconds:
                    raise self._exhausted(wait)
                time.sleep(wait)
        finally:
            self._lock.release()

    def _local_wait(self) -> float:
        now = time.monotonic()
        waits = [
            recent[0] + item.get_expiry() + self.margin_seconds - now
            for item, recent in zip(self._items, self._recent, strict=True)
            if len(recent) == item.amount
        ]
        return max([0.0, *waits])

    def _shared_wait_or_none(self) -> float:
        try:
            return self._shared_wait()
        except StorageError:  # Redis down: this process still keeps its own count
            logger.warning("%s: shared rate limit storage unavailable", self.provider)
            return 0.0

    def _shared_wait(self) -> float:
        for item in self._items:
            if not self._strategy.test(item, self._key):
                return self._until_reset(item)
        for item in self._items:
            if not self._strategy.hit(item, self._key):  # another process took the slot
                return self._until_reset(item)
        return 0.0

    def _until_reset(self, item: RateLimitItem) -> float:
        reset_at, _remaining = self._strategy.get_window_stats(item, self._key)
        return max(reset_at - time.time(), 0.0) + self.margin_seconds

    def _exhausted(self, wait: float) -> ProviderRateLimited:
        return ProviderRateLimited(
            f"client-side limit {self.rate_limits} reached; next call in {wait:.1f}s",
            provider=self.provider,
            retry_after_seconds=wait,
            client_side=True,
        )


_STORAGES: dict[str, Storage] = {}
_STORAGES_LOCK = threading.Lock()


def _storage(uri: str) -> Storage:
    """One `limits` storage per URI and process, so clients of one account share the count
    even in memory (and two threads never import redis at once while building one)."""
    with _STORAGES_LOCK:
        if uri not in _STORAGES:
            _STORAGES[uri] = storage_from_string(uri, wrap_exceptions=True)
        return _STORAGES[uri]
