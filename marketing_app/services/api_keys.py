"""API keys: publishable (pk_) for tracking, secret (sk_) for management. Stored hashed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager

from sqlmodel import Session, col, select

from marketing_app.domain.accounts import IssuedApiKey
from marketing_app.domain.errors import InvalidCredentials, InvalidInput, NotFound
from marketing_app.models import ApiKey, ApiKeyKind, Tenant
from marketing_app.models.base import utcnow
from marketing_app.services.crypto import new_token, token_digest

KEY_PREFIXES = {ApiKeyKind.PUBLISHABLE: "pk_", ApiKeyKind.SECRET: "sk_"}
DISPLAY_PREFIX_LENGTH = 10  # "sk_" plus 7 random characters: enough to tell keys apart
# Recording last use on every request would turn reads into writes; once a minute is plenty.
LAST_USED_RESOLUTION_SECONDS = 60
# Publishable keys come with every tracking batch, thousands of requests a second across a
# tenant's storefronts, and a lookup is two queries and a commit (~2 ms of the API's CPU). A
# process remembers a live key's tenant this long: a revoked key is refused within this time
# in every process, and at once in the process that revoked it. Secret keys are always looked up.
REMEMBER_PUBLISHABLE_SECONDS = 5.0
_remembered_publishable: dict[str, tuple[uuid.UUID, float]] = {}


def create_api_key(*, session: Session, tenant_id: uuid.UUID, kind: str, name: str) -> IssuedApiKey:
    try:
        key_kind = ApiKeyKind(kind)
    except ValueError as exc:
        raise InvalidInput("Kind must be publishable or secret.", field="kind") from exc
    plaintext = new_token(KEY_PREFIXES[key_kind], nbytes=24)
    row = ApiKey(
        tenant_id=tenant_id,
        kind=key_kind,
        name=name.strip()[:100] or f"{key_kind.value.title()} key",
        display_prefix=plaintext[:DISPLAY_PREFIX_LENGTH],
        key_hash=token_digest(plaintext),
    )
    session.add(row)
    session.flush()
    return IssuedApiKey(
        id=row.id, kind=row.kind, name=row.name, plaintext=plaintext, created_at=row.created_at
    )


def list_api_keys(*, session: Session, tenant_id: uuid.UUID) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.tenant_id == tenant_id)
    return list(session.exec(query.order_by(col(ApiKey.created_at).desc())))


def revoke_api_key(*, session: Session, tenant_id: uuid.UUID, key_id: uuid.UUID) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound("API key not found.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        session.flush()
    _remembered_publishable.clear()
    return row


def authenticate_api_key(*, session: Session, plaintext: str, kind: ApiKeyKind) -> Tenant:
    """The tenant a live key of the given kind belongs to.

    A secret key offered where a publishable one is expected (or the reverse) is refused
    with a message that says so, since that is the usual integration mistake.
    """
    _check_prefix(plaintext, kind)
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == token_digest(plaintext))).first()
    if row is None or row.revoked_at is not None:
        raise InvalidCredentials("Unknown or revoked API key.")
    tenant = session.get(Tenant, row.tenant_id)
    if tenant is None or not tenant.is_active:
        raise InvalidCredentials("Unknown or revoked API key.")
    now = utcnow()
    if (
        row.last_used_at is None
        or (now - row.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
    ):
        row.last_used_at = now
        session.add(row)
        session.commit()
    return tenant


def _check_prefix(plaintext: str, kind: ApiKeyKind) -> None:
    if not plaintext.startswith(KEY_PREFIXES[kind]):
        other = "secret" if kind == ApiKeyKind.PUBLISHABLE else "publishable"
        if plaintext.startswith(tuple(KEY_PREFIXES.values())):
            raise InvalidCredentials(f"A {other} key cannot be used here; use a {kind.value} key.")
        raise InvalidCredentials("Missing or malformed API key.")


def publishable_key_tenant_id(
    *, plaintext: str, open_session: Callable[[], AbstractContextManager[Session]]
) -> uuid.UUID:
    """The tenant of a live publishable key, looked up at most every few seconds per process
    (see REMEMBER_PUBLISHABLE_SECONDS); `open_session` is only called on a lookup."""
    _check_prefix(plaintext, ApiKeyKind.PUBLISHABLE)
    digest = token_digest(plaintext)
    now = time.monotonic()
    remembered = _remembered_publishable.get(digest)
    if remembered is not None and remembered[1] > now:
        return remembered[0]
    with open_session() as session:
        tenant = authenticate_api_key(
            session=session, plaintext=plaintext, kind=ApiKeyKind.PUBLISHABLE
        )
    _remembered_publishable[digest] = (tenant.id, now + REMEMBER_PUBLISHABLE_SECONDS)
    return tenant.id
