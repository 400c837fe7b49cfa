"""Shared plumbing for provider clients over httpx: retries, rate limits, call log, paging.

One `ProviderHttp` per client. Every attempt waits for the `RateLimiter`, sends the request,
reports a `ProviderCall` to the optional recorder and classifies the answer. Timeouts,
connection errors, 429 (after its Retry-After) and 502/503/504 are retried with exponential
backoff by stamina; any other failure surfaces at once as a typed `ProviderError`. What
the answers hold (records, money, times, pages) is parsed by `wire.py`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Self, TypedDict, TypeVar, Unpack
from urllib.parse import quote

import httpx
import stamina

from marketing_app.domain.errors import (
    ProviderBadData,
    ProviderRateLimited,
    ProviderRejected,
    ProviderUnavailable,
)
from marketing_app.providers.rate_limit import RateLimiter
from marketing_app.providers.wire import FetchResult, Page

logger = logging.getLogger(__name__)

TRANSIENT_STATUSES = frozenset({502, 503, 504})
PAGES_AHEAD_PER_WORKER = 2  # pages fetched ahead of the consumer; bounds memory on big syncs


class CallOutcome(StrEnum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    REJECTED = "rejected"
    BAD_DATA = "bad_data"


@dataclass(frozen=True, slots=True)
class ProviderCall:
    """One HTTP attempt, as a sync log keeps it. `route` is the template, free of PII."""

    provider: str
    method: str
    route: str
    status: int | None
    duration_ms: float
    outcome: CallOutcome
    attempt: int
    error: str | None = None


CallRecorder = Callable[[ProviderCall], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5  # per call, the first included
    timeout_seconds: float = 60.0  # all attempts of one call together
    wait_initial_seconds: float = 0.2
    wait_max_seconds: float = 5.0
    wait_jitter_seconds: float = 0.2
    max_retry_after_seconds: float = 30.0  # a longer Retry-After ends the call at once


class ProviderHttp:
    """An httpx client for one provider account with limits, retries and a call log.

    Thread-safe: paged fetches call it from a few worker threads at once, and `on_call`
    runs on the thread that made the call.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        headers: Mapping[str, str],
        limiter: RateLimiter | None,
        retry: RetryPolicy,
        timeout_seconds: float,
        on_call: CallRecorder | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.provider = provider
        self.limiter = limiter
        self.retry = retry
        self._on_call = on_call
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Accept": "application/json", **headers},
            timeout=timeout_seconds,
            transport=transport,
        )
        self._calls = 0
        self._calls_lock = threading.Lock()

    @property
    def calls_made(self) -> int:
        """HTTP attempts so far, retries included."""
        return self._calls

    def close(self) -> None:
        self._client.close()

    def request_json(
        self,
        method: str,
        route: str,
        *,
        path_params: Mapping[str, str | int] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Call `route` (a template like "/customers/{customer_id}") and return the JSON body."""
        path = route.format(**{k: quote(str(v), safe="") for k, v in (path_params or {}).items()})
        policy = self.retry
        for attempt in stamina.retry_context(
            on=self._retry_hook,
            attempts=policy.attempts,
            timeout=policy.timeout_seconds,
            wait_initial=policy.wait_initial_seconds,
            wait_max=policy.wait_max_seconds,
            wait_jitter=policy.wait_jitter_seconds,
        ):
            with attempt:
                return self._attempt(method, route, path, params, json, attempt.num)
        raise AssertionError("stamina either returns or raises")  # pragma: no cover

    def _retry_hook(self, exc: Exception) -> bool | float:
        """Retry transient failures only; a 429 waits for exactly its Retry-After."""
        if isinstance(exc, ProviderRateLimited):
            if exc.client_side:
                return False
            wait = exc.retry_after_seconds
            if wait is None:
                return True
            return max(wait, 0.01) if wait <= self.retry.max_retry_after_seconds else False
        if isinstance(exc, ProviderUnavailable):
            return exc.status is None or exc.status in TRANSIENT_STATUSES
        return False

    def _attempt(
        self, method: str, route: str, path: str, params: Any, json: Any, attempt: int
    ) -> Any:
        if self.limiter is not None:
            self.limiter.acquire()
        with self._calls_lock:
            self._calls += 1
        started = time.perf_counter()
        try:
            response = self._client.request(method, path, params=params, json=json)
        except httpx.TimeoutException as exc:
            self._record(method, route, None, started, CallOutcome.TIMEOUT, attempt, repr(exc))
            raise ProviderUnavailable(
                f"{method} {route} timed out", provider=self.provider
            ) from exc
        except httpx.TransportError as exc:
            outcome = CallOutcome.CONNECTION_ERROR
            self._record(method, route, None, started, outcome, attempt, repr(exc))
            message = f"{method} {route}: connection failed ({type(exc).__name__})"
            raise ProviderUnavailable(message, provider=self.provider) from exc
        return self._classify(response, method, route, started, attempt)

    def _classify(
        self, response: httpx.Response, method: str, route: str, started: float, attempt: int
    ) -> Any:
        status = response.status_code
        call = f"{method} {route} answered {status}"
        if status == 429:
            self._record(method, route, status, started, CallOutcome.RATE_LIMITED, attempt)
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise ProviderRateLimited(
                call, provider=self.provider, retry_after_seconds=retry_after, status=status
            )
        if status >= 500:
            self._record(method, route, status, started, CallOutcome.SERVER_ERROR, attempt)
            raise ProviderUnavailable(call, provider=self.provider, status=status)
        if status >= 300:
            self._record(method, route, status, started, CallOutcome.REJECTED, attempt)
            detail = response.text[:160].strip()
            raise ProviderRejected(f"{call}: {detail}", provider=self.provider, status=status)
        if status == 204 or not response.content:
            self._record(method, route, status, started, CallOutcome.OK, attempt)
            return None
        try:
            body = response.json()
        except ValueError as exc:
            error = "body is not JSON"
            self._record(method, route, status, started, CallOutcome.BAD_DATA, attempt, error)
            logger.warning("%s: %s with a body that is not JSON", self.provider, call)
            raise ProviderBadData(
                f"{call} with a body that is not JSON", provider=self.provider, status=status
            ) from exc
        self._record(method, route, status, started, CallOutcome.OK, attempt)
        return body

    def _record(
        self,
        method: str,
        route: str,
        status: int | None,
        started: float,
        outcome: CallOutcome,
        attempt: int,
        error: str | None = None,
    ) -> None:
        if self._on_call is None:
            return
        duration_ms = (time.perf_counter() - started) * 1000
        call = ProviderCall(
            self.provider, method, route, status, duration_ms, outcome, attempt, error
        )
        try:
            self._on_call(call)
        except Exception:  # a broken sync log must not break the sync
            logger.exception("%s: call recorder failed", self.provider)


class ClientOptions(TypedDict, total=False):
    """Options every provider client takes (as keyword arguments)."""

    limiter_storage_uri: str | None  # redis://... shares the budget across processes
    max_limiter_wait_seconds: float  # longer waits raise ProviderRateLimited (default 30)
    retry: RetryPolicy | None
    on_call: CallRecorder | None  # sees every HTTP attempt, for a sync log
    transport: httpx.BaseTransport | None


class ProviderClient:
    """Base of one provider account's client: builds its limiter and `ProviderHttp`.

    `account` keys the rate limit, so every client (and process) for the same account
    shares one budget; `rate_limits=None` turns the client-side limit off.
    """

    provider = "provider"

    def __init__(
        self,
        *,
        base_url: str,
        headers: Mapping[str, str],
        account: str,
        rate_limits: str | None,
        timeout_seconds: float,
        **options: Unpack[ClientOptions],
    ) -> None:
        limiter = None
        if rate_limits:
            limiter = RateLimiter(
                rate_limits,
                provider=self.provider,
                account=account,
                storage_uri=options.get("limiter_storage_uri"),
                max_wait_seconds=options.get("max_limiter_wait_seconds", 30.0),
            )
        self._http = ProviderHttp(
            provider=self.provider,
            base_url=base_url,
            headers=headers,
            limiter=limiter,
            retry=options.get("retry") or RetryPolicy(),
            timeout_seconds=timeout_seconds,
            on_call=options.get("on_call"),
            transport=options.get("transport"),
        )

    @property
    def calls_made(self) -> int:
        """HTTP attempts this client made, retries included."""
        return self._http.calls_made

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


T = TypeVar("T")


def iter_pages(fetch: Callable[[int], Page[T]], *, concurrency: int) -> Iterator[Page[T]]:
    """Yield pages 1..N in order; page 1 tells N, the rest are fetched `concurrency` at a time."""
    first = fetch(1)
    yield first
    if first.total_pages <= 1:
        return
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="provider-page") as pool:
        pending: deque[Future[Page[T]]] = deque()
        next_number = 2
        try:
            while pending or next_number <= first.total_pages:
                while (
                    next_number <= first.total_pages
                    and len(pending) < concurrency * PAGES_AHEAD_PER_WORKER
                ):
                    pending.append(pool.submit(fetch, next_number))
                    next_number += 1
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def collect_pages(pages: Iterator[Page[T]], http: ProviderHttp) -> FetchResult[T]:
    """Drain a page iterator into one `FetchResult`, counting the calls it took."""
    calls_before = http.calls_made
    result: FetchResult[T] = FetchResult()
    for page in pages:
        result.records.extend(page.records)
        result.skipped.extend(page.skipped)
        result.pages += 1
    result.calls = http.calls_made - calls_before
    return result
