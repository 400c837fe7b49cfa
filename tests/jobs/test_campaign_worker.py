"""Real Celery workers send a campaign to a real SMTP server; one is killed mid-send.

The SMTP server can close a gate: from the Nth message on it holds DATA unanswered (a slow
relay), so the worker is stuck with a batch in flight. The test then SIGKILLs the whole
worker (no acknowledgement, no cleanup), drops the held messages as a relay does when the
client vanishes, starts a second worker, and checks that every recipient received exactly
one email once the killed worker's lease ran out.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import Session, select

from jobs.celery_app import app as celery_app
from jobs.dispatch import enqueue_campaign_start
from marketing_app.db import get_engine
from marketing_app.models import Campaign, CampaignStatus, Contact, EmailMessage
from marketing_app.models import MessageStatus as MS
from marketing_app.services import campaign_lifecycle, campaigns, segments, static_lists
from marketing_app.services.email_provider_config import save_email_provider
from tests.conftest import ROOT
from tests.fakes.smtp_sink import _free_port as free_port

pytestmark = pytest.mark.worker
RECIPIENTS = 300
BATCH = 50
GATE_AT = 100  # a multiple of BATCH: the third batch is the one in flight at the kill
WAIT_SECONDS = 120


class GatedSink:
    """An aiosmtpd server counting deliveries per recipient; `close_gate_at` holds DATA."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.gate_at: int | None = None
        self.dropping = False
        self.held = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        while True:
            with self.lock:
                total = sum(self.received.values())
                if self.gate_at is None or total < self.gate_at:
                    for rcpt in envelope.rcpt_tos:
                        self.received[rcpt] += 1
                    return "250 OK"
                if self.dropping:
                    return "451 try again later"  # never recorded: the client is gone
                self.held += 1
            await asyncio.sleep(0.05)
            with self.lock:
                self.held -= 1

    def __enter__(self) -> GatedSink:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


def _start_worker(
    name: str, *, beat: bool = True, processes: int = 1, env: dict | None = None
) -> subprocess.Popen:
    env = os.environ | {
        "BEAT_INTERVAL_SECONDS": "1",
        "SEGMENT_REFRESH_MINUTES": "0",
        "LOYALTY_SYNC_MINUTES": "0",
        "EMAIL_LEASE_SECONDS": "4",
        "EMAIL_BATCH_SIZE": str(BATCH),
        **(env or {}),
    }
    scratch = tempfile.mkdtemp(prefix=f"campaign-{name}-")
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "jobs.celery_app",
        "worker",
        *(["--beat", "-s", os.path.join(scratch, "beat")] if beat else []),
        f"--concurrency={processes}",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "-n",
        f"{name}@%h",
    ]
    log = open(os.path.join(scratch, "worker.log"), "w+b")  # noqa: SIM115 (kept with the process)
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    process.log = log  # type: ignore[attr-defined]
    return process


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _log(process) -> str:
    process.log.seek(0)
    return process.log.read().decode(errors="replace")[-3000:]


def _sent_rows(campaign_id: int) -> int:
    with Session(get_engine()) as fresh:
        rows = fresh.exec(
            select(EmailMessage.status).where(EmailMessage.campaign_id == campaign_id)
        ).all()
    return sum(status == MS.SENT for status in rows)


def _campaign_status(campaign_id: int) -> str:
    with Session(get_engine()) as fresh:
        return fresh.get(Campaign, campaign_id).status


def _wait(condition, what: str, process) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}:\n{_log(process)}")


def _scheduled_campaign(session, tenant, sink_port: int) -> Campaign:
    tenant.postal_address = "1 Main St, Raleigh, NC 27601"
    people = [
        Contact(
            tenant_id=tenant.id, email=f"r{i}@example.com", first_name=f"R{i}", email_consent=True
        )
        for i in range(RECIPIENTS)
    ]
    session.add_all([tenant, *people])
    session.flush()
    audience = segments.create_segment(
        session=session, tenant_id=tenant.id, name="All", kind="static"
    )
    static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=audience.id,
        contact_ids=[p.id for p in people],
    )
    save_email_provider(
        session=session,
        tenant_id=tenant.id,
        provider="smtp",
        secret="",
        config={"host": "127.0.0.1", "port": sink_port, "security": "none", "pool_size": 10},
    )
    campaign = campaigns.create_campaign(
        session=session,
        tenant_id=tenant.id,
        name="Crash test",
        from_email="shop@example.com",
        audience={"segment_ids": [audience.id]},
        content={"variants": [{"subject": "Hi {{ first_name }}", "html": "<p>Hello</p>"}]},
    )
    campaign_lifecycle.schedule_campaign(
        session=session,
        tenant_id=tenant.id,
        campaign_id=campaign.id,
        now=datetime.now(UTC),
    )
    session.commit()
    return campaign


def test_killed_worker_mid_send_every_recipient_gets_exactly_one_email(session, tenant):
    with GatedSink() as sink:
        sink.gate_at = GATE_AT
        campaign = _scheduled_campaign(session, tenant, sink.port)
        first = _start_worker("first")
        try:
            # The first two batches are accepted and recorded; the third hangs at the gate.
            _wait(
                lambda: _sent_rows(campaign.id) == GATE_AT and sink.held > 0,
                "a batch in flight at the gate",
                first,
            )
        finally:
            _stop(first, signal.SIGKILL)
        assert sum(sink.received.values()) == GATE_AT
        sink.dropping = True  # the dead client's held messages are never delivered
        time.sleep(0.3)
        sink.gate_at, sink.dropping = None, False
        second = _start_worker("second")
        try:
            _wait(
                lambda: _campaign_status(campaign.id) == CampaignStatus.SENT,
                "the campaign to finish",
                second,
            )
        finally:
            _stop(second)
    expected = {f"r{i}@example.com" for i in range(RECIPIENTS)}
    assert set(sink.received) == expected
    assert [r for r, n in sink.received.items() if n != 1] == []
    assert _sent_rows(campaign.id) == RECIPIENTS


def test_send_now_starts_at_once_without_waiting_for_the_beat(session, tenant):
    """ "Send now" hands the start to a worker: with no beat running at all, the campaign is
    started and sent, each recipient once. Its first 2 x 50 rows are written first, the
    senders start on them in the second process while the start writes the rest."""
    with GatedSink() as sink:
        # Ticks an earlier test's beat queued and no worker took would start it the tick's way.
        celery_app.control.purge()
        campaign = _scheduled_campaign(session, tenant, sink.port)  # scheduled for now
        enqueue_campaign_start(campaign.id)  # what the API's and the page's Send now do next
        worker = _start_worker(
            "no-beat", beat=False, processes=2, env={"EMAIL_FIRST_ROWS_PER_SENDER": "50"}
        )
        try:
            _wait(
                lambda: _campaign_status(campaign.id) == CampaignStatus.SENT,
                "the campaign to be sent without a tick",
                worker,
            )
        finally:
            _stop(worker)
    assert sorted(sink.received.values()) == [1] * RECIPIENTS
    assert _sent_rows(campaign.id) == RECIPIENTS
    with Session(get_engine()) as fresh:  # written once its senders were on their way
        summary = fresh.get(Campaign, campaign.id).send_summary
        written_at = Counter(
            fresh.exec(
                select(EmailMessage.created_at).where(EmailMessage.campaign_id == campaign.id)
            ).all()
        )
    assert (summary["messages"], summary["to_send"], summary["audience"]) == (300, 300, 300)
    parts = [100, 200] if session.get_bind().dialect.name == "postgresql" else [300]
    assert sorted(written_at.values()) == parts  # the first part, then the rest
