"""Management API: secret-key auth, tenant scoping, clear 4xx answers."""

from __future__ import annotations

import uuid

from sqlmodel import select

from marketing_app.models import ApiKey
from marketing_app.services import job_runs
from marketing_app.services.api_keys import revoke_api_key
from marketing_app.services.crypto import token_digest
from marketing_app.services.demo_data import generate_business_data
from marketing_app.settings import get_settings
from tests.api.conftest import issue_key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_health(client):
    assert client.get("/api/health").json() == {"ok": True, "db": True}


def test_secret_key_reads_its_own_tenant(client, tenant, secret_key):
    response = client.get("/api/v1/tenant", headers=bearer(secret_key))
    assert response.status_code == 200
    assert response.json()["slug"] == tenant.slug


def test_basic_auth_with_key_as_username_works_too(client, tenant, secret_key):
    response = client.get("/api/v1/tenant", auth=(secret_key, ""))
    assert response.status_code == 200 and response.json()["id"] == str(tenant.id)


def test_missing_wrong_publishable_and_revoked_keys_get_401(client, session, tenant):
    assert client.get("/api/v1/tenant").status_code == 401
    assert client.get("/api/v1/tenant", headers=bearer("sk_nope")).json()["detail"] == (
        "Unknown or revoked API key."
    )
    publishable = issue_key(session, tenant, "publishable")
    refused = client.get("/api/v1/tenant", headers=bearer(publishable))
    assert (
        refused.status_code == 401
        and "publishable key cannot be used here" in refused.json()["detail"]
    )
    secret = issue_key(session, tenant)

    key_row = session.exec(select(ApiKey).where(ApiKey.key_hash == token_digest(secret))).one()
    revoke_api_key(session=session, tenant_id=tenant.id, key_id=key_row.id)
    session.commit()
    assert client.get("/api/v1/tenant", headers=bearer(secret)).status_code == 401


def test_another_tenants_job_is_404_and_own_job_is_200(
    client, session, tenant, other_tenant, secret_key
):
    mine = job_runs.create_job_run(
        session=session, tenant_id=tenant.id, kind="demo_data", label="mine"
    )
    theirs = job_runs.create_job_run(
        session=session, tenant_id=other_tenant.id, kind="demo_data", label="theirs"
    )
    session.commit()
    assert (
        client.get(f"/api/v1/jobs/{mine.id}", headers=bearer(secret_key)).json()["label"] == "mine"
    )
    assert client.get(f"/api/v1/jobs/{theirs.id}", headers=bearer(secret_key)).status_code == 404
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=bearer(secret_key)).status_code == 404
    listed = client.get("/api/v1/jobs", headers=bearer(secret_key)).json()
    assert [j["label"] for j in listed] == ["mine"]


def test_malformed_input_is_422_not_500(client, secret_key):
    bad_id = client.get("/api/v1/jobs/not-a-uuid", headers=bearer(secret_key))
    assert bad_id.status_code == 422 and bad_id.json()["errors"][0]["field"].endswith("job_id")
    assert client.get("/api/v1/jobs?limit=100000", headers=bearer(secret_key)).status_code == 422


def test_stats_reflect_the_tenants_data_only(client, session, tenant, other_tenant, secret_key):
    generate_business_data(
        session=session, tenant_id=other_tenant.id, kind="barbershop", scale=0.02
    )
    session.commit()
    assert client.get("/api/v1/stats", headers=bearer(secret_key)).json()["customers"] == 0
    other_key = issue_key(session, other_tenant)
    assert client.get("/api/v1/stats", headers=bearer(other_key)).json()["customers"] == 24
    months = client.get("/api/v1/stats/monthly-revenue", headers=bearer(other_key)).json()
    assert len(months) == 12


def test_rate_limit_answers_429_with_retry_after(client, secret_key):
    settings = get_settings()
    original, settings.api_rate_limit = settings.api_rate_limit, "3/minute"
    try:
        codes = [
            client.get("/api/v1/tenant", headers=bearer(secret_key)).status_code for _ in range(4)
        ]
        limited = client.get("/api/v1/tenant", headers=bearer(secret_key))
    finally:
        settings.api_rate_limit = original
    assert codes[:3] == [200, 200, 200] and limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1


def test_openapi_documents_the_management_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/tenant", "/api/v1/jobs/{job_id}", "/api/v1/audit-log"} <= set(paths)
    assert client.get("/docs").status_code == 200
