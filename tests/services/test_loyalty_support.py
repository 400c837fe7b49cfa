"""Helpers the loyalty tests share (no tests here): programs, customers, orders, the ledger."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from marketing_app.models import (
    Contact,
    LoyaltyAccount,
    LoyaltyLedgerEntry,
    LoyaltyRedemption,
    Order,
    OrderItem,
    Tenant,
)
from marketing_app.services.loyalty_programs import save_program
from marketing_app.services.loyalty_reports import ledger_mismatches

PLACED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
METALS = [
    {"name": "Bronze", "threshold": 0},
    {"name": "Silver", "threshold": 500},
    {"name": "Gold", "threshold": 1500, "reward": {"points": 300, "amount_off_cents": 2000}},
]


def make_program(session: Session, tenant: Tenant, **settings: Any):
    program = save_program(session=session, tenant_id=tenant.id, settings=settings)
    session.commit()
    return program


def make_contact(session: Session, tenant: Tenant, **fields: Any) -> Contact:
    fields.setdefault("email", f"c-{uuid.uuid4().hex[:8]}@example.com")
    contact = Contact(tenant_id=tenant.id, **fields)
    session.add(contact)
    session.commit()
    return contact


def make_order(
    session: Session,
    tenant: Tenant,
    contact: Contact | None,
    total_cents: int,
    *,
    items: list[tuple[str, int]] = (),
    placed_at: datetime = PLACED,
) -> Order:
    """An order with lines given as (category, amount in cents)."""
    order = Order(
        tenant_id=tenant.id,
        contact_id=contact.id if contact else None,
        source="pos",
        external_id=uuid.uuid4().hex[:12],
        total_cents=total_cents,
        placed_at=placed_at,
    )
    session.add(order)
    session.flush()
    for category, cents in items:
        session.add(
            OrderItem(
                tenant_id=tenant.id,
                order_id=order.id,
                sku=category[:3],
                category=category,
                price_cents=cents,
            )
        )
    session.commit()
    return order


def account_of(session: Session, tenant: Tenant, contact: Contact) -> LoyaltyAccount | None:
    session.expire_all()
    return session.exec(
        select(LoyaltyAccount).where(
            LoyaltyAccount.tenant_id == tenant.id, LoyaltyAccount.contact_id == contact.id
        )
    ).first()


def balance(session: Session, tenant: Tenant, contact: Contact) -> int:
    account = account_of(session, tenant, contact)
    return account.balance if account else 0


def entries_of(session: Session, tenant: Tenant, contact: Contact | None = None) -> list:
    session.expire_all()
    query = select(LoyaltyLedgerEntry).where(LoyaltyLedgerEntry.tenant_id == tenant.id)
    if contact is not None:
        query = query.where(LoyaltyLedgerEntry.contact_id == contact.id)
    return list(session.exec(query.order_by(LoyaltyLedgerEntry.id)))


def redemption_count(session: Session, tenant: Tenant) -> int:
    return session.exec(
        select(func.count())
        .select_from(LoyaltyRedemption)
        .where(LoyaltyRedemption.tenant_id == tenant.id)
    ).one()


def assert_ledger_consistent(session: Session, tenant: Tenant) -> None:
    """Every account holds exactly what its entries add up to, and nothing is negative."""
    assert ledger_mismatches(session=session, tenant_id=tenant.id) == []
    negative = session.exec(
        select(func.count())
        .select_from(LoyaltyAccount)
        .where(LoyaltyAccount.tenant_id == tenant.id, LoyaltyAccount.balance < 0)
    ).one()
    assert negative == 0
