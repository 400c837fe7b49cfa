"""The loyalty reconciliation as a job: reconcile, commit, alert, report.

job_execution registers RECONCILE_JOB_KINDS. Safe to run twice: a rerun refreshes the same open
discrepancies, and an alert goes out only for discrepancies not alerted yet.
"""

from __future__ import annotations

from sqlmodel import Session

from marketing_app.models import JobRun
from marketing_app.services import job_runs
from marketing_app.services.loyalty_alerts import send_reconciliation_alert
from marketing_app.services.loyalty_reconciliation import reconcile


def _alert_note(alert: dict) -> str:
    if not alert:
        return "no alert due"
    if "skipped" in alert:
        return "no alert channel set up"
    return "alert " + ", ".join(
        f"{channel} {alert[channel]}" for channel in ("email", "webhook") if channel in alert
    )


def _reconcile(session: Session, job: JobRun, progress) -> str:
    progress(0, 2, "Comparing balances")
    result = reconcile(session=session, tenant_id=job.tenant_id)
    session.commit()  # the discrepancies stand whatever the alert does
    progress(1, 2, "Sending alerts")
    alert = send_reconciliation_alert(session=session, tenant_id=job.tenant_id)
    session.commit()
    job_runs.store_result(
        session=session, job_id=job.id, result={**result.summary(), "alert": alert}
    )
    return (
        f"Compared {result.compared:,} customers: {result.discrepancies:,} discrepancies "
        f"({result.new:,} new, {result.over_threshold:,} over the threshold), "
        f"{result.cleared:,} cleared; {_alert_note(alert)}"
    )


RECONCILE_JOB_KINDS = {
    "loyalty_reconcile": _reconcile,  # no params
}
