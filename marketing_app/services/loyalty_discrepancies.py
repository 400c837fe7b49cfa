"""Reviewing loyalty discrepancies: the list and its filters, the summary, and resolutions.

A marketer resolves an open discrepancy (services/loyalty_reconciliation.py finds them) by
accepting Alpine IQ's figure, keeping ours, or adjusting to a figure of their own. Each decision:
- first credits the customer's orders not credited yet (`credit_orders`), so the decision is
  about settled figures and a later crediting never adds those points on top of it;
- then writes exactly one ledger entry through the ledger's write path (kind adjust, source
  "reconciliation", key = the discrepancy id, so a double click writes once), moving the
  balance to the chosen figure: accept_external → Alpine IQ's points as shown, keep_ours → the
  balance as it is (a zero-point entry records the decision), adjust → the given points.
  Points added count toward tiers; points removed take lifetime points down at most to zero;
- stores the resolution, the figure, who decided, why and the entry, and audits it.
Bulk accept applies the source of truth's figure: Alpine IQ's (accept_external) when Alpine IQ
is the source of truth and has a figure, otherwise ours (keep_ours, after crediting).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, LedgerKind, LedgerSource
from marketing_app.models.base import utcnow
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    DiscrepancyStatus,
    LoyaltyDiscrepancy,
    Resolution,
)
from marketing_app.services.audit import record_audit
from marketing_app.services.loyalty_adjustments import _check_reason
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_ledger import (
    entry_row,
    find_entry,
    lock_account,
    record_entries,
    spend_points,
)
from marketing_app.services.loyalty_programs import (
    LoyaltySettings,
    get_program,
    refuse_nul,
    require_settings,
)
from marketing_app.services.loyalty_reconciliation import last_run

RECONCILIATION_SOURCE = LedgerSource.RECONCILIATION  # decisions; key: the discrepancy id
MAX_PAGE = 500
MAX_BULK = 1_000  # discrepancies per bulk accept
MAX_BALANCE = 1_000_000_000  # points a decision may set a balance to
RESOLUTION_LABELS = {
    Resolution.ACCEPT_EXTERNAL: "accepted Alpine IQ's figure",
    Resolution.KEEP_OURS: "kept our figure",
    Resolution.ADJUST: "adjusted",
}
D = LoyaltyDiscrepancy


@dataclass(frozen=True)
class DiscrepancyLine:
    id: int
    contact_id: int
    customer: str  # name, else email
    calculated_points: int
    external_points: int | None
    stored_balance: int
    difference: int
    difference_percent: float
    over_threshold: bool
    kind: str
    explanation: str
    status: str
    resolution: str | None
    resolved_points: int | None
    reason: str
    checked_at: datetime
    resolved_at: datetime | None
    resolved_by: str = ""
    entry_id: int | None = None


def _customer_columns():
    return func.trim(Contact.first_name + " " + Contact.last_name), Contact.email


def _line(row: LoyaltyDiscrepancy, name: str | None, email: str | None) -> DiscrepancyLine:
    return DiscrepancyLine(
        id=row.id,
        contact_id=row.contact_id,
        customer=name or email or f"Customer {row.contact_id}",
        calculated_points=row.calculated_points,
        external_points=row.external_points,
        stored_balance=row.stored_balance,
        difference=row.difference,
        difference_percent=row.difference_percent,
        over_threshold=row.over_threshold,
        kind=row.kind,
        explanation=row.explanation,
        status=row.status,
        resolution=row.resolution,
        resolved_points=row.resolved_points,
        reason=row.reason,
        checked_at=row.checked_at,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
        entry_id=row.entry_id,
    )


# --- reading ----------------------------------------------------------------------------------


def _filters(tenant_id, status: str, kind: str | None, over_only: bool, search: str) -> list:
    if status not in (*DiscrepancyStatus.ALL, "all"):
        choices = ", ".join((*DiscrepancyStatus.ALL, "all"))
        raise InvalidInput(f"Unknown status '{status}': choose {choices}.", field="status")
    if kind and kind not in DiscrepancyKind.ALL:
        choices = ", ".join(DiscrepancyKind.ALL)
        raise InvalidInput(f"Unknown kind '{kind}': choose {choices}.", field="kind")
    text = refuse_nul(str(search or ""), "search", "A search").strip().lower()[:200]
    conditions = [D.tenant_id == tenant_id]
    if status != "all":
        conditions.append(D.status == status)
    if kind:
        conditions.append(D.kind == kind)
    if over_only:
        conditions.append(col(D.over_threshold).is_(True))
    if text:
        name, email = _customer_columns()
        conditions.append(or_(func.lower(name).like(f"%{text}%"), col(email).like(f"%{text}%")))
    return conditions


def list_discrepancies(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    status: str = DiscrepancyStatus.OPEN,
    kind: str | None = None,
    over_threshold_only: bool = False,
    search: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[DiscrepancyLine], int]:
    """A page of the tenant's discrepancies (status "all" for every status), the biggest
    differences first among those over the threshold first; and how many match."""
    conditions = _filters(tenant_id, status, kind, over_threshold_only, search)
    limit, offset = max(1, min(int(limit), MAX_PAGE)), max(0, int(offset))
    joined = select(D).join(Contact, Contact.id == D.contact_id).where(*conditions)
    total = session.exec(select(func.count()).select_from(joined.subquery())).one()
    rows = session.exec(
        select(D, *_customer_columns())
        .join(Contact, Contact.id == D.contact_id)
        .where(*conditions)
        .order_by(col(D.over_threshold).desc(), func.abs(D.difference).desc(), col(D.id).desc())
        .limit(limit)
        .offset(offset)
    )
    return [_line(row, name, email) for row, name, email in rows], total


def get_discrepancy(
    *, session: Session, tenant_id: uuid.UUID, discrepancy_id: int
) -> DiscrepancyLine:
    found = session.exec(
        select(D, *_customer_columns())
        .join(Contact, Contact.id == D.contact_id)
        .where(D.id == discrepancy_id, D.tenant_id == tenant_id)
    ).first()
    if found is None:
        raise NotFound("Discrepancy not found.")
    return _line(*found)


def discrepancy_summary(*, session: Session, tenant_id: uuid.UUID) -> dict[str, Any]:
    """Open discrepancies (all, over the threshold, per kind), the last run, and the rules."""
    program = get_program(session=session, tenant_id=tenant_id)
    settings = LoyaltySettings.model_validate(program.settings) if program else LoyaltySettings()
    rows = session.exec(
        select(D.kind, func.count(), func.count().filter(col(D.over_threshold).is_(True)))
        .where(D.tenant_id == tenant_id, D.status == DiscrepancyStatus.OPEN)
        .group_by(D.kind)
    ).all()
    by_kind = dict.fromkeys(DiscrepancyKind.ALL, 0) | {kind: count for kind, count, _ in rows}
    run = last_run(session=session, tenant_id=tenant_id)
    ran_at = run.get("ran_at")
    return {
        "open": sum(by_kind.values()),
        "over_threshold": sum(over for _, _, over in rows),
        "by_kind": by_kind,
        "last_reconciled_at": datetime.fromisoformat(ran_at) if ran_at else None,
        "last_run": run,
        "source_of_truth": settings.source_of_truth,
        "threshold_percent": Decimal(settings.discrepancy_threshold_percent),
    }


# --- resolving --------------------------------------------------------------------------------


def _check_points(resolution: str, points: Any) -> int | None:
    if resolution != Resolution.ADJUST:
        if points is not None:
            raise InvalidInput("Points go only with the adjust resolution.", field="points")
        return None
    if isinstance(points, bool) or not isinstance(points, int):
        raise InvalidInput("Give the balance to set, a whole number of points.", field="points")
    if points < 0:
        raise InvalidInput("A balance cannot be negative.", field="points")
    if points > MAX_BALANCE:
        raise InvalidInput(f"At most {MAX_BALANCE:,} points.", field="points")
    return points


def _lock_open(session: Session, tenant_id: uuid.UUID, discrepancy_id: int) -> LoyaltyDiscrepancy:
    row = session.exec(
        select(D)
        .where(D.id == discrepancy_id, D.tenant_id == tenant_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("Discrepancy not found.")
    if row.status != DiscrepancyStatus.OPEN:
        done = "resolved" if row.status == DiscrepancyStatus.RESOLVED else "cleared"
        by = f" by {row.resolved_by}" if row.resolved_by else ""
        raise Conflict(f"This discrepancy was already {done}{by}.", field="status")
    return row


def resolve_discrepancy(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    discrepancy_id: int,
    resolution: str,
    actor: str,
    reason: str,
    points: int | None = None,
    actor_user_id: uuid.UUID | None = None,
) -> DiscrepancyLine:
    """Decide one open discrepancy (see the module docstring); the caller commits."""
    if resolution not in Resolution.ALL:
        choices = ", ".join(Resolution.ALL)
        raise InvalidInput(
            f"Unknown resolution '{resolution}': choose {choices}.", field="resolution"
        )
    reason = _check_reason(reason)
    target = _check_points(resolution, points)
    settings = require_settings(session=session, tenant_id=tenant_id)
    row = _lock_open(session, tenant_id, discrepancy_id)
    if resolution == Resolution.ACCEPT_EXTERNAL:
        if row.external_points is None:
            raise InvalidInput(
                "Alpine IQ has no figure for this customer: keep ours or adjust.",
                field="resolution",
            )
        target = row.external_points
    _decide(session, settings, row, _Decision(resolution, target, actor, reason, actor_user_id))
    return get_discrepancy(session=session, tenant_id=tenant_id, discrepancy_id=row.id)


@dataclass(frozen=True)
class _Decision:
    resolution: str
    target: int | None  # the balance to set; None: keep the balance
    actor: str
    reason: str
    actor_user_id: uuid.UUID | None


def _decide(
    session: Session, settings: LoyaltySettings, row: LoyaltyDiscrepancy, decision: _Decision
) -> None:
    """Credit pending orders, move the balance with one entry, record the decision, audit."""
    now = utcnow()
    credit_orders(session=session, tenant_id=row.tenant_id, contact_id=row.contact_id, now=now)
    target, change, entry_id = _set_balance(session, settings, row, decision, now)
    row.status, row.resolution = DiscrepancyStatus.RESOLVED, decision.resolution
    row.resolved_points, row.entry_id, row.resolved_at = target, entry_id, now
    row.resolved_by, row.reason = decision.actor[:200], decision.reason
    session.add(row)
    record_audit(
        session=session,
        tenant_id=row.tenant_id,
        actor_user_id=decision.actor_user_id,
        actor_label=decision.actor[:200],
        action="loyalty.discrepancy_resolved",
        target_type="loyalty_discrepancy",
        target_id=str(row.id),
        details={
            "resolution": decision.resolution,
            "points": target,
            "change": change,
            "reason": decision.reason,
        },
    )
    session.flush()


def _set_balance(
    session: Session,
    settings: LoyaltySettings,
    row: LoyaltyDiscrepancy,
    decision: _Decision,
    now: datetime,
) -> tuple[int, int, int | None]:
    """One entry taking the (locked) balance to the decided figure: (figure, change, entry id).
    Added points count toward tiers; removed ones take lifetime points down to zero at most."""
    account = lock_account(session, row.tenant_id, row.contact_id)
    balance = account.balance if account else 0
    target = balance if decision.target is None else decision.target
    change = target - balance
    entry = entry_row(
        tenant_id=row.tenant_id,
        contact_id=row.contact_id,
        kind=LedgerKind.ADJUST,
        source=RECONCILIATION_SOURCE,
        source_key=str(row.id),
        points=change,
        earned=max(change, -(account.lifetime_earned if account else 0)),
        reason=f"Reconciliation, {RESOLUTION_LABELS[decision.resolution]}: {decision.reason}",
        now=now,
    )
    if change >= 0:
        record_entries(session, row.tenant_id, settings, [entry], now)
    elif spend_points(session, settings, entry, now) is None:
        raise Conflict(f"The balance changed to {balance:,} points meanwhile; try again.")
    written = find_entry(session, row.tenant_id, RECONCILIATION_SOURCE, str(row.id))
    return target, change, written.id if written else None


def bulk_accept(
    *,
    session: Session,
    tenant_id: uuid.UUID,
    discrepancy_ids: list[int],
    actor: str,
    reason: str,
    actor_user_id: uuid.UUID | None = None,
) -> int:
    """Apply the source of truth's figure to each open discrepancy among the ids; ids that are
    not open (or not this tenant's) are skipped. Returns how many were resolved."""
    reason = _check_reason(reason)
    ids = sorted({_check_id(value) for value in discrepancy_ids or []})
    if not ids or len(ids) > MAX_BULK:
        raise InvalidInput(f"Give 1 to {MAX_BULK:,} discrepancy ids.", field="discrepancy_ids")
    settings = require_settings(session=session, tenant_id=tenant_id)
    open_ids = session.exec(
        select(D.id).where(
            D.tenant_id == tenant_id, col(D.id).in_(ids), D.status == DiscrepancyStatus.OPEN
        )
    ).all()
    resolved = 0
    for discrepancy_id in sorted(open_ids):
        try:
            row = _lock_open(session, tenant_id, discrepancy_id)
        except Conflict:  # decided by someone else a moment ago
            continue
        if settings.source_of_truth == "alpineiq" and row.external_points is not None:
            resolution, target = Resolution.ACCEPT_EXTERNAL, row.external_points
        else:
            resolution, target = Resolution.KEEP_OURS, None
        _decide(session, settings, row, _Decision(resolution, target, actor, reason, actor_user_id))
        resolved += 1
    return resolved


def _check_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise InvalidInput("Discrepancy ids are positive whole numbers.", field="discrepancy_ids")
    return value
