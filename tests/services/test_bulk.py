"""Bulk writes: the COPY path of PostgreSQL ignores duplicates whatever columns the rows carry."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import Event
from marketing_app.services.bulk import copy_returning_new_keys, insert_ignoring_duplicates

AT = datetime(2026, 11, 1, tzinfo=UTC)


def test_copy_staging_serves_callers_with_different_columns(session, tenant):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    base = {"tenant_id": tenant.id, "type": "track", "name": "Viewed", "received_at": AT}
    processed = [{**base, "message_id": "a", "occurred_at": AT, "properties": {}}]
    tracked = [
        {**base, "message_id": m, "user_id": "u-1", "properties": {"x": 1}, "occurred_at": AT}
        for m in ("a", "b")
    ]
    # Each second write holds a duplicate, so it goes through the staging table.
    insert_ignoring_duplicates(session=session, model=Event, rows=processed, copy_key="message_id")
    insert_ignoring_duplicates(session=session, model=Event, rows=processed, copy_key="message_id")
    new = copy_returning_new_keys(session=session, model=Event, rows=tracked, key="message_id")
    assert new == {"b"}
    session.commit()
    stored = select(func.count()).where(Event.tenant_id == tenant.id)
    assert session.exec(stored).one() == 2


def test_copy_text_round_trips_awkward_values(session, tenant):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    awkward = 'tab\there, line\nbreak, cr\r, back\\slash, "quotes", \\N, émoji 🎉'
    rows = [
        {
            "tenant_id": tenant.id,
            "message_id": "awkward",
            "type": "track",
            "name": awkward,
            "user_id": None,
            "anonymous_id": "anon\\1",
            "properties": {"text": awkward, "nested": [1, None, {"x": "\\t"}], "ok": True},
            "traits": None,
            "context": {"page": {"title": "Tab\tTitle"}},
            "occurred_at": AT,
            "received_at": AT,
        }
    ]
    assert copy_returning_new_keys(session=session, model=Event, rows=rows, key="message_id") == {
        "awkward"
    }
    session.commit()
    stored = session.exec(select(Event).where(Event.message_id == "awkward")).one()
    assert (stored.name, stored.user_id, stored.anonymous_id) == (awkward, None, "anon\\1")
    assert stored.properties == rows[0]["properties"] and stored.traits is None
    assert stored.context == rows[0]["context"] and stored.occurred_at == AT
