"""The official Segment and RudderStack Python libraries, pointed at our server, work unchanged."""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime

import pytest
import uvicorn
from segment.analytics import Client
from sqlmodel import select

from marketing_app.api.app import create_api
from marketing_app.models import Contact, Event
from marketing_app.services.event_processing import process_pending_events
from tests.api.conftest import issue_key


@pytest.fixture(scope="module")
def server_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_api(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


def send_story(client: Client) -> None:
    at = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    client.page(
        anonymous_id="web-anon-7",
        name="Menu",
        properties={"url": "https://shop/menu"},
        timestamp=at,
        message_id="seg-1",
    )
    client.track(
        anonymous_id="web-anon-7",
        event="Product Added",
        properties={"sku": "PR-1"},
        timestamp=at,
        message_id="seg-2",
    )
    client.identify(
        user_id="c-100",
        anonymous_id="web-anon-7",
        timestamp=at,
        message_id="seg-3",
        traits={"email": "dana@example.com", "firstName": "Dana"},
    )
    client.track(
        user_id="c-100",
        event="Order Completed",
        properties={"revenue": 42.5},
        timestamp=at,
        message_id="seg-4",
    )
    client.flush()


def test_segment_library_events_land_on_one_timeline_and_resend_changes_nothing(
    server_url, session, tenant
):
    errors: list = []
    client = Client(
        write_key=issue_key(session, tenant, "publishable"),
        host=server_url,
        sync_mode=True,
        on_error=lambda error, items: errors.append(error),
    )
    send_story(client)
    process_pending_events(session=session, tenant_id=tenant.id)
    send_story(client)  # the library retrying a batch it thinks failed
    process_pending_events(session=session, tenant_id=tenant.id)
    assert errors == []
    session.expire_all()
    [dana] = session.exec(select(Contact).where(Contact.tenant_id == tenant.id)).all()
    assert (dana.user_id, dana.email, dana.first_name) == ("c-100", "dana@example.com", "Dana")
    events = session.exec(
        select(Event.message_id, Event.type)
        .where(Event.contact_id == dana.id)
        .order_by(Event.message_id)
    ).all()
    assert events == [
        ("seg-1", "page"),
        ("seg-2", "track"),
        ("seg-3", "identify"),
        ("seg-4", "track"),
    ]
    assert (dana.order_count, dana.total_spent_cents) == (1, 4250)


def test_rudderstack_library_with_gzip_works_unchanged(server_url, session, tenant):
    from rudderstack.analytics.client import Client as RudderClient

    errors: list = []
    client = RudderClient(
        write_key=issue_key(session, tenant, "publishable"),
        host=server_url,
        sync_mode=True,
        gzip=True,
        on_error=lambda error, items: errors.append(error),
    )
    at = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    client.identify(
        user_id="r-1", traits={"email": "rudder@example.com"}, timestamp=at, message_id="rs-1"
    )
    client.track(
        user_id="r-1",
        event="Order Completed",
        properties={"revenue": 10},
        timestamp=at,
        message_id="rs-2",
    )
    client.flush()
    process_pending_events(session=session, tenant_id=tenant.id)
    assert errors == []
    session.expire_all()
    [person] = session.exec(select(Contact).where(Contact.tenant_id == tenant.id)).all()
    assert (person.email, person.order_count, person.total_spent_cents) == (
        "rudder@example.com",
        1,
        1000,
    )
