"""The console provider's outbox: what development sends instead of the internet.

The console provider (providers.email.console) writes one row per message; this module reads
them back for the outbox page, newest first, scoped to the tenant.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketing_app.domain.errors import NotFound
from marketing_app.models import OutboxMessage

PAGE_LIMIT = 100
MAX_ID = 2**63 - 1


def list_outbox(
    *, session: Session, tenant_id: uuid.UUID, search: str = "", limit: int = 25, offset: int = 0
) -> tuple[list[OutboxMessage], int]:
    """A page of the tenant's outbox (search in recipient and subject) and the match count."""
    query = select(OutboxMessage).where(OutboxMessage.tenant_id == tenant_id)
    text = search.strip().lower()
    if text:
        query = query.where(
            or_(
                func.lower(OutboxMessage.to_address).contains(text, autoescape=True),
                func.lower(OutboxMessage.subject).contains(text, autoescape=True),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(OutboxMessage.id).desc())
        .limit(max(1, min(limit, PAGE_LIMIT)))
        .offset(max(0, offset))
    ).all()
    return list(rows), total


def get_outbox_message(*, session: Session, tenant_id: uuid.UUID, outbox_id: int) -> OutboxMessage:
    found = session.get(OutboxMessage, outbox_id) if 0 < outbox_id <= MAX_ID else None
    if found is None or found.tenant_id != tenant_id:
        raise NotFound("That message is not in your outbox.")
    return found
