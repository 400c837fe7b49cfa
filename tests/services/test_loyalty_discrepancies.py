"""Reviewing and resolving discrepancies: each resolution's ledger entry, balance and tier;
decisions that stay decided; bulk accept by the source of truth; filters; refusals; tenants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import AuditEntry, LedgerKind
from marketing_app.models.loyalty_sync import DiscrepancyKind, DiscrepancyStatus, Resolution
from marketing_app.services.loyalty_discrepancies import (
    RECONCILIATION_SOURCE,
    bulk_accept,
    discrepancy_summary,
    list_discrepancies,
    resolve_discrepancy,
)
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_reconciliation import reconcile
from tests.factories import make_tenant
from tests.segment_world import sqlite_session
from tests.services.test_loyalty_reconciliation import alpine, customer
from tests.services.test_loyalty_support import (
    METALS,
    account_of,
    assert_ledger_consistent,
    entries_of,
    make_contact,
    make_order,
    make_program,
)

NOW = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["suite", "sqlite"])
def db(request, session):
    return session if request.param == "suite" else sqlite_session()


@pytest.fixture
def shop(db):
    tenant = make_tenant(db)
    make_program(db, tenant, tiers=METALS)  # Bronze 0, Silver 500, Gold 1500
    return tenant


def reconciled(db, tenant):
    reconcile(session=db, tenant_id=tenant.id, now=NOW)
    db.commit()
    lines, _ = list_discrepancies(session=db, tenant_id=tenant.id, status="all", limit=500)
    return {line.contact_id: line for line in lines if line.status == DiscrepancyStatus.OPEN}


def resolve(db, tenant, line, resolution, reason="checked the POS", **options):
    decided = resolve_discrepancy(
        session=db,
        tenant_id=tenant.id,
        discrepancy_id=line.id,
        resolution=resolution,
        actor=options.pop("actor", "marketer@example.com"),
        reason=reason,
        **options,
    )
    db.commit()
    return decided


def decision_entries(db, tenant, contact):
    return [e for e in entries_of(db, tenant, contact) if e.source == RECONCILIATION_SOURCE]


def test_accepting_alpine_iq_moves_balance_and_tier_with_one_entry(db, shop):
    ann = customer(db, shop, 450)
    alpine(db, shop, ann, 620)
    line = reconciled(db, shop)[ann.id]
    decided = resolve(db, shop, line, Resolution.ACCEPT_EXTERNAL)
    assert (decided.status, decided.resolution, decided.resolved_points) == (
        DiscrepancyStatus.RESOLVED,
        Resolution.ACCEPT_EXTERNAL,
        620,
    )
    assert (decided.resolved_by, decided.reason) == ("marketer@example.com", "checked the POS")
    [entry] = decision_entries(db, shop, ann)
    assert (entry.kind, entry.points, entry.earned, entry.source_key) == (
        LedgerKind.ADJUST,
        170,
        170,
        str(line.id),
    )
    assert entry.reason == "Reconciliation, accepted Alpine IQ's figure: checked the POS"
    assert decided.entry_id == entry.id
    account = account_of(db, shop, ann)
    assert (account.balance, account.lifetime_earned, account.tier) == (620, 620, "Silver")
    assert_ledger_consistent(db, shop)
    audit = db.exec(select(AuditEntry).where(AuditEntry.tenant_id == shop.id)).all()
    assert [(a.action, a.actor_label, a.target_id) for a in audit] == [
        ("loyalty.discrepancy_resolved", "marketer@example.com", str(line.id))
    ]
    assert reconciled(db, shop) == {}  # all three figures agree now

    with pytest.raises(Conflict, match="already resolved by marketer@example.com"):
        resolve(db, shop, line, Resolution.ACCEPT_EXTERNAL)  # the double click
    db.rollback()
    assert len(decision_entries(db, shop, ann)) == 1 and account_of(db, shop, ann).balance == 620


def test_adjusting_down_takes_tier_points_back(db, shop):
    ann = customer(db, shop, 600)
    alpine(db, shop, ann, 640)
    line = reconciled(db, shop)[ann.id]
    resolve(db, shop, line, Resolution.ADJUST, points=450, reason="refund missing in POS sync")
    [entry] = decision_entries(db, shop, ann)
    assert (entry.points, entry.earned) == (-150, -150)
    account = account_of(db, shop, ann)
    assert (account.balance, account.lifetime_earned, account.tier) == (450, 450, "Bronze")
    assert_ledger_consistent(db, shop)


def test_keeping_ours_records_a_zero_entry_and_stays_decided(db, shop):
    ann = customer(db, shop, 80)
    alpine(db, shop, ann, 95)
    line = reconciled(db, shop)[ann.id]
    decided = resolve(db, shop, line, Resolution.KEEP_OURS, reason="Alpine IQ double-counted")
    assert decided.resolved_points == 80 and account_of(db, shop, ann).balance == 80
    [entry] = decision_entries(db, shop, ann)
    assert entry.points == 0 and entry.reason.endswith("kept our figure: Alpine IQ double-counted")
    assert reconciled(db, shop) == {}  # the same figures as decided: not reopened
    alpine(db, shop, ann, 99)  # Alpine IQ moved: it is a new question
    assert reconciled(db, shop)[ann.id].external_points == 99


def test_a_decision_credits_pending_orders_first(db, shop):
    ann = customer(db, shop, 100)
    make_order(db, shop, ann, 4000)  # not credited yet
    alpine(db, shop, ann, 150)
    line = reconciled(db, shop)[ann.id]
    assert (line.calculated_points, line.stored_balance) == (140, 100)
    resolve(db, shop, line, Resolution.ACCEPT_EXTERNAL)
    assert [(e.source, e.points) for e in entries_of(db, shop, ann)][1:] == [
        ("order", 40),
        (RECONCILIATION_SOURCE, 10),
    ]
    assert account_of(db, shop, ann).balance == 150 and reconciled(db, shop) == {}


def test_bulk_accept_applies_the_source_of_truth(db, shop):
    make_program(db, shop, tiers=METALS, source_of_truth="alpineiq")
    mapped = [customer(db, shop, dollars) for dollars in (10, 20)]
    for contact, points in zip(mapped, (15, 5), strict=True):
        alpine(db, shop, contact, points)
    unmapped = customer(db, shop, 30, credited_at=None)  # ours is all there is
    lines = reconciled(db, shop)
    first = resolve(db, shop, lines[mapped[0].id], Resolution.KEEP_OURS)
    ids = [line.id for line in lines.values()]
    resolved = bulk_accept(
        session=db, tenant_id=shop.id, discrepancy_ids=ids, actor="owner", reason="AIQ wins"
    )
    db.commit()
    assert resolved == 2  # the one decided before is skipped
    assert [account_of(db, shop, c).balance for c in (*mapped, unmapped)] == [10, 5, 30]
    after, _ = list_discrepancies(session=db, tenant_id=shop.id, status=DiscrepancyStatus.RESOLVED)
    by_contact = {line.contact_id: line for line in after}
    assert by_contact[mapped[0].id].resolved_by == "marketer@example.com" == first.resolved_by
    assert by_contact[mapped[1].id].resolution == Resolution.ACCEPT_EXTERNAL
    assert by_contact[unmapped.id].resolution == Resolution.KEEP_OURS
    assert_ledger_consistent(db, shop)


def test_bad_resolutions_are_refused_and_write_nothing(db, shop):
    ann = customer(db, shop, 50)
    alpine(db, shop, ann, 70)
    line = reconciled(db, shop)[ann.id]
    pending = customer(db, shop, 10, credited_at=None)
    no_alpine = reconciled(db, shop)[pending.id]
    refusals = [
        (line, Resolution.ACCEPT_EXTERNAL, {"reason": "  "}, "reason of 1 to 500"),
        (line, "overwrite", {}, "Unknown resolution 'overwrite'"),
        (line, Resolution.ADJUST, {"points": -1}, "cannot be negative"),
        (line, Resolution.ADJUST, {}, "balance to set"),
        (line, Resolution.ACCEPT_EXTERNAL, {"points": 5}, "only with the adjust"),
        (no_alpine, Resolution.ACCEPT_EXTERNAL, {}, "Alpine IQ has no figure"),
    ]
    for target, resolution, options, message in refusals:
        with pytest.raises(InvalidInput, match=message):
            resolve(db, shop, target, resolution, **options)
        db.rollback()
    for bad_ids in ([], [0], ["7"], list(range(1, 1_002))):
        with pytest.raises(InvalidInput, match="(?i)discrepancy ids"):
            bulk_accept(
                session=db, tenant_id=shop.id, discrepancy_ids=bad_ids, actor="a", reason="r"
            )
    assert decision_entries(db, shop, ann) == [] and account_of(db, shop, ann).balance == 50


def test_lists_filter_search_page_and_summarize(db, shop):
    for n, (dollars, points) in enumerate([(100, 105), (100, 300), (100, 150)]):
        contact = make_contact(db, shop, email=f"guest{n}@example.com", first_name=f"Guest{n}")
        make_order(db, shop, contact, dollars * 100)
        alpine(db, shop, contact, points)
    credit_orders(session=db, tenant_id=shop.id)
    reconcile(session=db, tenant_id=shop.id, now=NOW)
    db.commit()
    lines, total = list_discrepancies(session=db, tenant_id=shop.id)
    assert total == 3 and [line.difference for line in lines] == [200, 50, 5]  # over first
    assert lines[0].customer == "Guest1" and lines[0].kind == DiscrepancyKind.MISSING_VISITS
    over, over_total = list_discrepancies(session=db, tenant_id=shop.id, over_threshold_only=True)
    assert over_total == 2 and all(line.over_threshold for line in over)
    found, _ = list_discrepancies(session=db, tenant_id=shop.id, search="GUEST2@example")
    assert [line.customer for line in found] == ["Guest2"]
    page, total = list_discrepancies(session=db, tenant_id=shop.id, limit=1, offset=2)
    assert total == 3 and [line.difference for line in page] == [5]
    summary = discrepancy_summary(session=db, tenant_id=shop.id)
    assert (summary["open"], summary["over_threshold"], summary["source_of_truth"]) == (
        3,
        2,
        "orders",
    )
    assert summary["by_kind"][DiscrepancyKind.MISSING_VISITS] == 3
    assert summary["last_reconciled_at"] == NOW and summary["threshold_percent"] == 10
    for bad in ({"status": "closed"}, {"kind": "typo"}):
        with pytest.raises(InvalidInput):
            list_discrepancies(session=db, tenant_id=shop.id, **bad)


def test_tenants_never_see_or_decide_each_others_discrepancies(db, shop):
    theirs = make_tenant(db)
    make_program(db, theirs)
    bob = customer(db, theirs, 10)
    alpine(db, theirs, bob, 30)
    their_line = reconciled(db, theirs)[bob.id]
    assert list_discrepancies(session=db, tenant_id=shop.id) == ([], 0)
    assert discrepancy_summary(session=db, tenant_id=shop.id)["open"] == 0
    with pytest.raises(NotFound):
        resolve(db, shop, their_line, Resolution.KEEP_OURS)
    db.rollback()
    assert (
        bulk_accept(
            session=db, tenant_id=shop.id, discrepancy_ids=[their_line.id], actor="a", reason="r"
        )
        == 0
    )
    assert account_of(db, theirs, bob).balance == 10
