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
