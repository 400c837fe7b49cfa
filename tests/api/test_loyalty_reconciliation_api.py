"""Loyalty reconciliation through the management API: queue a run, review with filters and
paging, resolve one, accept many, alert settings; refusals answer 4xx; tenants stay apart."""

from __future__ import annotations

import uuid

import pytest
from sqlmodel import select

from marketing_app.models import JobRun, JobStatus, LoyaltyLedgerEntry
from marketing_app.services.job_execution import run_job
from tests.api.conftest import issue_key
from tests.api.test_loyalty_api import bearer
from tests.factories import make_tenant
from tests.services.test_loyalty_reconciliation import alpine, customer
from tests.services.test_loyalty_support import account_of, make_program

BASE = "/api/v1/loyalty"


@pytest.fixture
def headers(secret_key) -> dict[str, str]:
    return bearer(secret_key)


@pytest.fixture
def shop(session, tenant):
    make_program(session, tenant)
    ann = customer(session, tenant, 50)
    alpine(session, tenant, ann, 120)  # missing visits, 140% over
    bob = customer(session, tenant, 100)
    alpine(session, tenant, bob, 104)  # 4%: under the threshold
    return tenant, ann, bob


def reconcile_through_api(client, session, headers) -> dict:
    queued = client.post(f"{BASE}/reconcile", headers=headers)
    assert queued.status_code == 202, queued.text
    job_id = uuid.UUID(queued.json()["job_id"])
    assert queued.json()["status_url"] == f"/api/v1/jobs/{job_id}"
    run_job(session=session, job_id=job_id)  # what the worker does
    session.expire_all()
    job = session.get(JobRun, job_id)
    assert job.status == JobStatus.SUCCEEDED, job.error
    return job.result


def test_queue_review_and_resolve(client, session, shop, headers):
    tenant, ann, bob = shop
    result = reconcile_through_api(client, session, headers)
    assert (result["compared"], result["discrepancies"], result["over_threshold"]) == (2, 2, 1)

    page = client.get(f"{BASE}/discrepancies", headers=headers).json()
    assert page["total"] == 2 and [item["contact_id"] for item in page["items"]] == [ann.id, bob.id]
    first = page["items"][0]
    assert (first["kind"], first["difference"], first["over_threshold"]) == (
        "missing_visits",
        70,
        True,
    )
    over = client.get(f"{BASE}/discrepancies?over_threshold_only=true", headers=headers).json()
    assert [item["id"] for item in over["items"]] == [first["id"]]
    second = client.get(f"{BASE}/discrepancies?limit=1&offset=1", headers=headers).json()
    assert (second["total"], second["items"][0]["contact_id"]) == (2, bob.id)
    summary = client.get(f"{BASE}/discrepancies/summary", headers=headers).json()
    assert (summary["open"], summary["over_threshold"], summary["source_of_truth"]) == (
        2,
        1,
        "orders",
    )
    assert summary["by_kind"]["missing_visits"] == 2 and summary["last_reconciled_at"]

    decided = client.post(
        f"{BASE}/discrepancies/{first['id']}/resolve",
        headers=headers,
        json={"resolution": "accept_external", "reason": "in-store visits"},
    )
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["status"], body["resolved_points"], body["reason"]) == (
        "resolved",
        120,
        "in-store visits",
    )
    assert body["resolved_by"].startswith("API key sk_")
    assert account_of(session, tenant, ann).balance == 120
    again = client.post(
        f"{BASE}/discrepancies/{first['id']}/resolve",
        headers=headers,
        json={"resolution": "accept_external", "reason": "in-store visits"},
    )
    assert again.status_code == 409 and "already resolved" in again.json()["detail"]
    entries = session.exec(
        select(LoyaltyLedgerEntry).where(
            LoyaltyLedgerEntry.tenant_id == tenant.id, LoyaltyLedgerEntry.source == "reconciliation"
        )
    ).all()
    assert [(e.contact_id, e.points) for e in entries] == [(ann.id, 70)]

    accepted = client.post(
        f"{BASE}/discrepancies/bulk-accept",
        headers=headers,
        json={"ids": [item["id"] for item in page["items"]], "reason": "weekly review"},
    )
    assert accepted.status_code == 200 and accepted.json() == {"resolved": 1}
    resolved = client.get(f"{BASE}/discrepancies?status=resolved", headers=headers).json()
    assert resolved["total"] == 2
    assert client.get(f"{BASE}/discrepancies", headers=headers).json()["total"] == 0


