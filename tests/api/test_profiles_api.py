"""Profiles through the management API: CRUD, search, timeline, validation and tenancy."""

from __future__ import annotations

import uuid

from marketing_app.services.event_processing import process_pending_events
from marketing_app.services.ingestion import ingest_messages
from tests.api.conftest import issue_key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_create_read_update_search_delete(client, session, tenant, secret_key):
    headers = bearer(secret_key)
    created = client.post(
        "/api/v1/profiles",
        headers=headers,
        json={
            "email": " Zoe@Example.COM ",
            "phone": "(704) 555-0142",
            "first_name": "Zoe",
            "traits": {"territory": "Triad"},
        },
    )
    assert created.status_code == 201
    profile = created.json()
    assert (profile["email"], profile["phone"]) == ("zoe@example.com", "+17045550142")
    pid = profile["id"]
    assert (
        client.patch(
            f"/api/v1/profiles/{pid}", headers=headers, json={"last_name": "Quinn"}
        ).json()["last_name"]
        == "Quinn"
    )
    found = client.get("/api/v1/profiles?search=zoe quinn", headers=headers).json()
    assert found["total"] == 1 and found["items"][0]["traits"] == {"territory": "Triad"}
    assert client.get("/api/v1/profiles?search=5550142", headers=headers).json()["total"] == 1
    assert client.delete(f"/api/v1/profiles/{pid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/profiles/{pid}", headers=headers).status_code == 404


def test_bad_profile_input_gets_clear_4xx(client, secret_key):
    headers = bearer(secret_key)
    bad_email = client.post("/api/v1/profiles", headers=headers, json={"email": "nope"})
    assert bad_email.status_code == 422 and bad_email.json()["field"] == "email"
    assert (
        client.post("/api/v1/profiles", headers=headers, json={"first_name": "X"}).status_code
        == 422
    )
    unknown = client.post("/api/v1/profiles", headers=headers, json={"email": "a@b.co", "bogus": 1})
    assert unknown.status_code == 422
    client.post("/api/v1/profiles", headers=headers, json={"email": "dup@b.co"})
    other = client.post("/api/v1/profiles", headers=headers, json={"email": "other@b.co"}).json()
    clash = client.patch(
        f"/api/v1/profiles/{other['id']}", headers=headers, json={"email": "dup@b.co"}
    )
    assert clash.status_code == 409
    nul = client.post(
        "/api/v1/profiles", headers=headers, json={"email": "nul@b.co", "first_name": "A\x00"}
    )
    from marketing_app.db import get_engine

    # PostgreSQL text cannot hold NUL: the database refuses it and the client hears 422.
    postgres = get_engine().dialect.name == "postgresql"
    assert nul.status_code == (422 if postgres else 201), nul.text


def test_timeline_shows_tracked_events(client, session, tenant, secret_key):
    ingest_messages(
        session=session,
        tenant_id=tenant.id,
        messages=[
            {
                "type": "identify",
                "userId": "t-1",
                "traits": {"email": "t1@example.com"},
                "messageId": "a",
                "timestamp": "2026-11-05T11:00:00Z",
            },
            {
                "type": "track",
                "userId": "t-1",
                "event": "Product Viewed",
                "messageId": "b",
                "properties": {"sku": "X1"},
                "timestamp": "2026-11-05T12:00:00Z",
            },
        ],
    )
    session.commit()
    process_pending_events(session=session, tenant_id=tenant.id)
    [profile] = client.get(
        "/api/v1/profiles?search=t1@example.com", headers=bearer(secret_key)
    ).json()["items"]
    timeline = client.get(
        f"/api/v1/profiles/{profile['id']}/events", headers=bearer(secret_key)
    ).json()
    assert [item["title"] for item in timeline] == [
        "Product Viewed",
        "Identify",
    ]  # no page: no visit
    assert timeline[0]["detail"] == "sku: X1"


def test_other_tenants_profiles_are_404_and_never_listed(
    client, session, tenant, other_tenant, secret_key
):
    theirs = client.post(
        "/api/v1/profiles",
        headers=bearer(issue_key(session, other_tenant)),
        json={"email": "theirs@example.com"},
    ).json()
    for method in ("get", "delete"):
        assert (
            getattr(client, method)(
                f"/api/v1/profiles/{theirs['id']}", headers=bearer(secret_key)
            ).status_code
            == 404
        )
    assert (
        client.patch(
            f"/api/v1/profiles/{theirs['id']}", headers=bearer(secret_key), json={"first_name": "X"}
        ).status_code
        == 404
    )
    assert (
        client.get(
            f"/api/v1/profiles/{theirs['id']}/events", headers=bearer(secret_key)
        ).status_code
        == 404
    )
    assert client.get("/api/v1/profiles", headers=bearer(secret_key)).json()["total"] == 0
    publishable = issue_key(session, tenant, "publishable")
    assert client.get("/api/v1/profiles", headers=bearer(publishable)).status_code == 401


def test_csv_import_through_the_api_reports_on_the_job(client, session, tenant, secret_key):
    from marketing_app.services.job_execution import run_job

    body = b"email,first_name\nvia-api@example.com,Api\nbroken,Row\n"
    accepted = client.post(
        "/api/v1/profiles/import?filename=api.csv",
        content=body,
        headers={**bearer(secret_key), "Content-Type": "text/csv"},
    )
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    run_job(session=session, job_id=uuid.UUID(job_id))  # what the worker does
    job = client.get(accepted.json()["status_url"], headers=bearer(secret_key)).json()
    assert job["status"] == "succeeded" and job["result"]["created"] == 1
    assert job["result"]["rejected"][0]["line"] == 3
    empty = client.post("/api/v1/profiles/import", content=b"", headers=bearer(secret_key))
    assert empty.status_code == 422 and empty.json()["field"] == "file"
