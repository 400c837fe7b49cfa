"""The browser SDK, loaded from /sdk.js into a real page, delivers events that reach a profile."""

from __future__ import annotations

import time

import pytest
from sqlmodel import select

from marketing_app.db import session_scope
from marketing_app.models import Contact, Event, WebSession
from marketing_app.services.api_keys import create_api_key
from marketing_app.services.tenants import get_tenant_by_slug

pytestmark = pytest.mark.browser


def test_sdk_sends_identify_track_and_page_with_utm(page):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug="sharp-co")
        key = create_api_key(
            session=session, tenant_id=tenant.id, kind="publishable", name="sdk"
        ).plaintext
    page.goto("/login?utm_source=sdk-test&utm_medium=email&utm_campaign=winback")
    page.add_script_tag(url="/sdk.js")
    page.evaluate(
        """async (key) => {
        mk.init(key);
        mk.page("Booking");
        mk.identify("sdk-user-1", {email: "sdk.user@example.com", firstName: "Ari"});
        mk.track("Appointment Booked", {service: "fade"});
        await mk.flush();
    }""",
        key,
    )
    assert any(c["name"] == "mk_anon" for c in page.context.cookies())
    deadline, person = time.monotonic() + 30, None
    while time.monotonic() < deadline and person is None:
        with session_scope() as session:
            person = session.exec(
                select(Contact).where(
                    Contact.tenant_id == tenant.id, Contact.user_id == "sdk-user-1"
                )
            ).first()
            if person is not None:
                names = set(session.exec(select(Event.type).where(Event.contact_id == person.id)))
                visit = session.exec(
                    select(WebSession).where(WebSession.contact_id == person.id)
                ).first()
        time.sleep(0.5)
    assert person is not None, "the worker did not attach the SDK's events in 30 s"
    assert (person.email, person.first_name, person.time_zone) == (
        "sdk.user@example.com",
        "Ari",
        "UTC",
    )
    assert names == {"page", "identify", "track"}
    assert (visit.utm_source, visit.utm_medium, visit.utm_campaign) == (
        "sdk-test",
        "email",
        "winback",
    )
