"""Sending email through a tenant's providers: priority order, retries, breakers, failover.

`DeliveryChain.send` / `send_batch` hand messages to the first provider, in chunks of its
`max_batch`, `concurrency` chunks at once. A chunk's transient failures (timeouts, 5xx, 429
after its Retry-After, a message the server deferred) are retried with backoff by stamina;
what still fails goes to the next provider. A permanent refusal (a bad address, refused
content) fails that message only and is never resent elsewhere. Each (tenant, provider) has a
circuit breaker whose state lives in Redis, so every worker sees it: after
`breaker_failures` failed calls in a row the provider is skipped for `breaker_reset_seconds`,
then one call tries it again. Rate limits are the providers' own (`rate_limit` in their
config, shared through Redis).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

import pybreaker
import redis
import stamina
from sqlmodel import Session

from marketing_app.domain.email import (
    BatchRecipient,
    MessageKey,
    OutgoingEmail,
    SendOutcome,
    SubstitutionBatch,
)
from marketing_app.domain.errors import ProviderError, ProviderRateLimited, ProviderRejected
from marketing_app.providers.email.base import (
    ACCOUNT_FAILURE_STATUSES,
    EmailProvider,
    chunked,
    outcomes_for_error,
)
from marketing_app.providers.email.console import SessionFactory
from marketing_app.providers.email.registry import build_email_provider
from marketing_app.providers.http import RetryPolicy
from marketing_app.services.email_provider_config import configured_providers
from marketing_app.settings import get_settings

logger = logging.getLogger(__name__)

BREAKER_NAMESPACE = "mk:email-breaker"
NO_PROVIDER_LEFT = "no email provider could take the message"
Item = TypeVar("Item", OutgoingEmail, BatchRecipient)


@dataclass(frozen=True)
class DeliveryPolicy:
    breaker_failures: int = 5  # failed calls in a row that open a provider's breaker
    breaker_reset_seconds: float = 60.0  # how long an open breaker skips the provider
    retry: RetryPolicy = field(
        default_factory=lambda: RetryPolicy(
            attempts=3,
            timeout_seconds=60.0,
            wait_initial_seconds=0.5,
            wait_max_seconds=10.0,
            wait_jitter_seconds=0.5,
            max_retry_after_seconds=30.0,
        )
    )


class _StillTransient(Exception):
    """Some messages of a chunk failed transiently: retry them (a stamina signal)."""


class _BreakerOpen(Exception):
    pass


class ProviderBreaker:
    """pybreaker's state machine and storage (Redis when configured), used around a call
    rather than wrapping it: `CircuitBreaker.call` holds a lock for the whole call, which
    would let only one request per process reach the provider at a time."""

    def __init__(self, breaker: pybreaker.CircuitBreaker) -> None:
        self._breaker = breaker

    @property
    def state(self) -> str:
        return self._breaker.current_state

    def allows_call(self) -> bool:
        if self._breaker.current_state != pybreaker.STATE_OPEN:
            return True
        opened_at = self._breaker._state_storage.opened_at  # pybreaker keeps it there only
        reset = timedelta(seconds=self._breaker.reset_timeout)
        return opened_at is None or datetime.now(UTC) >= opened_at + reset

    def record_success(self) -> None:
        # Another worker may have opened it meanwhile: its cool-down stands.
        with suppress(pybreaker.CircuitBreakerError):
            self._breaker.call(lambda: None)

    def record_failure(self, error: Exception) -> None:
        def fail() -> None:
            raise error

        with suppress(pybreaker.CircuitBreakerError, type(error)):
            self._breaker.call(fail)


@lru_cache(maxsize=8)
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


_MEMORY_STORAGES: dict[str, pybreaker.CircuitMemoryStorage] = {}
_MEMORY_LOCK = threading.Lock()


def breaker_for(
    *, tenant_id: uuid.UUID, provider: str, policy: DeliveryPolicy, redis_url: str | None
) -> ProviderBreaker:
    """The breaker of one tenant's provider: in Redis (shared by all workers) when a URL is
    given, else in this process's memory."""
    namespace = f"{BREAKER_NAMESPACE}:{tenant_id}:{provider}"
    storage: pybreaker.CircuitBreakerStorage | None = None
    if redis_url:
        try:
            storage = pybreaker.CircuitRedisStorage(
                pybreaker.STATE_CLOSED, _redis(redis_url), namespace=namespace
            )
        except redis.RedisError:  # Redis down: this process's breaker still protects it
            logger.warning("email breaker %s: Redis unavailable, state kept in memory", namespace)
    if storage is None:
        with _MEMORY_LOCK:
            storage = _MEMORY_STORAGES.setdefault(
                namespace, pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
            )
    breaker = pybreaker.CircuitBreaker(
        fail_max=policy.breaker_failures,
        reset_timeout=policy.breaker_reset_seconds,
        state_storage=storage,
        name=namespace,
    )
    return ProviderBreaker(breaker)


