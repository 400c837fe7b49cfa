"""Loyalty job kinds run through job_execution (safe twice); a profile merge keeps points."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from marketing_app.models import JobRun, JobStatus
from marketing_app.services import job_runs
from marketing_app.services.job_execution import run_job
from marketing_app.services.loyalty_adjustments import adjust_points
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_merges import merge_loyalty
from marketing_app.services.loyalty_redemptions import redeem_points
from marketing_app.services.loyalty_reports import account_summary
from tests.services.test_loyalty_support import (
    METALS,
    account_of,
    assert_ledger_consistent,
    balance,
    entries_of,
    make_contact,
    make_order,
    make_program,
)


def run(session, tenant, kind, **params):
    job = job_runs.create_job_run(
        session=session, tenant_id=tenant.id, kind=kind, label=kind, params=params
    )
    session.commit()
    message = run_job(session=session, job_id=job.id)
    session.expire_all()
    return session.get(JobRun, job.id), message


def test_the_credit_job_credits_once_however_often_it_runs(session, tenant):
    make_program(session, tenant)
    ann = make_contact(session, tenant)
    make_order(session, tenant, ann, 2500)
    make_order(session, tenant, None, 999)
    job, message = run(session, tenant, "loyalty_credit_orders")
    assert job.status == JobStatus.SUCCEEDED
    assert message.startswith("Credited 1 orders (25 points)") and "skipped 1 without" in message
    again, message = run(session, tenant, "loyalty_credit_orders", contact_id=ann.id)
    assert again.status == JobStatus.SUCCEEDED and message.startswith("Credited 0 orders")
    assert balance(session, tenant, ann) == 25


def test_expiry_and_birthday_jobs(session, tenant):
    make_program(session, tenant, expiry_days=1, birthday_bonus=100)
    today = datetime.now(ZoneInfo(tenant.time_zone)).date()
    birthday = date(1990, today.month, min(today.day, 28))
    ann = make_contact(session, tenant, birthday=birthday)
    make_order(session, tenant, ann, 1000)  # placed long ago: inactive
    credit_orders(session=session, tenant_id=tenant.id)
    session.commit()
    _, message = run(session, tenant, "loyalty_expire_points")
    assert message == "Expired 10 points of 1 members"
    job, message = run(session, tenant, "loyalty_birthday_bonuses")
    expected = 1 if birthday.day == today.day else 0
    assert job.status == JobStatus.SUCCEEDED
    assert message == f"Birthday bonus for {expected} members"


def test_a_job_without_a_program_fails_with_the_message(session, tenant):
    job, _ = run(session, tenant, "loyalty_credit_orders")
    assert job.status == JobStatus.FAILED and "no loyalty program" in job.error


def test_a_merge_moves_points_history_and_codes_to_the_winner(session, tenant):
    make_program(session, tenant, tiers=METALS)
    winner, loser = make_contact(session, tenant), make_contact(session, tenant)
    make_order(session, tenant, winner, 30000)
    make_order(session, tenant, loser, 40000)
    credit_orders(session=session, tenant_id=tenant.id)
    redeem_points(
        session=session, tenant_id=tenant.id, contact_id=loser.id, points=100, idempotency_key="r"
    )
    session.commit()
    merge_loyalty(session=session, tenant_id=tenant.id, winner_id=winner.id, loser_id=loser.id)
    session.commit()
    account = account_of(session, tenant, winner)
    assert (account.balance, account.lifetime_earned, account.tier) == (600, 700, "Silver")
    assert account_of(session, tenant, loser) is None and entries_of(session, tenant, loser) == []
    card = account_summary(session=session, tenant_id=tenant.id, contact_id=winner.id)
    assert card.history_total == 3
    assert credit_orders(session=session, tenant_id=tenant.id).orders_credited == 0
    adjust_points(
        session=session,
        tenant_id=tenant.id,
        contact_id=winner.id,
        points=-600,
        adjustment_id="a",
        reason="test",
    )
    assert_ledger_consistent(session, tenant)


def test_a_tier_reached_in_a_job_moves_segment_membership_in_the_same_job(session, tenant):
    from sqlmodel import select

    from marketing_app.models import SegmentMember
    from marketing_app.services import segments
    from marketing_app.services.loyalty_programs import preset_settings, save_program

    save_program(session=session, tenant_id=tenant.id, settings=preset_settings("metals"))
    gold = segments.create_segment(
        session=session,
        tenant_id=tenant.id,
        name="Gold or higher",
        definition={
            "root": {
                "kind": "group",
                "op": "and",
                "children": [
                    {"kind": "loyalty", "field": "tier", "op": "at_least", "value": "Gold"}
                ],
            }
        },
    )
    big_spender = make_contact(session, tenant)
    make_order(session, tenant, big_spender, 500_000)  # $5,000: past every metals threshold
    session.commit()
    job, _ = run(session, tenant, "loyalty_credit_orders")
    assert job.status == JobStatus.SUCCEEDED
    members = session.exec(
        select(SegmentMember.contact_id).where(SegmentMember.segment_id == gold.id)
    ).all()
    assert list(members) == [big_spender.id]
