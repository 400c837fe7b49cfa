"""Expected failures, typed so each edge maps them once (toast, field error or 4xx)."""

from __future__ import annotations


class DomainError(Exception):
    """Base for failures a user can act on; the message is safe to show."""

    http_status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """Missing, or belonging to another tenant: both look the same from outside."""

    http_status = 404


class PermissionDenied(DomainError):
    http_status = 403


class InvalidInput(DomainError):
    http_status = 422


class Conflict(DomainError):
    http_status = 409


class InvalidCredentials(DomainError):
    http_status = 401


class LoginThrottled(DomainError):
    http_status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ProviderError(Exception):
    """A call to an outside provider (POS, Alpine IQ, ...) failed.

    `retryable` tells a job whether a later run may succeed. Messages name the route
    template ("/api/v2/loyalty/lookup/{pii}"), never the filled-in path, so phone numbers
    in paths stay out of sync logs.
    """

    retryable = False

    def __init__(self, message: str, *, provider: str, status: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.message = message
        self.provider = provider
        self.status = status


class ProviderUnavailable(ProviderError):
    """Timeouts, connection errors or 5xx answers that outlasted the retries."""

    retryable = True


class ProviderRateLimited(ProviderUnavailable):
    """The provider answered 429, or our own limiter would have to wait too long."""

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retry_after_seconds: float | None,
        status: int | None = None,
        client_side: bool = False,
    ) -> None:
        super().__init__(message, provider=provider, status=status)
        self.retry_after_seconds = retry_after_seconds
        self.client_side = client_side


class ProviderRejected(ProviderError):
    """A 4xx other than 429 (bad credentials, bad request, missing object): retrying won't help."""


class ProviderBadData(ProviderError):
    """The answer is not what the provider documents (not JSON, wrong shape); none of it is used."""
