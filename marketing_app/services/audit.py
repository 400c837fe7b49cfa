"""The audit log: every administrative change records who did what."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import Session, col, select

from marketing_app.domain.accounts import CurrentUser
from marketing_app.models import AuditEntry


def record_audit(
    *,
    session: Session,
    tenant_id: uuid.UUID | None,
    actor_user_id: uuid.UUID | None,
    actor_label: str,
    action: str,
    target_type: str = "",
    target_id: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        tenant_id=tenant_id,
        actor_user_id=actor_user_id,
        actor_label=actor_label,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    session.add(entry)
    return entry


def record_user_action(
    *,
    session: Session,
    tenant_id: uuid.UUID | None,
    user: CurrentUser,
    action: str,
    target_type: str = "",
    target: object = "",
) -> AuditEntry:
    """Audit a change made by a signed-in user; `target` is an id, a name or a row with an id."""
    target_id = str(getattr(target, "id", target) or "")[:64]
    return record_audit(
        session=session,
        tenant_id=tenant_id,
        actor_user_id=user.id,
        actor_label=user.email,
        action=action,
        target_type=target_type,
        target_id=target_id,
    )


def list_audit(
    *, session: Session, tenant_id: uuid.UUID | None, limit: int = 50, offset: int = 0
) -> list[AuditEntry]:
    """Entries of one tenant, newest first; tenant_id None lists platform-level entries."""
    query = select(AuditEntry).where(AuditEntry.tenant_id == tenant_id)
    query = query.order_by(col(AuditEntry.id).desc()).offset(offset).limit(limit)
    return list(session.exec(query))
