"""Shared dependencies: a database session and the tenant behind a secret API key."""

from __future__ import annotations

import base64
from collections.abc import Iterator

from fastapi import Depends, Request
from sqlmodel import Session

from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError, InvalidCredentials
from marketing_app.models import ApiKeyKind, Tenant
from marketing_app.services.api_keys import authenticate_api_key
from marketing_app.services.rate_limits import check_rate


class RateLimited(DomainError):
    http_status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Rate limit exceeded; retry after {retry_after} seconds.")
        self.retry_after = retry_after


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


def key_from_request(request: Request) -> str:
    """The API key from `Authorization: Bearer <key>` or HTTP Basic (key as username)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidCredentials("Malformed Basic authorization header.") from exc
    return ""


def secret_key_tenant(request: Request, session: Session = Depends(get_session)) -> Tenant:
    key = key_from_request(request)
    tenant = authenticate_api_key(session=session, plaintext=key, kind=ApiKeyKind.SECRET)
    retry_after = check_rate(bucket=f"sk:{key[:16]}")
    if retry_after is not None:
        raise RateLimited(retry_after)
    return tenant
