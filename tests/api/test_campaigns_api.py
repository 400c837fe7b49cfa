"""The campaigns API: CRUD, audience estimate, schedule refusals, send, lifecycle, stats,
vendor shapes, and tenant isolation."""

from __future__ import annotations

import pytest

from marketing_app.models import Contact
from marketing_app.services import segments, static_lists
from tests.api.conftest import issue_key

HTML = "<html><body><p>Hi {{ first_name | default('there') }}</p></body></html>"


@pytest.fixture
def guests(session, tenant):
    tenant.postal_address = "1 Main St, Raleigh, NC"
    people = [
        Contact(tenant_id=tenant.id, email=f"g{i}@example.com", email_consent=i != 0)
        for i in range(3)
    ]
    session.add_all([tenant, *people])
    session.flush()
    guest_list = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Guests", kind="static"
    )
    static_lists.add_members(
        session=session,
        tenant_id=tenant.id,
        list_id=guest_list.id,
        contact_ids=[p.id for p in people],
    )
    session.commit()
    return guest_list


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def _draft(client, key, guests) -> dict:
    body = {
        "name": "Weekly specials",
        "from_email": "shop@example.com",
        "audience": {"segment_ids": [guests.id]},
        "content": {"variants": [{"key": "A", "subject": "Hi {{ first_name }}", "html": HTML}]},
    }
    answer = client.post("/api/v1/campaigns", json=body, headers=_auth(key))
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_create_estimate_send_and_read(client, secret_key, guests):
    draft = _draft(client, secret_key, guests)
    assert draft["status"] == "draft"
    estimate = client.get(f"/api/v1/campaigns/{draft['id']}/audience", headers=_auth(secret_key))
    assert estimate.json()["eligible"] == 2 and estimate.json()["unconsented"] == 1
    sent = client.post(f"/api/v1/campaigns/{draft['id']}/send", headers=_auth(secret_key))
    assert sent.status_code == 200 and sent.json()["status"] == "scheduled"
    again = client.post(f"/api/v1/campaigns/{draft['id']}/send", headers=_auth(secret_key))
    assert again.status_code == 409
    edit = client.patch(
        f"/api/v1/campaigns/{draft['id']}", json={"name": "x"}, headers=_auth(secret_key)
    )
    assert edit.status_code == 409
    cancelled = client.post(f"/api/v1/campaigns/{draft['id']}/cancel", headers=_auth(secret_key))
    assert cancelled.json()["status"] == "cancelled"
    stats = client.get(f"/api/v1/campaigns/{draft['id']}/stats", headers=_auth(secret_key))
    assert stats.status_code == 200 and stats.json()["totals"]["sent"] == 0
    listed = client.get("/api/vendor/marketing/campaigns", headers=_auth(secret_key)).json()
    assert listed[0]["subject"] == "Hi {{ first_name }}" and listed[0]["channel"] == "email"
    overview = client.get("/api/vendor/marketing/stats?days=7", headers=_auth(secret_key))
    assert overview.status_code == 200 and overview.json()["days"] == 7


def test_schedule_refusal_lists_problems(client, secret_key):
    draft = client.post("/api/v1/campaigns", json={"name": "Empty"}, headers=_auth(secret_key))
    answer = client.post(
        f"/api/v1/campaigns/{draft.json()['id']}/schedule", headers=_auth(secret_key)
    )
    assert answer.status_code == 422
    assert (
        "segment or list" in answer.json()["detail"] and "from address" in answer.json()["detail"]
    )


def test_bad_input_is_a_clear_422(client, secret_key, guests):
    bad = [
        {"name": ""},
        {"name": "x", "from_email": "nope"},
        {"name": "x", "ab_test": {"test_percent": 99}},
        {"name": "x", "schedule": {"mode": "at"}},
        {"name": "x", "audience": {"segment_ids": [0]}},
        {"name": "x", "unknown": 1},
        {"name": "x\u0000y"},
    ]
    for body in bad:
        answer = client.post("/api/v1/campaigns", json=body, headers=_auth(secret_key))
        assert answer.status_code == 422, (body, answer.text)


def test_deleting_a_draft_and_refusing_winner_without_test(client, secret_key, guests):
    draft = _draft(client, secret_key, guests)
    winner = client.post(
        f"/api/v1/campaigns/{draft['id']}/winner", json={"variant": "A"}, headers=_auth(secret_key)
    )
    assert winner.status_code == 422
    deleted = client.delete(f"/api/v1/campaigns/{draft['id']}", headers=_auth(secret_key))
    assert deleted.status_code == 204
    gone = client.get(f"/api/v1/campaigns/{draft['id']}", headers=_auth(secret_key))
    assert gone.status_code == 404


def test_other_tenants_see_nothing(client, session, secret_key, guests, other_tenant):
    draft = _draft(client, secret_key, guests)
    their_key = issue_key(session, other_tenant)
    assert (
        client.get(f"/api/v1/campaigns/{draft['id']}", headers=_auth(their_key)).status_code == 404
    )
    assert client.get("/api/v1/campaigns", headers=_auth(their_key)).json() == []
    hijack = client.post(
        "/api/v1/campaigns",
        json={"name": "mine", "audience": {"segment_ids": [guests.id]}},
        headers=_auth(their_key),
    )
    assert hijack.status_code == 422