class DeliveryChain:
    """One tenant's providers in priority order. Thread-safe; `close()` releases them."""

    def __init__(
        self,
        *,
        tenant_id: uuid.UUID,
        providers: Sequence[EmailProvider],
        policy: DeliveryPolicy | None = None,
        redis_url: str | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.providers = list(providers)
        self.policy = policy or DeliveryPolicy()
        self._breakers = {
            p.name: breaker_for(
                tenant_id=tenant_id, provider=p.name, policy=self.policy, redis_url=redis_url
            )
            for p in self.providers
        }

    def breaker(self, provider: str) -> ProviderBreaker:
        return self._breakers[provider]

    @property
    def max_batch(self) -> int:
        """Messages per call to the first provider (where mail goes while it works)."""
        return self.providers[0].max_batch if self.providers else 1

    @property
    def concurrency(self) -> int:
        """Calls the first provider may have in flight at once."""
        return max(self.providers[0].concurrency, 1) if self.providers else 1

    def send(self, messages: Sequence[OutgoingEmail]) -> list[SendOutcome]:
        return self._deliver(list(messages), lambda provider, chunk: provider.send(chunk))

    def send_batch(self, batch: SubstitutionBatch) -> list[SendOutcome]:
        def call(provider: EmailProvider, chunk: Sequence[BatchRecipient]) -> list[SendOutcome]:
            return provider.send_batch(batch.with_recipients(tuple(chunk)))

        return self._deliver(list(batch.recipients), call)

    def close(self) -> None:
        for provider in self.providers:
            provider.close()

    def _deliver(
        self, items: list[Item], call: Callable[[EmailProvider, Sequence[Item]], list[SendOutcome]]
    ) -> list[SendOutcome]:
        final: dict[MessageKey, SendOutcome] = {}
        pending = items
        for provider in self.providers:
            if not pending:
                break
            for outcome in self._through(provider, pending, call):
                final[outcome.message_id] = outcome
            pending = [item for item in pending if _retry_elsewhere(final[item.message_id])]
        return [
            final.get(item.message_id) or _transient(item.message_id, "", NO_PROVIDER_LEFT)
            for item in items
        ]

    def _through(
        self,
        provider: EmailProvider,
        items: list[Item],
        call: Callable[[EmailProvider, Sequence[Item]], list[SendOutcome]],
    ) -> list[SendOutcome]:
        chunks = list(chunked(items, provider.max_batch))
        if len(chunks) == 1 or provider.concurrency <= 1:
            return [o for chunk in chunks for o in self._send_chunk(provider, chunk, call)]
        with ThreadPoolExecutor(provider.concurrency, thread_name_prefix="email-send") as pool:
            results = pool.map(lambda chunk: self._send_chunk(provider, chunk, call), chunks)
            return [outcome for result in results for outcome in result]

    def _send_chunk(
        self,
        provider: EmailProvider,
        chunk: Sequence[Item],
        call: Callable[[EmailProvider, Sequence[Item]], list[SendOutcome]],
    ) -> list[SendOutcome]:
        """Send a chunk with retries; every item gets an outcome (transient = try elsewhere)."""
        done: dict[MessageKey, SendOutcome] = {}
        todo = list(chunk)
        retry = self.policy.retry
        try:
            for attempt in stamina.retry_context(
                on=self._retry_hook,
                attempts=retry.attempts,
                timeout=retry.timeout_seconds,
                wait_initial=retry.wait_initial_seconds,
                wait_max=retry.wait_max_seconds,
                wait_jitter=retry.wait_jitter_seconds,
            ):
                with attempt:
                    for outcome in self._guarded(provider, todo, call):
                        done[outcome.message_id] = outcome
                    todo = [item for item in todo if _retry_elsewhere(done[item.message_id])]
                    if todo:
                        raise _StillTransient()
        except _StillTransient:
            pass
        except _BreakerOpen:
            error = f"{provider.name}: skipped while its circuit breaker is open"
            for item in todo:
                done[item.message_id] = _transient(item.message_id, provider.name, error)
        except ProviderError as exc:
            for outcome in outcomes_for_error(
                [item.message_id for item in todo], provider.name, exc
            ):
                done[outcome.message_id] = outcome
        return [done[item.message_id] for item in chunk]

    def _guarded(
        self,
        provider: EmailProvider,
        items: list[Item],
        call: Callable[[EmailProvider, Sequence[Item]], list[SendOutcome]],
    ) -> list[SendOutcome]:
        """One call through the provider's breaker; a call that got nothing through while
        failing transiently counts as a failure, any accepted message as a success."""
        breaker = self._breakers[provider.name]
        if not breaker.allows_call():
            raise _BreakerOpen()
        try:
            outcomes = call(provider, items)
        except ProviderError as exc:
            if _provider_at_fault(exc):
                breaker.record_failure(exc)
            raise
        if any(outcome.accepted for outcome in outcomes):
            breaker.record_success()
        elif any(outcome.transient for outcome in outcomes):
            breaker.record_failure(ProviderError("nothing accepted", provider=provider.name))
        return outcomes

    def _retry_hook(self, exc: Exception) -> bool | float:
        """Retry only what time may fix; a Retry-After longer than the policy allows goes
        to the next provider at once."""
        if isinstance(exc, _StillTransient):
            return True
        if isinstance(exc, ProviderRateLimited):
            wait = exc.retry_after_seconds
            if wait is None:
                return not exc.client_side
            too_long = wait > self.policy.retry.max_retry_after_seconds
            return False if exc.client_side or too_long else max(wait, 0.01)
        if isinstance(exc, ProviderRejected):
            return False
        return isinstance(exc, ProviderError) and exc.retryable


def _retry_elsewhere(outcome: SendOutcome) -> bool:
    return not outcome.accepted and outcome.transient


def _provider_at_fault(exc: ProviderError) -> bool:
    if isinstance(exc, ProviderRejected):
        return exc.status in ACCOUNT_FAILURE_STATUSES
    return True


def _transient(key: MessageKey, provider: str, error: str) -> SendOutcome:
    return SendOutcome.failed(key, provider, error, transient=True)


def delivery_chain_for(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    policy: DeliveryPolicy | None = None,
    session_factory: SessionFactory | None = None,
) -> DeliveryChain:
    """The tenant's chain from its saved providers (the console outbox when none).

    The console provider writes its outbox rows through `session_factory`; by default into
    `session`, so they commit with the caller's record of the outcomes.
    """
    settings = get_settings()
    factory: SessionFactory = session_factory or (lambda: nullcontext(session))
    providers = [
        build_email_provider(
            account,
            tenant_id=tenant_id,
            session_factory=factory,
            limiter_storage_uri=settings.redis_url,
        )
        for account in configured_providers(session=session, tenant_id=tenant_id)
    ]
    return DeliveryChain(
        tenant_id=tenant_id, providers=providers, policy=policy, redis_url=settings.redis_url
    )
