"""A real Celery worker with its beat: due rows are claimed by the tick and run to completion."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from sqlmodel import Session, select

from jobs.dispatch import enqueue_job_run
from marketing_app.db import get_engine
from marketing_app.models import Contact, JobRun, JobStatus
from marketing_app.services import job_runs
from tests.conftest import ROOT

pytestmark = pytest.mark.worker
WAIT_SECONDS = 90


@pytest.fixture(scope="module")
def worker(migrated_database):
    # No scheduled segment/RFM refresh: it would queue jobs for every tenant other tests left.
    env = os.environ | {"BEAT_INTERVAL_SECONDS": "1", "SEGMENT_REFRESH_MINUTES": "0"}
    scratch = tempfile.mkdtemp()
    schedule = os.path.join(scratch, "beat-schedule")
    log = open(os.path.join(scratch, "worker.log"), "w+b")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "jobs.celery_app",
            "worker",
            "--beat",
            "-s",
            schedule,
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    process.log = log
    yield process
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    log.close()


def _worker_log(worker) -> str:
    worker.log.seek(0)
    return worker.log.read().decode(errors="replace")[-3000:]


def _wait_for_finish(job_id, worker) -> JobRun:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with Session(get_engine()) as session:
            job = session.get(JobRun, job_id)
            if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
                return job
        time.sleep(0.5)
    pytest.fail(f"job {job_id} still {job.status} after {WAIT_SECONDS}s:\n{_worker_log(worker)}")


def _count_contacts(tenant_id) -> int:
    with Session(get_engine()) as session:
        return len(
            session.exec(Contact.__table__.select().where(Contact.tenant_id == tenant_id)).all()
        )


def test_beat_tick_claims_a_due_row_and_the_worker_runs_it(worker, session, tenant):
    job = job_runs.create_job_run(
        session=session,
        tenant_id=tenant.id,
        kind="demo_data",
        label="tick",
        params={"kind": "barbershop", "scale": 0.02},
    )
    session.commit()  # no enqueue: only the tick can find it
    finished = _wait_for_finish(job.id, worker)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    assert finished.claimed_at is not None and finished.attempts == 1
    assert finished.done == finished.total > 0
    assert _count_contacts(tenant.id) == 24


def test_enqueued_job_runs_once_and_reports_progress(worker, session, tenant):
    job = job_runs.create_job_run(
        session=session,
        tenant_id=tenant.id,
        kind="demo_data",
        label="now",
        params={"kind": "wine", "scale": 0.05},
        enqueue_now=True,
    )
    session.commit()
    assert enqueue_job_run(job.id)
    finished = _wait_for_finish(job.id, worker)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    assert finished.attempts == 1 and finished.message.startswith("Added 40 customers")


def test_worker_attaches_tracked_events_to_profiles(worker, session, tenant):
    from jobs.dispatch import enqueue_event_processing
    from marketing_app.services.ingestion import ingest_messages

    ingest_messages(
        session=session,
        tenant_id=tenant.id,
        messages=[
            {
                "type": "identify",
                "userId": "w-1",
                "traits": {"email": "w1@example.com"},
                "messageId": "w1",
            },
        ],
    )
    session.commit()
    enqueue_event_processing(tenant.id)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with Session(get_engine()) as fresh:
            found = fresh.exec(select(Contact).where(Contact.tenant_id == tenant.id)).first()
            if found is not None:
                assert (found.user_id, found.email) == ("w-1", "w1@example.com")
                return
        time.sleep(0.5)
    pytest.fail(f"event not processed in {WAIT_SECONDS}s:\n{_worker_log(worker)}")


def test_a_tracked_event_moves_its_profile_into_a_segment(worker, session, tenant):
    """Ingest -> worker attaches the event -> the same task folds the profile into segments."""
    from jobs.dispatch import enqueue_event_processing
    from marketing_app.models import SegmentMember, SegmentMembershipChange
    from marketing_app.services import segments
    from marketing_app.services.ingestion import ingest_messages

    browsers = segments.create_segment(
        session=session,
        tenant_id=tenant.id,
        name="Viewed a product this week",
        definition={
            "root": {"children": [{"kind": "event", "name": "Product Viewed", "within_days": 7}]}
        },
    )
    job = segments.recompute_job(session=session, segment=browsers)
    session.commit()
    assert enqueue_job_run(job.id)
    assert _wait_for_finish(job.id, worker).message.startswith("0 members")
    ingest_messages(
        session=session,
        tenant_id=tenant.id,
        messages=[
            {
                "type": "track",
                "event": "Product Viewed",
                "userId": "seg-1",
                "messageId": "seg-1-view",
                "properties": {"sku": "SKU-9"},
            }
        ],
    )
    session.commit()
    enqueue_event_processing(tenant.id)
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with Session(get_engine()) as fresh:
            member = fresh.exec(
                select(Contact.user_id)
                .join(SegmentMember, SegmentMember.contact_id == Contact.id)
                .where(SegmentMember.segment_id == browsers.id)
            ).first()
            if member is not None:
                assert member == "seg-1"
                entered = fresh.exec(
                    select(SegmentMembershipChange.change).where(
                        SegmentMembershipChange.segment_id == browsers.id
                    )
                ).all()
                assert entered == ["entered"]
                return
        time.sleep(0.5)
    pytest.fail(f"profile not folded into the segment in {WAIT_SECONDS}s:\n{_worker_log(worker)}")
