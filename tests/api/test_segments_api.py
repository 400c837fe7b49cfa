"""Segments, static lists, presets and RFM through the management API."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlmodel import func, select

from marketing_app.api.segment_schemas import THREE_CONDITIONS  # the documented example
from marketing_app.models import Contact, Event, JobRun, Location, Order, Segment
from marketing_app.models.base import utcnow
from marketing_app.services.job_execution import run_job
from marketing_app.services.profiles import save_profile
from tests.api.conftest import issue_key

TWO_ORDERS = {
    "root": {"children": [{"kind": "trait", "field": "order_count", "op": "gte", "value": 2}]}
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def headers(secret_key) -> dict[str, str]:
    return bearer(secret_key)


def _contact(session, tenant, email: str, **facts) -> Contact:
    contact = save_profile(
        session=session,
        tenant_id=tenant.id,
        contact_id=None,
        fields={"email": email, "first_name": email.split("@")[0]},
    )
    for name, value in facts.items():
        setattr(contact, name, value)
    session.add(contact)
    session.flush()
    return contact


def _order(session, contact: Contact, dollars: int, days_ago: int) -> None:
    session.add(
        Order(
            tenant_id=contact.tenant_id,
            contact_id=contact.id,
            source="pos",
            external_id=uuid.uuid4().hex,
            total_cents=dollars * 100,
            placed_at=utcnow() - timedelta(days=days_ago),
        )
    )


def _opened_email(session, contact: Contact, days_ago: int) -> None:
    session.add(
        Event(
            tenant_id=contact.tenant_id,
            contact_id=contact.id,
            message_id=uuid.uuid4().hex,
            type="track",
            name="Email Opened",
            properties={"campaign_id": "c1"},
            occurred_at=utcnow() - timedelta(days=days_ago),
        )
    )


@pytest.fixture
def shoppers(session, tenant) -> dict[str, int]:
    """Five profiles; only ann spent over $500 in 90 days, not in 60, and opened an email."""
    people = {}
    for name, dollars, days_ago, opened in [
        ("ann", 600, 75, True),
        ("bob", 600, 75, False),  # never opened
        ("cat", 600, 30, True),  # ordered within 60 days
        ("dan", 300, 75, True),  # spent too little
        ("eve", 600, 200, True),  # spent it too long ago
    ]:
        contact = _contact(
            session,
            tenant,
            f"{name}@example.com",
            order_count=1,
            total_spent_cents=dollars * 100,
            last_order_at=utcnow() - timedelta(days=days_ago),
        )
        _order(session, contact, dollars, days_ago)
        if opened:
            _opened_email(session, contact, 10)
        people[name] = contact.id
    session.commit()
    return people


def _run(client, session, headers, job_id: str) -> dict:
    run_job(session=session, job_id=uuid.UUID(job_id))  # what the worker does
    return client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()


def _stored_rows(session, tenant) -> tuple[int, int]:
    session.expire_all()
    segments = session.exec(select(func.count()).where(Segment.tenant_id == tenant.id)).one()
    jobs = session.exec(select(func.count()).where(JobRun.tenant_id == tenant.id)).one()
    return segments, jobs


def test_crud_round_trip_queues_recomputes_and_guards_names_and_references(
    client, session, tenant, headers
):
    created = client.post(
        "/api/v1/segments",
        headers=headers,
        json={"name": "Repeat buyers", "description": "2+ orders", "definition": TWO_ORDERS},
    )
    assert created.status_code == 201, created.text
    segment = created.json()
    sid = segment["id"]
    assert (segment["kind"], segment["version"], segment["computed_version"]) == ("dynamic", 1, 0)
    assert segment["definition"]["root"]["children"][0]["field"] == "order_count"
    assert segment["status_url"] == f"/api/v1/jobs/{segment['job_id']}"
    job = session.get(JobRun, uuid.UUID(segment["job_id"]))
    assert job.kind == "segment_recompute" and job.params == {"segment_id": sid, "version": 1}

    listed = client.get("/api/v1/segments", headers=headers).json()
    assert [s["name"] for s in listed] == ["Repeat buyers"]
    assert set(listed[0]) >= {
        "id",
        "name",
        "kind",
        "description",
        "preset",
        "member_count",
        "computed_at",
        "version",
        "computed_version",
        "definition",
    }
    assert client.get(f"/api/v1/segments/{sid}", headers=headers).json()["description"] == (
        "2+ orders"
    )

    renamed = client.patch(
        f"/api/v1/segments/{sid}", headers=headers, json={"name": "Regulars"}
    ).json()
    assert (renamed["name"], renamed["version"], renamed["job_id"]) == ("Regulars", 1, None)
    redefined = client.patch(
        f"/api/v1/segments/{sid}", headers=headers, json={"definition": THREE_CONDITIONS}
    ).json()
    assert redefined["version"] == 2 and redefined["job_id"] is not None
    again = client.patch(
        f"/api/v1/segments/{sid}", headers=headers, json={"definition": THREE_CONDITIONS}
    ).json()
    assert again["version"] == 2 and again["job_id"] is None  # unchanged: nothing queued

    clash = client.post("/api/v1/segments", headers=headers, json={"name": " REGULARS "})
    assert clash.status_code == 409 and clash.json()["field"] == "name"
    client.post("/api/v1/segments", headers=headers, json={"name": "Tasting", "kind": "static"})
    rename_clash = client.patch(
        f"/api/v1/segments/{sid}", headers=headers, json={"name": "tasting"}
    )
    assert rename_clash.status_code == 409

    user = client.post(
        "/api/v1/segments",
        headers=headers,
        json={
            "name": "Regulars who read",
            "definition": {"root": {"children": [{"kind": "segment", "segment_id": sid}]}},
        },
    ).json()
    in_use = client.delete(f"/api/v1/segments/{sid}", headers=headers)
    assert in_use.status_code == 409 and "Regulars who read" in in_use.json()["detail"]
    assert client.delete(f"/api/v1/segments/{user['id']}", headers=headers).status_code == 204
    assert client.delete(f"/api/v1/segments/{sid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/segments/{sid}", headers=headers).status_code == 404
    assert client.delete(f"/api/v1/segments/{sid}", headers=headers).status_code == 404


def test_three_condition_segment_is_estimated_saved_recomputed_and_listed(
    client, session, tenant, headers, shoppers
):
    estimate = client.post(
        "/api/v1/segments/estimate", headers=headers, json={"definition": THREE_CONDITIONS}
    )
    assert estimate.status_code == 200, estimate.text
    found = estimate.json()
    assert (found["count"], found["total_profiles"]) == (1, 5)
    assert [(r["id"], r["email"], r["total_spent_cents"]) for r in found["sample"]] == [
        (shoppers["ann"], "ann@example.com", 60000)
    ]
    assert _stored_rows(session, tenant) == (0, 0)  # an estimate saves nothing

    saved = client.post(
        "/api/v1/segments",
        headers=headers,
        json={"name": "Lapsed big spenders who read", "definition": THREE_CONDITIONS},
    ).json()
    before = client.get(f"/api/v1/segments/{saved['id']}/members", headers=headers).json()
    assert before["total"] == 0 and before["computed_at"] is None  # not computed yet

    job = _run(client, session, headers, saved["job_id"])
    assert job["status"] == "succeeded", job
    members = client.get(f"/api/v1/segments/{saved['id']}/members", headers=headers).json()
    assert members["total"] == 1 and members["computed_at"] is not None
    assert [m["email"] for m in members["items"]] == ["ann@example.com"]
    segment = client.get(f"/api/v1/segments/{saved['id']}", headers=headers).json()
    assert (segment["member_count"], segment["computed_version"]) == (1, segment["version"])

    again = client.post(f"/api/v1/segments/{saved['id']}/recalculate", headers=headers)
    assert again.status_code == 202
    assert _run(client, session, headers, again.json()["job_id"])["status"] == "succeeded"
    exported = client.get(f"/api/v1/segments/{saved['id']}/export", headers=headers)
    assert [r["email"] for r in csv.DictReader(io.StringIO(exported.text))] == ["ann@example.com"]


def test_members_page_through_biggest_spenders_first(client, session, tenant, headers):
    for n in range(5):
        _contact(session, tenant, f"p{n}@example.com", order_count=2, total_spent_cents=n * 1000)
    session.commit()
    saved = client.post(
        "/api/v1/segments", headers=headers, json={"name": "Two orders", "definition": TWO_ORDERS}
    ).json()
    _run(client, session, headers, saved["job_id"])
    page = client.get(
        f"/api/v1/segments/{saved['id']}/members?limit=2&offset=1", headers=headers
    ).json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 1)
    assert [m["email"] for m in page["items"]] == ["p3@example.com", "p2@example.com"]


UNKNOWN_FIELD_IN_GROUP = {
    "root": {
        "kind": "group",
        "op": "and",
        "children": [
            {"kind": "no_order_in", "days": 60},
            {
                "kind": "group",
                "op": "or",
                "children": [{"kind": "trait", "field": "x", "op": "eq", "value": "y"}],
            },
        ],
    }
}


def test_invalid_definitions_are_refused_with_a_pointing_message_and_nothing_stored(
    client, session, tenant, other_tenant, headers
):
    for path, body in (
        ("/api/v1/segments", {"name": "Bad", "definition": UNKNOWN_FIELD_IN_GROUP}),
        ("/api/v1/segments/estimate", {"definition": UNKNOWN_FIELD_IN_GROUP}),
    ):
        refused = client.post(path, headers=headers, json=body)
        assert refused.status_code == 422
        assert refused.json() == {
            "detail": "condition #2 > #1: unknown field 'x'",
            "field": "definition",
        }
    theirs = client.post(
        "/api/v1/segments", headers=bearer(issue_key(session, other_tenant)), json={"name": "T"}
    ).json()
    bad_definitions = {
        "condition #1: ": {
            "root": {"children": [{"kind": "orders", "metric": "total_spent", "op": "gt"}]}
        },
        "condition #2: ": {
            "root": {"children": [{"kind": "no_order_in", "days": 5}, {"kind": "weather"}]}
        },
        "the definition: ": ["not", "an", "object"],
        f"segment {theirs['id']} does not exist": {
            "root": {"children": [{"kind": "segment", "segment_id": theirs["id"]}]}
        },
        "numbers must be finite": {
            "root": {"children": [{"kind": "segment", "segment_id": 10**30}]}
        },
    }
    for expected, definition in bad_definitions.items():
        refused = client.post(
            "/api/v1/segments", headers=headers, json={"name": "Bad", "definition": definition}
        )
        assert refused.status_code == 422, (expected, refused.text)
        assert expected in refused.json()["detail"] and refused.json()["field"] == "definition"

    nan = b'{"name": "Bad", "definition": {"root": {"children": [{"kind": "orders", '
    nan += b'"metric": "total_spent", "op": "gt", "value": NaN}]}}}'
    for bad_number in (b"NaN", b"-Infinity", b"1e999", b"1e30", b"10000000000000"):
        refused = client.post(
            "/api/v1/segments",
            headers={**headers, "Content-Type": "application/json"},
            content=nan.replace(b"NaN", bad_number),
        )
        assert refused.status_code == 422 and refused.json()["field"] == "definition"
    assert _stored_rows(session, tenant) == (0, 0)

    kept = client.post(
        "/api/v1/segments", headers=headers, json={"name": "Kept", "definition": TWO_ORDERS}
    ).json()
    refused = client.patch(
        f"/api/v1/segments/{kept['id']}",
        headers=headers,
        json={"name": "Renamed", "definition": UNKNOWN_FIELD_IN_GROUP},
    )
    assert refused.status_code == 422 and refused.json()["detail"].startswith("condition #2 > #1")
    after = client.get(f"/api/v1/segments/{kept['id']}", headers=headers).json()
    assert (after["name"], after["version"], after["definition"]) == (
        "Kept",
        1,
        kept["definition"],
    )
    assert _stored_rows(session, tenant) == (1, 1)  # only Kept and its first recompute


def test_bad_requests_get_4xx_never_500(client, session, tenant, headers):
    static = client.post(
        "/api/v1/segments", headers=headers, json={"name": "List", "kind": "static"}
    ).json()
    sid = static["id"]
    json_headers = {**headers, "Content-Type": "application/json"}
    refused = [
        client.post("/api/v1/segments", headers=json_headers, content=b'{"name": "x",'),
        client.post("/api/v1/segments", headers=headers, json={"name": 5}),
        client.post("/api/v1/segments", headers=headers, json={"name": " "}),
        client.post("/api/v1/segments", headers=headers, json={"name": "A", "kind": "smart"}),
        client.post("/api/v1/segments", headers=headers, json={"name": "A", "bogus": 1}),
        client.post("/api/v1/segments", headers=headers, json=["name"]),
        client.post("/api/v1/segments", headers=headers, json={"name": "A", "preset": "nope"}),
        client.post(
            "/api/v1/segments",
            headers=headers,
            json={"name": "A", "preset": "vip", "definition": TWO_ORDERS},
        ),
        client.post(
            "/api/v1/segments",
            headers=headers,
            json={"name": "A", "kind": "static", "definition": TWO_ORDERS},
        ),
        client.post("/api/v1/segments", headers=headers, json={"name": "A", "params": {"x": 1}}),
        client.post(
            "/api/v1/segments",
            headers=headers,
            json={"name": "A", "preset": "lapsed", "params": {"days": "nan"}},
        ),
        client.post(
            "/api/v1/segments",
            headers=headers,
            json={"name": "A", "preset": "high_value", "params": {"amount": "inf"}},
        ),
        client.post(
            "/api/v1/segments",
            headers=headers,
            json={"name": "A", "preset": "location", "params": {"location": {"id": 1}}},
        ),
        client.post(
            "/api/v1/segments/estimate",
            headers=json_headers,
            content=b'{"definition": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        ),
        client.get("/api/v1/segments/99999999999999999999999", headers=headers),
        client.get("/api/v1/segments/0", headers=headers),
        client.get("/api/v1/segments/abc", headers=headers),
        client.get(f"/api/v1/segments/{sid}/members?limit=-1", headers=headers),
        client.get(f"/api/v1/segments/{sid}/members?offset=-5", headers=headers),
        client.get(f"/api/v1/segments/{sid}/members?offset={10**30}", headers=headers),
        client.get(f"/api/v1/segments/{sid}/members?limit=100000", headers=headers),
        client.post(f"/api/v1/segments/{sid}/members", headers=headers, json={"contact_ids": "1"}),
        client.post(
            f"/api/v1/segments/{sid}/members", headers=headers, json={"contact_ids": [2**70]}
        ),
        client.post(f"/api/v1/segments/{sid}/members", headers=headers, json={"ids": [1]}),
        client.post(f"/api/v1/segments/{sid}/recalculate", headers=headers),
        client.patch(f"/api/v1/segments/{sid}", headers=headers, json={"definition": TWO_ORDERS}),
        client.patch(f"/api/v1/segments/{sid}", headers=headers, json={"kind": "dynamic"}),
    ]
    for response in refused:
        assert 400 <= response.status_code < 500, (response.request.url, response.text)
    assert [r.status_code for r in refused[-3:]] == [422, 422, 422]
    assert client.get("/api/v1/segments/987654", headers=headers).status_code == 404
    assert _stored_rows(session, tenant) == (1, 0)


def test_static_list_add_remove_export_and_import(client, session, tenant, headers):
    created = client.post(
        "/api/v1/segments", headers=headers, json={"name": "Tasting guests", "kind": "static"}
    )
    assert created.status_code == 201
    lst = created.json()
    assert (lst["kind"], lst["job_id"], lst["member_count"]) == ("static", None, 0)
    ann, bob = (
        _contact(session, tenant, "ann@example.com").id,
        _contact(session, tenant, "bob@example.com").id,
    )
    session.commit()
    members_url = f"/api/v1/segments/{lst['id']}/members"
    added = client.post(members_url, headers=headers, json={"contact_ids": [ann, bob, ann]})
    assert added.json() == {"changed": 2, "ignored": 0, "member_count": 2}
    again = client.post(members_url, headers=headers, json={"contact_ids": [ann, 987654321]})
    assert again.json() == {"changed": 0, "ignored": 2, "member_count": 2}
    removed = client.request("DELETE", members_url, headers=headers, json={"contact_ids": [bob]})
    assert removed.json() == {"changed": 1, "ignored": 0, "member_count": 1}
    page = client.get(members_url, headers=headers).json()
    assert page["total"] == 1 and page["items"][0]["email"] == "ann@example.com"

    exported = client.get(f"/api/v1/segments/{lst['id']}/export", headers=headers)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["email"], r["first_name"]) for r in rows] == [("ann@example.com", "ann")]

    body = b"email,first_name\nBOB@example.com,Bob\nnia@example.com,Nia\nnot-an-email,X\n"
    accepted = client.post(
        f"/api/v1/segments/{lst['id']}/import",
        headers=headers,
        files={"file": ("guests.csv", body, "text/csv")},
    )
    assert accepted.status_code == 202, accepted.text
    job = _run(client, session, headers, accepted.json()["job_id"])
    assert job["status"] == "succeeded", job
    assert (job["result"]["added_to_list"], job["result"]["rejected_count"]) == (2, 1)
    assert job["result"]["rejected"][0]["line"] == 4
    emails = [m["email"] for m in client.get(members_url, headers=headers).json()["items"]]
    assert sorted(emails) == ["ann@example.com", "bob@example.com", "nia@example.com"]

    empty = client.post(
        f"/api/v1/segments/{lst['id']}/import",
        headers=headers,
        files={"file": ("empty.csv", b"", "text/csv")},
    )
    assert empty.status_code == 422 and empty.json()["field"] == "file"
    no_file = client.post(f"/api/v1/segments/{lst['id']}/import", headers=headers)
    assert no_file.status_code == 422
    dynamic = client.post(
        "/api/v1/segments", headers=headers, json={"name": "Everyone", "definition": {}}
    ).json()
    for call in (
        client.post(
            f"/api/v1/segments/{dynamic['id']}/import",
            headers=headers,
            files={"file": ("x.csv", body, "text/csv")},
        ),
        client.post(
            f"/api/v1/segments/{dynamic['id']}/members",
            headers=headers,
            json={"contact_ids": [ann]},
        ),
    ):
        assert call.status_code == 422 and "static list" in call.json()["detail"]


def test_presets_are_listed_and_usable(client, session, tenant, headers, shoppers):
    presets = {p["key"]: p for p in client.get("/api/v1/segments/presets", headers=headers).json()}
    assert {"lapsed", "vip", "high_value", "location", "engaged_email"} <= set(presets)
    assert presets["lapsed"]["parameter"] == {
        "name": "days",
        "label": "Days without an order",
        "kind": "number",
        "default": 60,
    }
    assert presets["vip"]["parameter"] is None and presets["vip"]["title"]

    estimate = client.post(
        "/api/v1/segments/estimate",
        headers=headers,
        json={"preset": "high_value", "params": {"amount": 500}},
    ).json()
    assert estimate["count"] == 4  # everyone but dan ($300)
    created = client.post(
        "/api/v1/segments",
        headers=headers,
        json={"name": "Lapsed 60", "preset": "lapsed", "params": {"days": 60}},
    )
    assert created.status_code == 201, created.text
    lapsed = created.json()
    assert lapsed["preset"] == "lapsed"
    assert {"kind": "no_order_in", "days": 60} in lapsed["definition"]["root"]["children"]
    _run(client, session, headers, lapsed["job_id"])
    emails = [
        m["email"]
        for m in client.get(f"/api/v1/segments/{lapsed['id']}/members", headers=headers).json()[
            "items"
        ]
    ]
    assert sorted(emails) == [
        "ann@example.com",
        "bob@example.com",
        "dan@example.com",
        "eve@example.com",
    ]

    store = Location(tenant_id=tenant.id, name="Main St")
    session.add(store)
    session.commit()
    by_store = client.post(
        "/api/v1/segments",
        headers=headers,
        json={"name": "Main St", "preset": "location", "params": {"location": store.id}},
    )
    assert by_store.status_code == 201
    missing = client.post(
        "/api/v1/segments",
        headers=headers,
        json={"name": "Nowhere", "preset": "location", "params": {"location": store.id + 1000}},
    )
    assert missing.status_code == 422 and "does not exist" in missing.json()["detail"]
    required = client.post(
        "/api/v1/segments", headers=headers, json={"name": "P", "preset": "ordered_product"}
    )
    assert required.status_code == 422 and required.json() == {
        "detail": "Product name is required.",
        "field": "params",
    }


def test_rfm_summary_and_recalculation(client, session, tenant, headers):
    empty = client.get("/api/v1/rfm", headers=headers).json()
    assert empty["last_computed_at"] is None and empty["customers"] == 0
    assert len(empty["groups"]) == 10 and all(g["explanation"] for g in empty["groups"])
    assert empty["groups"][0]["group"] == "Champions"
    for n in range(6):
        _contact(
            session,
            tenant,
            f"r{n}@example.com",
            order_count=n,
            total_spent_cents=n * 2500,
            last_order_at=utcnow() - timedelta(days=10 * (6 - n)) if n else None,
        )
    session.commit()
    accepted = client.post("/api/v1/rfm/recalculate", headers=headers)
    assert accepted.status_code == 202
    assert _run(client, session, headers, accepted.json()["job_id"])["status"] == "succeeded"
    summary = client.get("/api/v1/rfm", headers=headers).json()
    assert summary["last_computed_at"] is not None
    assert summary["customers"] == 5 == sum(g["customers"] for g in summary["groups"])
    assert next(g for g in summary["groups"] if g["group"] == "Champions")["customers"] >= 1


def test_tenants_never_see_or_touch_each_others_segments(
    client, session, tenant, other_tenant, headers
):
    mine = client.post(
        "/api/v1/segments", headers=headers, json={"name": "Mine", "kind": "static"}
    ).json()
    ann = _contact(session, tenant, "ann@example.com").id
    session.commit()
    client.post(
        f"/api/v1/segments/{mine['id']}/members", headers=headers, json={"contact_ids": [ann]}
    )

    theirs = bearer(issue_key(session, other_tenant))
    base = f"/api/v1/segments/{mine['id']}"
    for response in (
        client.get(base, headers=theirs),
        client.patch(base, headers=theirs, json={"name": "Taken over"}),
        client.delete(base, headers=theirs),
        client.get(f"{base}/members", headers=theirs),
        client.post(f"{base}/members", headers=theirs, json={"contact_ids": [ann]}),
        client.request("DELETE", f"{base}/members", headers=theirs, json={"contact_ids": [ann]}),
        client.get(f"{base}/export", headers=theirs),
        client.post(f"{base}/recalculate", headers=theirs),
        client.post(
            f"{base}/import",
            headers=theirs,
            files={"file": ("x.csv", b"email\nx@example.com\n", "text/csv")},
        ),
    ):
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.json()["detail"] == "Segment not found."
    assert client.get("/api/v1/segments", headers=theirs).json() == []

    their_list = client.post(
        "/api/v1/segments", headers=theirs, json={"name": "Mine", "kind": "static"}
    ).json()  # the same name is fine in another tenant
    grabbed = client.post(
        f"/api/v1/segments/{their_list['id']}/members", headers=theirs, json={"contact_ids": [ann]}
    )
    assert grabbed.json() == {"changed": 0, "ignored": 1, "member_count": 0}
    assert client.get(f"/api/v1/segments/{their_list['id']}/export", headers=theirs).text == (
        "email,phone,first_name,last_name,user_id,entered_at\r\n"
    )
    estimate = client.post("/api/v1/segments/estimate", headers=theirs, json={})
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["total_profiles"] == 0
    assert client.get(f"{base}/members", headers=headers).json()["total"] == 1


def test_publishable_keys_are_refused(client, session, tenant):
    publishable = bearer(issue_key(session, tenant, "publishable"))
    for method, path in (
        ("get", "/api/v1/segments"),
        ("post", "/api/v1/segments/estimate"),
        ("get", "/api/v1/segments/presets"),
        ("get", "/api/v1/rfm"),
        ("post", "/api/v1/rfm/recalculate"),
    ):
        refused = getattr(client, method)(path, headers=publishable)
        assert refused.status_code == 401
        assert (
            refused.json()["detail"] == "A publishable key cannot be used here; use a secret key."
        )
    assert client.get("/api/v1/segments").status_code == 401
    assert _stored_rows(session, tenant) == (0, 0)
