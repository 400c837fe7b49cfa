"""Static lists: manual add/remove with history, CSV import with dedupe, CSV export."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import Contact, JobRun, JobStatus, SegmentMembershipChange
from marketing_app.services import segments, static_lists
from marketing_app.services.job_execution import run_job
from marketing_app.services.profiles import save_profile


def _profile(session, tenant, email):
    return save_profile(
        session=session,
        tenant_id=tenant.id,
        contact_id=None,
        fields={"email": email, "first_name": email.split("@")[0].title()},
    )


@pytest.fixture
def vip_list(session, tenant):
    vip = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Tasting guests", kind="static"
    )
    session.commit()
    return vip


def test_add_and_remove_keep_history_and_skip_strangers(session, tenant, other_tenant, vip_list):
    ann, bob = (
        _profile(session, tenant, "ann@example.com"),
        _profile(session, tenant, "bob@example.com"),
    )
    stranger = _profile(session, other_tenant, "eve@example.com")
    added = static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=vip_list.id,
        contact_ids=[ann.id, bob.id, stranger.id, ann.id],
    )
    assert added == 2 and vip_list.member_count == 2
    assert (
        static_lists.add_members(
            session=session, tenant_id=tenant.id, list_id=vip_list.id, contact_ids=[ann.id]
        )
        == 0
    )
    assert (
        static_lists.remove_members(
            session=session, tenant_id=tenant.id, list_id=vip_list.id, contact_ids=[bob.id]
        )
        == 1
    )
    session.commit()
    members, total = segments.segment_members(
        session=session, tenant_id=tenant.id, segment_id=vip_list.id
    )
    assert total == 1 and members[0]["email"] == "ann@example.com"
    history = session.exec(
        select(SegmentMembershipChange.contact_id, SegmentMembershipChange.change).where(
            SegmentMembershipChange.segment_id == vip_list.id
        )
    ).all()
    assert sorted(history) == sorted([(ann.id, "entered"), (bob.id, "entered"), (bob.id, "exited")])
    with pytest.raises(NotFound):
        static_lists.add_members(
            session=session,
            tenant_id=other_tenant.id,
            list_id=vip_list.id,
            contact_ids=[stranger.id],
        )


def test_dynamic_segments_refuse_manual_members(session, tenant):
    dynamic = segments.create_segment(session=session, tenant_id=tenant.id, name="Everyone")
    with pytest.raises(InvalidInput, match="static list"):
        static_lists.add_members(
            session=session, tenant_id=tenant.id, list_id=dynamic.id, contact_ids=[1]
        )


def test_csv_import_into_a_list_dedupes_and_reports_then_exports(session, tenant, vip_list):
    existing = _profile(session, tenant, "ann@example.com")
    session.commit()
    content = (
        b"email,first_name\nANN@example.com,Ann\nnew@example.com,Nia\n"
        b"new@example.com,Nia again\nnot-an-email,Bad\n"
    )
    job = static_lists.start_list_import(
        session=session,
        tenant_id=tenant.id,
        list_id=vip_list.id,
        filename="guests.csv",
        content=content,
    )
    session.commit()
    run_job(session=session, job_id=job.id)
    session.expire_all()
    job = session.get(JobRun, job.id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.result["added_to_list"] == 2 and job.result["rejected_count"] == 1
    count = session.exec(select(Contact).where(Contact.tenant_id == tenant.id)).all()
    assert len(count) == 2  # ann reused, new@ created once
    exported = list(
        csv.DictReader(
            io.StringIO(
                static_lists.export_members_csv(
                    session=session, tenant_id=tenant.id, segment_id=vip_list.id
                )
            )
        )
    )
    assert sorted(r["email"] for r in exported) == ["ann@example.com", "new@example.com"]
    assert any(r["email"] == existing.email for r in exported)
