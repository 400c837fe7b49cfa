"""A "Send now" writes its first recipients' rows, starts sending, and writes the rest in
chunks behind the senders: each recipient still gets one row, the campaign is not sent
before the last chunk, a dead writer's rest is written by the tick, cancel stops it."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from marketing_app.db import get_engine
from marketing_app.domain.email import SendOutcome
from marketing_app.models import Campaign, CampaignStatus, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.services import campaign_lifecycle, campaign_schedule, campaign_send
from marketing_app.services import campaign_send_rows as rows
from marketing_app.services.message_claims import (
    claim_messages,
    finish_if_done,
    record_results,
    send_progress,
)
from tests.services.test_campaign_send import NOW, _contact, _list, _scheduled


@pytest.fixture(autouse=True)
def _postgresql_only(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("rows go in parts on PostgreSQL only (SQLite has one write lock)")


@pytest.fixture
def crowd(session, tenant):
    """Seven who get mail, around two who do not (no consent), in id order."""
    people = [_contact(session, tenant, f"p{i}@example.com") for i in range(4)]
    people.append(_contact(session, tenant, "no@example.com", consent=False))
    people += [_contact(session, tenant, f"p{i}@example.com") for i in range(4, 7)]
    people.append(_contact(session, tenant, "no2@example.com", consent=False))
    return people


CONTENT = {"variants": [{"subject": "Hi {{ first_name }}", "html": "<p>Specials</p>"}]}


def _started(session, tenant, people, first_part=3, **fields) -> Campaign:
    tenant.postal_address = "1 Main St, Raleigh, NC 27601"
    audience = _list(session, tenant, people, name=f"List {uuid.uuid4().hex[:6]}")
    fields.setdefault("content", CONTENT)
    campaign = _scheduled(session, tenant, [audience.id], **fields)
    start = campaign_send.start_send(
        session=session, campaign_id=campaign.id, now=NOW, summarize=False, first_part=first_part
    )
    assert start.started
    session.commit()
    return campaign


def _recipients(session, campaign) -> list[str]:
    found = session.exec(select(EmailMessage.email).where(EmailMessage.campaign_id == campaign.id))
    return sorted(found.all())


def _send_all_claimable(session, campaign) -> int:
    claimed = claim_messages(session=session, campaign_id=campaign.id, worker="w", limit=100)
    outcomes = [SendOutcome.sent(m.id, "sendgrid", "x") for m in claimed]
    record_results(session=session, worker="w", results=outcomes)
    session.commit()
    return len(claimed)


EVERYONE = sorted(f"p{i}@example.com" for i in range(7))


def test_the_first_recipients_come_first_and_the_rest_in_chunks_each_once(session, tenant, crowd):
    campaign = _started(session, tenant, crowd)
    assert _recipients(session, campaign) == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert campaign.status == CampaignStatus.SENDING and campaign.rows_pending_after == crowd[2].id
    assert rows.write_pending_chunk(session=session, campaign_id=campaign.id, chunk=2)
    session.commit()
    assert len(_recipients(session, campaign)) == 5
    rows.write_pending_rows(session=session, campaign_id=campaign.id, chunk=2)
    rows.write_pending_rows(session=session, campaign_id=campaign.id, chunk=2)  # nothing left
    assert _recipients(session, campaign) == EVERYONE
    session.refresh(campaign)
    assert campaign.rows_pending_after is None


def test_a_row_already_there_does_not_end_the_writing_early(session, tenant, crowd):
    """A merge moves a profile's rows to the survivor, which may lie past the boundary: its
    chunk writes one row fewer than it chose, and the profiles after it still get theirs."""
    campaign = _started(session, tenant, crowd)
    moved = crowd[3]
    session.add(EmailMessage(tenant_id=tenant.id, campaign_id=campaign.id, contact_id=moved.id,
                             email=moved.email, status=MS.SENT))  # fmt: skip
    session.commit()
    rows.write_pending_rows(session=session, campaign_id=campaign.id, chunk=2)
    assert _recipients(session, campaign) == EVERYONE


def test_a_send_is_not_finished_while_its_rows_are_still_being_written(session, tenant, crowd):
    campaign = _started(session, tenant, crowd)
    assert _send_all_claimable(session, campaign) == 3
    assert send_progress(session=session, tenant_id=tenant.id, campaign_id=campaign.id)["writing"]
    assert not finish_if_done(session=session, campaign_id=campaign.id)
    session.commit()
    rows.write_pending_rows(session=session, campaign_id=campaign.id)
    assert not finish_if_done(session=session, campaign_id=campaign.id)  # four are queued now
    session.commit()
    assert _send_all_claimable(session, campaign) == 4
    assert finish_if_done(session=session, campaign_id=campaign.id)
    progress = send_progress(session=session, tenant_id=tenant.id, campaign_id=campaign.id)
    assert (progress["sent"], progress["writing"]) == (7, 0)


def _sent_by_console(session, campaign) -> list[str]:
    return session.exec(
        select(EmailMessage.status).where(EmailMessage.campaign_id == campaign.id)
    ).all()


def test_a_sender_waits_for_a_writer_at_work_instead_of_ending(session, tenant, crowd):
    """A sender that finds nothing to claim (the first part is sent) while the writer holds
    the campaign (writing a chunk: here for 0.5 s) waits for it and sends it too."""
    campaign = _started(session, tenant, crowd, first_part=2)
    assert _send_all_claimable(session, campaign) == 2
    locked = threading.Event()

    def write_slowly() -> None:
        with Session(get_engine()) as writer:
            writer.exec(select(Campaign).where(Campaign.id == campaign.id).with_for_update())
            locked.set()
            time.sleep(0.5)
            rows.write_pending_rows(session=writer, campaign_id=campaign.id)

    thread = threading.Thread(target=write_slowly)
    thread.start()
    locked.wait(5)
    sent = campaign_schedule.run_sender(
        session=session, campaign_id=campaign.id, worker="w", budget_seconds=20
    )
    thread.join()
    session.refresh(campaign)
    assert sent == 5 and campaign.status == CampaignStatus.SENT  # the console outbox took all
    assert sorted(_sent_by_console(session, campaign)) == [MS.DELIVERED] * 5 + [MS.SENT] * 2


def test_a_sender_whose_writer_is_gone_writes_the_rest_itself(session, tenant, crowd):
    """Nobody holds the campaign and rows are pending (the start's writer died): the sender
    does not wait out its budget for the tick (on a one-process worker the tick waits for
    it); it writes the rest and sends it."""
    campaign = _started(session, tenant, crowd, first_part=2)
    sent = campaign_schedule.run_sender(
        session=session, campaign_id=campaign.id, worker="w", budget_seconds=3
    )
    session.refresh(campaign)
    assert sent == 7 and campaign.status == CampaignStatus.SENT
    assert campaign.rows_pending_after is None and campaign.send_summary["to_send"] == 7


def test_the_tick_writes_the_rest_of_a_writer_that_died_but_not_of_a_live_one(
    session, tenant, crowd
):
    campaign = _started(session, tenant, crowd)
    with Session(get_engine()) as live_writer:  # holds the lock, as one writing a chunk does
        live_writer.exec(select(Campaign).where(Campaign.id == campaign.id).with_for_update())
        with Session(get_engine()) as ticking:
            ticking.execute(text("SET lock_timeout = '2s'"))  # waiting would fail the test
            assert campaign.id not in campaign_schedule.tick_campaigns(session=ticking).rows_written
    assert len(_recipients(session, campaign)) == 3
    # Nobody holds it now: the writer is gone.
    with Session(get_engine()) as ticking:
        assert campaign.id in campaign_schedule.tick_campaigns(session=ticking).rows_written
    assert _recipients(session, campaign) == EVERYONE
    session.refresh(campaign)
    assert campaign.rows_pending_after is None
    assert campaign.send_summary["messages"] == campaign.send_summary["to_send"] == 7


def test_cancel_stops_the_rest_and_pause_does_not(session, tenant, crowd):
    paused = _started(session, tenant, crowd)
    campaign_lifecycle.pause_campaign(session=session, tenant_id=tenant.id, campaign_id=paused.id)
    session.commit()
    rows.write_pending_rows(session=session, campaign_id=paused.id)
    assert _recipients(session, paused) == EVERYONE  # resuming sends them all

    cancelled = _started(session, tenant, crowd)
    campaign_lifecycle.cancel_campaign(
        session=session, tenant_id=tenant.id, campaign_id=cancelled.id
    )
    session.commit()
    rows.write_pending_rows(session=session, campaign_id=cancelled.id)
    assert len(_recipients(session, cancelled)) == 3
    statuses = session.exec(
        select(EmailMessage.status).where(EmailMessage.campaign_id == cancelled.id)
    ).all()
    assert statuses == [MS.SKIPPED] * 3 and cancelled.rows_pending_after is None


def test_local_times_and_ab_tests_write_every_row_at_the_start(session, tenant, crowd):
    """Their rows get due times or variants after they are written: never sent half-made."""
    local = _started(
        session, tenant, crowd, schedule={"mode": "local", "send_at": NOW.isoformat(),
                                           "local_time": "09:00"},
    )  # fmt: skip
    assert _recipients(session, local) == EVERYONE and local.rows_pending_after is None
    content = {"variants": [{"key": "A", "subject": "a"}, {"key": "B", "subject": "b"}]}
    tested = _started(
        session, tenant, crowd, content=content, ab_test={"enabled": True, "test_percent": 50}
    )
    assert _recipients(session, tested) == EVERYONE and tested.rows_pending_after is None


def test_a_tenants_writing_leaves_other_tenants_campaigns_alone(
    session, tenant, other_tenant, crowd
):
    ours = _started(session, tenant, crowd)
    theirs_people = [_contact(session, other_tenant, f"t{i}@example.com") for i in range(5)]
    theirs = _started(session, other_tenant, theirs_people, first_part=2)
    rows.write_pending_rows(session=session, campaign_id=ours.id)
    assert _recipients(session, ours) == EVERYONE
    assert _recipients(session, theirs) == ["t0@example.com", "t1@example.com"]
    session.refresh(theirs)
    assert theirs.rows_pending_after == theirs_people[1].id