def test_bad_requests_answer_4xx_and_change_nothing(client, session, shop, headers):
    tenant, ann, _ = shop
    reconcile_through_api(client, session, headers)
    item = client.get(f"{BASE}/discrepancies", headers=headers).json()["items"][0]
    url = f"{BASE}/discrepancies/{item['id']}/resolve"
    refusals = [
        ({"resolution": "accept_external", "reason": ""}, "reason"),
        ({"resolution": "accept_external", "reason": "x\x00"}, "reason"),
        ({"resolution": "adjust", "reason": "typo"}, "points"),
        ({"resolution": "keep_ours", "reason": "ok", "points": 5}, "points"),
    ]
    for body, field in refusals:
        answer = client.post(url, headers=headers, json=body)
        assert answer.status_code == 422 and answer.json()["field"] == field, answer.text
    for body in (
        {"resolution": "adjust", "reason": "r", "points": -1},
        {"resolution": "overwrite", "reason": "r"},
        {"resolution": "keep_ours", "reason": "r", "extra": 1},
    ):
        assert client.post(url, headers=headers, json=body).status_code == 422
    assert client.post(f"{BASE}/discrepancies/999999999/resolve", headers=headers, json={
        "resolution": "keep_ours", "reason": "r"}).status_code == 404  # fmt: skip
    assert client.get(f"{BASE}/discrepancies?status=closed", headers=headers).status_code == 422
    assert client.get(f"{BASE}/discrepancies?kind=typo", headers=headers).status_code == 422
    assert client.get(f"{BASE}/discrepancies?limit=0", headers=headers).status_code == 422
    empty = client.post(f"{BASE}/discrepancies/bulk-accept", headers=headers, json={"ids": []})
    assert empty.status_code == 422
    assert client.get(f"{BASE}/discrepancies").status_code == 401
    publishable = bearer(issue_key(session, tenant, kind="publishable"))
    assert client.get(f"{BASE}/discrepancies", headers=publishable).status_code == 401
    assert account_of(session, tenant, ann).balance == 50
    assert client.get(f"{BASE}/discrepancies", headers=headers).json()["total"] == 2


def test_alert_settings_round_trip(client, headers):
    assert client.get(f"{BASE}/alerts", headers=headers).json() == {
        "emails": [],
        "webhook": "",
        "has_webhook": False,
    }
    saved = client.put(
        f"{BASE}/alerts",
        headers=headers,
        json={
            "emails": ["Owner@Leaf.example"],
            "webhook_url": "https://discord.com/api/webhooks/1/abcd",
        },
    )
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "emails": ["owner@leaf.example"],
        "webhook": "https://discord.com/••••abcd",
        "has_webhook": True,
    }
    for body, field in (
        ({"emails": ["nobody"]}, "emails"),
        ({"emails": [], "webhook_url": "http://discord.com/api/webhooks/1/abcd"}, "webhook_url"),
    ):
        refused = client.put(f"{BASE}/alerts", headers=headers, json=body)
        assert refused.status_code == 422 and refused.json()["field"] == field
    assert client.get(f"{BASE}/alerts", headers=headers).json()["has_webhook"] is True


def test_without_a_program_reconcile_answers_404(client, headers):
    missing = client.post(f"{BASE}/reconcile", headers=headers)
    assert missing.status_code == 404 and "no loyalty program" in missing.json()["detail"]


def test_another_tenants_key_sees_and_decides_nothing(client, session, shop, headers):
    reconcile_through_api(client, session, headers)
    item = client.get(f"{BASE}/discrepancies", headers=headers).json()["items"][0]
    other = make_tenant(session)
    make_program(session, other)
    theirs = bearer(issue_key(session, other))
    assert client.get(f"{BASE}/discrepancies?status=all", headers=theirs).json()["total"] == 0
    assert client.get(f"{BASE}/discrepancies/summary", headers=theirs).json()["open"] == 0
    answer = client.post(
        f"{BASE}/discrepancies/{item['id']}/resolve",
        headers=theirs,
        json={"resolution": "keep_ours", "reason": "mine now"},
    )
    assert answer.status_code == 404
    bulk = client.post(
        f"{BASE}/discrepancies/bulk-accept",
        headers=theirs,
        json={"ids": [item["id"]], "reason": "r"},
    )
    assert bulk.json() == {"resolved": 0}
    assert client.get(f"{BASE}/discrepancies", headers=headers).json()["total"] == 2
