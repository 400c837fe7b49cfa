"""Per-key request rate limits, shared across workers through Redis when configured."""

from __future__ import annotations

import math
import threading
import time
from functools import lru_cache

from limits import parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from marketing_app.settings import get_settings

_CREATE_LOCK = threading.Lock()


@lru_cache
def _limiter() -> MovingWindowRateLimiter:
    # Request threads arrive together at start-up; building the storage twice at once
    # imports redis concurrently and `limits` then reads a half-initialized module.
    with _CREATE_LOCK:
        redis_url = get_settings().redis_url
        storage: Storage = RedisStorage(redis_url) if redis_url else MemoryStorage()
        return MovingWindowRateLimiter(storage)


def check_rate(*, bucket: str, limit: str | None = None) -> int | None:
    """Count one request; None when allowed, else the seconds to wait before retrying."""
    item = parse(limit or get_settings().api_rate_limit)
    limiter = _limiter()
    if limiter.hit(item, bucket):
        return None
    reset_at, _remaining = limiter.get_window_stats(item, bucket)
    return max(1, math.ceil(reset_at - time.time()))
