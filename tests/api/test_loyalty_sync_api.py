"""POST /api/loyalty/sync (and /api/v1/loyalty/sync) with providers connected: the job it
queues, one customer's sync, and what another tenant can reach."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import func, select

from marketing_app.models import ExternalLoyaltyBalance, JobRun
from marketing_app.services.job_execution import run_job
from tests.api.conftest import issue_key
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq
from tests.services.test_loyalty_aiq_sync import connect as connect_alpineiq
from tests.services.test_loyalty_support import make_contact
from tests.services.test_loyalty_sync import connect as connect_alleaves

PATHS = ["/api/loyalty/sync", "/api/v1/loyalty/sync"]


@pytest.fixture
def headers(client, secret_key) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {secret_key}"}
    saved = client.put("/api/v1/loyalty/program", headers=headers, json={"preset": "alpineiq"})
    assert saved.status_code == 200, saved.text
    return headers


@pytest.fixture
def alpineiq():
    with FakeAlpineIQ(seed_alpineiq(contacts=20)) as fake:
        yield fake


def jobs(session, tenant) -> list[JobRun]:
    session.expire_all()
    return list(session.exec(select(JobRun).where(JobRun.tenant_id == tenant.id)))


@pytest.mark.parametrize("path", PATHS)
def test_a_tenant_sync_is_queued_once_and_runs_both_providers(
    client, session, tenant, headers, alpineiq, path
):
    with FakeAlleaves(seed_alleaves(customers=20, orders=40)) as alleaves:
        connect_alleaves(session, tenant, alleaves)
        connect_alpineiq(session, tenant, alpineiq)

        queued = client.post(path, headers=headers)
        again = client.post(path, headers=headers, json={})

        assert queued.status_code == again.status_code == 202, queued.text
        assert again.json() == queued.json()  # the pending sync, not a second one
        job_id = uuid.UUID(queued.json()["job_id"])
        assert [(j.id, j.kind, j.params) for j in jobs(session, tenant)] == [
            (job_id, "loyalty_sync", {})
        ]
        run_job(session=session, job_id=job_id)  # what the worker does
    status = client.get(queued.json()["status_url"], headers=headers).json()
    assert status["status"] == "succeeded", status
    result = session.get(JobRun, job_id).result
    assert result["pos"]["orders"] == 40 and result["alpineiq"]["balances"] == 20
    assert result["pos"]["orders_created"] + result["pos"]["cancelled_not_stored"] == 40
    after = client.post(path, headers=headers)  # the last one finished: a new sync
    assert after.status_code == 202 and after.json()["job_id"] != str(job_id)


def test_one_customer_with_only_alpine_iq_connected(client, session, tenant, headers, alpineiq):
    connect_alpineiq(session, tenant, alpineiq)
    ann = make_contact(session, tenant, email="customer3@example.com")

    queued = client.post("/api/loyalty/sync", headers=headers, json={"contact_id": ann.id})

    assert queued.status_code == 202, queued.text
    job_id = uuid.UUID(queued.json()["job_id"])
    assert session.get(JobRun, job_id).params == {"contact_id": ann.id}
    run_job(session=session, job_id=job_id)
    session.expire_all()
    job = session.get(JobRun, job_id)
    points = alpineiq.data.contacts[2]["loyaltyPoints"]
    assert job.status == "succeeded", job.error
    assert (job.result["alpineiq_contact_id"], job.result["alpineiq_points"]) == (
        "aiq-0000003",
        points,
    )
    stored = session.exec(
        select(ExternalLoyaltyBalance.points).where(ExternalLoyaltyBalance.contact_id == ann.id)
    ).one()
    assert stored == points
    card = client.get(f"/api/v1/loyalty/profiles/{ann.id}", headers=headers)
    assert card.status_code == 200


def test_another_tenants_customer_or_sync_is_out_of_reach(
    client, session, tenant, other_tenant, headers, alpineiq
):
    connect_alpineiq(session, tenant, alpineiq)
    ann = make_contact(session, tenant)
    theirs = {"Authorization": f"Bearer {issue_key(session, other_tenant)}"}
    client.put("/api/v1/loyalty/program", headers=theirs, json={"preset": "metals"})
    mine = client.post("/api/loyalty/sync", headers=headers)

    refused = client.post("/api/loyalty/sync", headers=theirs, json={"contact_id": ann.id})
    nothing = client.post("/api/loyalty/sync", headers=theirs)  # they connected no provider
    job = client.get(mine.json()["status_url"], headers=theirs)

    assert refused.status_code == 404 and refused.json()["detail"] == "Customer not found."
    assert nothing.status_code == 409
    assert job.status_code == 404
    count = select(func.count()).select_from(JobRun).where(JobRun.tenant_id == other_tenant.id)
    assert session.exec(count).one() == 0


def test_sync_status_says_what_is_connected_and_how_the_last_sync_went(
    client, session, tenant, headers, alpineiq, other_tenant
):
    before = client.get("/api/v1/loyalty/sync", headers=headers).json()
    assert before["configured"] is False and before["job"] is None
    connect_alpineiq(session, tenant, alpineiq)
    queued = client.post("/api/v1/loyalty/sync", headers=headers).json()
    run_job(session=session, job_id=uuid.UUID(queued["job_id"]))
    status = client.get("/api/v1/loyalty/sync", headers=headers)
    assert status.status_code == 200, status.text
    body = status.json()
    assert body["configured"] is True and body["running"] is False
    assert body["alpineiq"]["configured"] is True and body["pos"]["configured"] is False
    assert body["alpineiq"]["last_synced_at"] and body["alpineiq"]["last_error"] is None
    assert body["job"]["id"] == queued["job_id"] and body["job"]["status"] == "succeeded"
    theirs = {"Authorization": f"Bearer {issue_key(session, other_tenant)}"}
    assert client.get("/api/v1/loyalty/sync", headers=theirs).json()["configured"] is False
