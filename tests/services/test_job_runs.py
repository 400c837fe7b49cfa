"""Job rows: due-time claiming, retries, progress, and per-tenant visibility."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from marketing_app.domain.errors import NotFound
from marketing_app.models import JobRun, JobStatus
from marketing_app.models.base import utcnow
from marketing_app.services import job_runs
from marketing_app.services.job_execution import run_job


def _job(session, tenant, **fields) -> JobRun:
    job = job_runs.create_job_run(
        session=session, tenant_id=tenant.id, kind="demo_data", label="x", **fields
    )
    session.commit()
    return job


def test_tick_claims_due_rows_once_and_leaves_future_rows(session, tenant):
    due = _job(session, tenant)
    later = _job(session, tenant, due_at=utcnow() + timedelta(hours=1))
    first = {j.id for j in job_runs.claim_due_job_runs(session=session)}
    second = {j.id for j in job_runs.claim_due_job_runs(session=session)}
    assert due.id in first and later.id not in first
    assert due.id not in second
    session.refresh(due)
    assert due.status == JobStatus.ENQUEUED


def test_row_created_for_immediate_enqueue_is_not_claimed_by_the_tick(session, tenant):
    job = _job(session, tenant, enqueue_now=True)
    assert job.status == JobStatus.ENQUEUED
    assert job.id not in {j.id for j in job_runs.claim_due_job_runs(session=session)}


def test_enqueued_row_whose_message_was_lost_is_claimed_again(session, tenant):
    job = _job(session, tenant, enqueue_now=True)
    stored = session.get(JobRun, job.id)
    stored.claimed_at = utcnow() - timedelta(minutes=11)
    session.add(stored)
    session.commit()
    assert job.id in {j.id for j in job_runs.claim_due_job_runs(session=session)}


def test_released_row_goes_back_to_the_tick(session, tenant):
    job = _job(session, tenant, enqueue_now=True)
    job_runs.release_job_run(session=session, job_id=job.id)
    assert job.id in {j.id for j in job_runs.claim_due_job_runs(session=session)}


def test_running_a_finished_job_again_does_nothing(session, tenant):
    job = _job(session, tenant, params={"kind": "barbershop", "scale": 0.01})
    assert run_job(session=session, job_id=job.id).startswith("Added")
    session.refresh(job)
    assert (job.status, job_runs.progress_percent(job)) == (JobStatus.SUCCEEDED, 100)
    assert job.done == job.total > 0
    assert run_job(session=session, job_id=job.id) is None


def test_failure_is_recorded_with_a_readable_error(session, tenant):
    job = _job(session, tenant, params={"kind": "no-such-business"})
    with pytest.raises(KeyError):
        run_job(session=session, job_id=job.id)
    with Session(session.get_bind()) as fresh:
        stored = fresh.get(JobRun, job.id)
        assert stored.status == JobStatus.FAILED and "no-such-business" in stored.error


def test_retryable_failure_goes_back_to_pending_with_a_delay(session, tenant):
    job = _job(session, tenant)
    job_runs.start_job_run(session=session, job_id=job.id)
    job_runs.fail_job_run(session=session, job_id=job.id, error="timeout", retry=True)
    session.refresh(job)
    assert job.status == JobStatus.PENDING and job.due_at > utcnow()


def test_jobs_of_other_tenants_are_not_found(session, tenant, other_tenant):
    job = _job(session, tenant)
    assert job_runs.get_job_run(session=session, tenant_id=tenant.id, job_id=job.id).id == job.id
    with pytest.raises(NotFound):
        job_runs.get_job_run(session=session, tenant_id=other_tenant.id, job_id=job.id)
    assert job_runs.list_job_runs(session=session, tenant_id=other_tenant.id) == []
