"""The scheduler: stale segments and RFM get one recompute job each, never a pile of them."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from marketing_app.models import JobRun
from marketing_app.models.base import utcnow
from marketing_app.services import segments
from marketing_app.services.segment_schedule import schedule_due_refreshes


def _jobs(session, tenant, kind):
    return session.exec(
        select(JobRun).where(JobRun.tenant_id == tenant.id, JobRun.kind == kind)
    ).all()


def test_stale_segments_and_rfm_are_scheduled_once(session, tenant, other_tenant):
    fresh = segments.create_segment(session=session, tenant_id=tenant.id, name="Fresh")
    fresh.computed_at = utcnow()
    stale = segments.create_segment(session=session, tenant_id=tenant.id, name="Stale")
    stale.computed_at = utcnow() - timedelta(hours=3)
    never = segments.create_segment(session=session, tenant_id=tenant.id, name="Never")
    listed = segments.create_segment(
        session=session, tenant_id=tenant.id, name="List", kind="static"
    )
    session.add_all([fresh, stale])
    session.commit()
    every = {"segment_every": timedelta(hours=1), "rfm_every": timedelta(hours=24)}
    schedule_due_refreshes(session=session, **every)
    session.commit()
    scheduled = {j.params["segment_id"] for j in _jobs(session, tenant, "segment_recompute")}
    assert scheduled == {stale.id, never.id}
    assert fresh.id not in scheduled and listed.id not in scheduled
    assert len(_jobs(session, tenant, "rfm_compute")) == 1
    assert len(_jobs(session, other_tenant, "rfm_compute")) == 1
    schedule_due_refreshes(session=session, **every)  # jobs still pending: nothing new
    session.commit()
    assert len(_jobs(session, tenant, "segment_recompute")) == 2
    assert len(_jobs(session, tenant, "rfm_compute")) == 1
