"""Sample data requests: validated, born claimed, scoped to the tenant."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import InvalidInput, NotFound
from marketing_app.models import JobStatus
from marketing_app.services import access, job_runs
from marketing_app.services.sample_data import request_sample_data


def test_request_creates_a_claimed_job_for_the_tenant(session, tenant, other_tenant):
    job = request_sample_data(
        session=session, tenant_id=tenant.id, tenant_slug=tenant.slug, kind="wine", size="medium"
    )
    session.commit()
    assert (job.status, job.params["scale"], job.label) == (
        JobStatus.ENQUEUED,
        0.5,
        "Sample data: wine, medium",
    )
    assert job_runs.list_job_runs(session=session, tenant_id=other_tenant.id) == []


@pytest.mark.parametrize(
    ("kind", "size", "field"), [("casino", "small", "kind"), ("wine", "huge", "size")]
)
def test_unknown_kind_or_size_is_refused(session, tenant, kind, size, field):
    with pytest.raises(InvalidInput) as refused:
        request_sample_data(
            session=session, tenant_id=tenant.id, tenant_slug=tenant.slug, kind=kind, size=size
        )
    assert refused.value.field == field


def test_malformed_ids_are_not_found():
    with pytest.raises(NotFound):
        access.parse_id("'; drop table users; --")
