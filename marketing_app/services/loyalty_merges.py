"""What a profile merge does to loyalty: the loser's points become the winner's."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlmodel import Session, select

from marketing_app.models import LoyaltyAccount, LoyaltyLedgerEntry, LoyaltyRedemption
from marketing_app.models.base import utcnow
from marketing_app.services.loyalty_ledger import NewEntry, apply_to_accounts
from marketing_app.services.loyalty_programs import require_settings


def merge_loyalty(*, session: Session, tenant_id: uuid.UUID, winner_id: int, loser_id: int) -> None:
    """Move the loser's ledger and codes to the winner and add its account to the winner's.

    For a profile merge to call before it deletes the loser (whose account and entries the
    database would otherwise delete with it). The entries keep their source keys, so nothing
    the loser earned can be credited again.
    """
    for model in (LoyaltyLedgerEntry, LoyaltyRedemption):
        session.exec(
            update(model)
            .where(model.tenant_id == tenant_id, model.contact_id == loser_id)
            .values(contact_id=winner_id)
        )
    loser = session.exec(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.contact_id == loser_id
        )
    ).first()
    if loser is None:
        return
    moved = NewEntry(
        None, winner_id, "earn", loser.balance, loser.lifetime_earned, loser.last_activity_at
    )
    session.exec(delete(LoyaltyAccount).where(LoyaltyAccount.id == loser.id))
    settings = require_settings(session=session, tenant_id=tenant_id)
    apply_to_accounts(session, tenant_id, settings, [moved], utcnow())
