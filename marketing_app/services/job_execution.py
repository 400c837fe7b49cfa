"""Running a claimed job: pick the service for its kind, report progress, record the outcome."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlmodel import Session

from marketing_app.domain.errors import DomainError
from marketing_app.models import JobRun
from marketing_app.services import job_runs, static_lists
from marketing_app.services.auth import purge_expired_sessions
from marketing_app.services.csv_import import run_customer_import
from marketing_app.services.demo_data import generate_business_data
from marketing_app.services.loyalty_jobs import LOYALTY_JOB_KINDS
from marketing_app.services.loyalty_reconcile_jobs import RECONCILE_JOB_KINDS
from marketing_app.services.rfm import compute_rfm
from marketing_app.services.segment_membership import recompute_segment

JobHandler = Callable[[Session, JobRun, Callable[[int, int, str], None]], str]


class RetryableJobError(Exception):
    """A transient failure (provider timeout, lock): the job goes back to pending."""


def _generate_demo_data(session: Session, job: JobRun, progress) -> str:
    summary = generate_business_data(
        session=session,
        tenant_id=job.tenant_id,
        kind=job.params.get("kind", "dispensary"),
        scale=float(job.params.get("scale", 0.2)),
        seed=int(job.params.get("seed", 0)),
        email_domain=job.params.get("email_domain", "sample.example.com"),
        progress=progress,
    )
    session.commit()
    return f"Added {summary.contacts} customers, {summary.orders} orders, {summary.events} events"


def _import_customers(session: Session, job: JobRun, progress) -> str:
    imported: list[int] = []
    report = run_customer_import(
        session=session,
        tenant_id=job.tenant_id,
        file_id=uuid.UUID(job.params["file_id"]),
        progress=progress,
        on_profile=imported.append,
    )
    summary = (
        f"{report['created']} created, {report['updated']} updated, "
        f"{report['rejected_count']} rejected"
    )
    if job.params.get("list_id"):  # a static list import: the rows' profiles join the list
        added = static_lists.add_members(
            session=session,
            tenant_id=job.tenant_id,
            list_id=int(job.params["list_id"]),
            contact_ids=imported,
        )
        report["added_to_list"] = added
        summary += f"; {added} added to the list"
    job_runs.store_result(session=session, job_id=job.id, result=report)
    return summary


def _purge_sessions(session: Session, job: JobRun, progress) -> str:
    return f"Removed {purge_expired_sessions(session=session)} expired sessions"


def _recompute_segment(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Finding the members")
    change = recompute_segment(
        session=session,
        tenant_id=job.tenant_id,
        segment_id=int(job.params["segment_id"]),
        version=job.params.get("version"),
    )
    session.commit()
    if change.stale:
        return "Skipped: the segment changed since; a newer recalculation follows"
    return f"{change.members} members ({change.entered} entered, {change.exited} exited)"


def _compute_rfm(session: Session, job: JobRun, progress) -> str:
    progress(0, 1, "Scoring customers")
    scored = compute_rfm(session=session, tenant_id=job.tenant_id)
    session.commit()
    return f"Scored {scored} customers"


HANDLERS: dict[str, JobHandler] = {
    "segment_recompute": _recompute_segment,
    "rfm_compute": _compute_rfm,
    "demo_data": _generate_demo_data,
    "purge_sessions": _purge_sessions,
    "csv_import": _import_customers,
    **LOYALTY_JOB_KINDS,
    **RECONCILE_JOB_KINDS,
}
JOB_KINDS = sorted(HANDLERS)


def run_job(*, session: Session, job_id: uuid.UUID) -> str | None:
    """Run the job once; safe to call again for a job that already finished (does nothing)."""
    job = job_runs.start_job_run(session=session, job_id=job_id)
    if job is None:
        return None
    handler = HANDLERS.get(job.kind)
    if handler is None:
        job_runs.fail_job_run(
            session=session, job_id=job_id, error=f"Unknown job kind {job.kind}", retry=False
        )
        return None

    def progress(done: int, total: int, message: str) -> None:
        # Commits the job's work so far with its progress: handlers are idempotent, so a
        # partial commit is finished by a rerun, and SQLite allows only one writer anyway.
        job_runs.report_progress(
            session=session, job_id=job_id, done=done, total=total, message=message
        )

    try:
        message = handler(session, job, progress)
    except RetryableJobError as exc:
        job_runs.fail_job_run(session=session, job_id=job_id, error=str(exc), retry=True)
        raise
    except DomainError as exc:
        job_runs.fail_job_run(session=session, job_id=job_id, error=exc.message, retry=False)
        return None
    except Exception as exc:
        job_runs.fail_job_run(
            session=session, job_id=job_id, error=f"{type(exc).__name__}: {exc}", retry=False
        )
        raise
    job_runs.finish_job_run(session=session, job_id=job_id, message=message)
    return message
