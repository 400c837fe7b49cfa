"""Tracking API: Segment-shaped batches, dedupe, limits, key separation, tenancy."""

from __future__ import annotations

import base64
import gzip
import json

from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import ApiKey, Event
from marketing_app.services.api_keys import revoke_api_key
from marketing_app.settings import get_settings
from tests.api.conftest import issue_key


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def stored(session, tenant) -> list[str]:
    session.expire_all()
    query = select(Event.message_id).where(Event.tenant_id == tenant.id).order_by(Event.message_id)
    return list(session.exec(query))


def track(message_id: str, **extra) -> dict:
    return {
        "type": "track",
        "userId": "u-1",
        "event": "Product Viewed",
        "messageId": message_id,
        "timestamp": "2026-11-01T10:00:00Z",
        **extra,
    }


def test_batch_stores_good_events_lists_bad_ones_and_answers_200(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    batch = {
        "batch": [
            track("m1"),
            {"type": "track", "event": "No identity", "messageId": "m2"},
            track("m3", type="teleport"),
            track("m4", timestamp="yesterday-ish"),
            {
                "type": "identify",
                "anonymousId": "a-1",
                "traits": {"email": "x@y.com"},
                "messageId": "m5",
            },
        ]
    }
    response = client.post("/v1/batch", json=batch, headers=basic(key))
    assert response.status_code == 200
    body = response.json()
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert [(r["index"], r["messageId"]) for r in body["rejected"]] == [
        (1, "m2"),
        (2, "m3"),
        (3, "m4"),
    ]
    assert "userId or anonymousId is required" in body["rejected"][0]["reason"]
    assert stored(session, tenant) == ["m1", "m5"]


def test_resending_a_batch_stores_nothing_twice(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    batch = {"batch": [track("r1"), track("r2"), track("r1")], "writeKey": key}
    first = client.post("/v1/batch", json=batch).json()
    again = client.post("/v1/batch", json=batch).json()
    assert (first["accepted"], first["duplicates"]) == (2, 1)
    assert (again["accepted"], again["duplicates"]) == (0, 3)
    assert stored(session, tenant) == ["r1", "r2"]


def test_same_message_id_in_two_tenants_is_two_events(client, session, tenant, other_tenant):
    for owner in (tenant, other_tenant):
        key = issue_key(session, owner, "publishable")
        client.post("/v1/track", json=track("shared"), headers={"Authorization": f"Bearer {key}"})
    assert stored(session, tenant) == ["shared"] and stored(session, other_tenant) == ["shared"]


def test_secret_or_missing_keys_are_refused_and_store_nothing(client, session, tenant):
    secret = issue_key(session, tenant, "secret")
    refused = client.post("/v1/track", json=track("s1"), headers=basic(secret))
    assert (
        refused.status_code == 401 and "secret key cannot be used here" in refused.json()["detail"]
    )
    assert client.post("/v1/track", json=track("s2")).status_code == 401
    assert client.post("/v1/track", json=track("s3", writeKey="pk_forged")).status_code == 401
    assert stored(session, tenant) == []


def test_a_revoked_publishable_key_is_refused_at_once(client, session, tenant):
    """Live publishable keys are remembered for a few seconds per process; revoking one
    forgets them in the revoking process (other processes within REMEMBER_PUBLISHABLE_SECONDS)."""
    key = issue_key(session, tenant, "publishable")
    assert client.post("/v1/track", json=track("r1"), headers=basic(key)).status_code == 200
    row = session.exec(select(ApiKey).where(ApiKey.tenant_id == tenant.id)).one()
    revoke_api_key(session=session, tenant_id=tenant.id, key_id=row.id)
    session.commit()
    refused = client.post("/v1/track", json=track("r2"), headers=basic(key))
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert stored(session, tenant) == ["r1"]


def test_single_event_routes_set_the_type_and_refuse_bad_events_with_400(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    ok = client.post(
        "/v1/identify",
        json={"userId": "u-9", "traits": {"name": "Ann"}, "messageId": "i1"},
        headers=basic(key),
    )
    assert ok.status_code == 200 and ok.json()["accepted"] == 1
    bad = client.post("/v1/track", json={"userId": "u-9", "messageId": "t1"}, headers=basic(key))
    assert bad.status_code == 400 and "event name" in bad.json()["detail"]
    session.expire_all()
    assert session.exec(select(Event.type).where(Event.tenant_id == tenant.id)).all() == [
        "identify"
    ]


def test_size_limits(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    big = track("big", properties={"blob": "x" * 33_000})
    assert client.post("/v1/track", json=big, headers=basic(key)).status_code == 413
    in_batch = client.post("/v1/batch", json={"batch": [big, track("small")]}, headers=basic(key))
    assert (
        in_batch.status_code == 200
        and "larger than 32 KB" in in_batch.json()["rejected"][0]["reason"]
    )
    huge = {"batch": [track(f"h{i}", properties={"blob": "y" * 30_000}) for i in range(20)]}
    assert client.post("/v1/batch", json=huge, headers=basic(key)).status_code == 413
    assert stored(session, tenant) == ["small"]


def test_gzip_bodies_are_accepted_and_gzip_bombs_refused(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    body = gzip.compress(json.dumps({"batch": [track("g1")]}).encode())
    headers = {**basic(key), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post("/v1/batch", content=body, headers=headers).json()["accepted"] == 1
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    assert len(bomb) < 100_000
    assert client.post("/v1/batch", content=bomb, headers=headers).status_code == 413
    not_gzip = client.post("/v1/batch", content=b"plain", headers=headers)
    assert not_gzip.status_code == 400
    assert stored(session, tenant) == ["g1"]


def test_malformed_and_deeply_nested_json_are_refused(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    headers = {**basic(key), "Content-Type": "application/json"}
    assert client.post("/v1/batch", content=b"{not json", headers=headers).status_code == 400
    assert client.post("/v1/batch", json=[1, 2], headers=headers).status_code == 400
    assert client.post("/v1/batch", json={"batch": "nope"}, headers=headers).status_code == 400
    deep: dict = {}
    cursor = deep
    for _ in range(40):
        cursor["a"] = {}
        cursor = cursor["a"]
    answer = client.post(
        "/v1/batch", json={"batch": [track("d1", properties=deep)]}, headers=headers
    )
    assert "nested deeper than 32" in answer.json()["rejected"][0]["reason"]
    too_deep = b'{"batch": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert client.post("/v1/batch", content=too_deep, headers=headers).status_code == 400
    assert stored(session, tenant) == []


def test_rate_limit_answers_429_with_retry_after(client, session, tenant):
    key = issue_key(session, tenant, "publishable")
    settings = get_settings()
    original, settings.tracking_rate_limit = settings.tracking_rate_limit, "2/minute"
    try:
        codes = [
            client.post("/v1/track", json=track(f"x{i}"), headers=basic(key)).status_code
            for i in range(3)
        ]
        limited = client.post("/v1/track", json=track("x9"), headers=basic(key))
    finally:
        settings.tracking_rate_limit = original
    assert codes == [200, 200, 429] and int(limited.headers["Retry-After"]) >= 1
    assert session.exec(select(func.count()).where(Event.tenant_id == tenant.id)).one() == 2


def test_simple_routes_identify_people_by_email(client, session, tenant):
    from marketing_app.services.event_processing import process_pending_events
    from marketing_app.services.profiles import search_profiles

    headers = {"Authorization": f"Bearer {issue_key(session, tenant, 'publishable')}"}
    assert (
        client.post(
            "/identify",
            headers=headers,
            json={"email": "Sam@Example.com", "traits": {"first_name": "Sam"}, "messageId": "s-1"},
        ).status_code
        == 200
    )
    assert (
        client.post(
            "/track",
            headers=headers,
            json={
                "email": "sam@example.com",
                "event": "Order Completed",
                "properties": {"total": 12},
                "messageId": "s-2",
            },
        ).status_code
        == 200
    )
    batch = client.post(
        "/track/batch",
        headers=headers,
        json={
            "events": [
                {"email": "sam@example.com", "event": "Product Viewed", "messageId": "s-3"},
                {"event": "Nobody", "messageId": "s-4"},
            ]
        },
    ).json()
    assert batch["accepted"] == 1 and batch["rejected"][0]["messageId"] == "s-4"
    assert client.post("/track", headers=headers, json={"event": "No email"}).status_code == 400
    process_pending_events(session=session, tenant_id=tenant.id)
    [sam], total = search_profiles(session=session, tenant_id=tenant.id)
    assert total == 1 and (sam.email, sam.first_name, sam.total_spent_cents) == (
        "sam@example.com",
        "Sam",
        1200,
    )


def test_nul_characters_are_refused_per_event_and_the_rest_stored(client, session, tenant):
    """PostgreSQL text cannot hold NUL: such an event is listed as rejected, never a 500."""
    key = issue_key(session, tenant, "publishable")
    batch = {
        "batch": [
            track("n1"),
            track("n2", userId="u\x00-2"),
            track("n3", event="Viewed\x00"),
            track("n4", properties={"note": "a\x00b"}),
            track("n5", properties={"ok": "fine"}),
        ]
    }
    response = client.post("/v1/batch", json=batch, headers=basic(key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "NUL" in body["rejected"][0]["reason"]
    assert stored(session, tenant) == ["n1", "n5"]


def test_events_are_stored_exactly_as_sent(client, session, tenant):
    """Escapes, tabs, line breaks, braces inside strings and time zones survive the bulk path."""
    key = issue_key(session, tenant, "publishable")
    awkward = 'tab\there, line\nbreak, back\\slash, "quoted", ünïcode ✓, ' + "{[" * 40
    batch = {
        "batch": [
            track("e1", userId="u\\1\t", properties={"note": awkward, "n": [1, {"k": None}]}),
            track("e2", timestamp="2026-11-01T12:30:00+02:00", context={"ip": "1.2.3.4"}),
            track("e3", timestamp="2026-11-01T10:00:00"),
        ]
    }
    response = client.post("/v1/batch", json=batch, headers=basic(key))
    assert response.json()["rejected"] == [] and response.json()["accepted"] == 3
    session.expire_all()
    rows = {
        row.message_id: row
        for row in session.exec(select(Event).where(Event.tenant_id == tenant.id))
    }
    assert rows["e1"].user_id == "u\\1\t"
    assert rows["e1"].properties == {"note": awkward, "n": [1, {"k": None}]}
    assert rows["e1"].context is None and rows["e1"].name == "Product Viewed"
    assert rows["e2"].context == {"ip": "1.2.3.4"}
    as_utc = [rows[m].occurred_at.replace(tzinfo=None) for m in ("e2", "e3")]
    assert [t.isoformat() for t in as_utc] == ["2026-11-01T10:30:00", "2026-11-01T10:00:00"]
