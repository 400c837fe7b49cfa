"""What events teach a profile: consent with its source, time zone, external ids, visits and UTM."""

from __future__ import annotations

from sqlmodel import select

from marketing_app.models import ContactIdentity, WebSession
from marketing_app.services.web_sessions import sessions_of
from tests.services.test_identity import profiles, send


def test_consent_is_recorded_per_channel_with_source_and_time(session, tenant):
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "c1",
            "timestamp": "2026-11-01T10:00:00Z",
            "traits": {"email_consent": "subscribed", "sms_consent": True},
        },
        {
            "type": "identify",
            "userId": "c1",
            "timestamp": "2026-11-03T10:00:00Z",
            "traits": {"sms_consent": "unsubscribed"},
        },
        # Arrives late but happened earlier: must not undo the newer opt-out.
        {
            "type": "identify",
            "userId": "c1",
            "timestamp": "2026-11-02T10:00:00Z",
            "traits": {"smsConsent": True},
        },
    )
    [person] = profiles(session, tenant)
    assert (person.email_consent, person.email_consent_source) == (True, "tracking")
    assert person.sms_consent is False
    assert person.sms_consent_at.isoformat().startswith("2026-11-03T10:00")
    assert "email_consent" not in person.traits


def test_time_zone_and_external_ids_are_kept(session, tenant):
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "c2",
            "traits": {
                "timezone": "America/Chicago",
                "shopify_customer_id": 7208285225219,
                "alpineiq_user_code": "AIQ-55",
                "pos_customer_id": "POS-9",
            },
        },
    )
    send(session, tenant, {"type": "identify", "userId": "c2", "traits": {"timezone": "Mars/Base"}})
    [person] = profiles(session, tenant)
    assert person.time_zone == "America/Chicago"
    kinds = dict(
        session.exec(
            select(ContactIdentity.kind, ContactIdentity.value).where(
                ContactIdentity.contact_id == person.id
            )
        ).all()
    )
    assert (
        kinds["shopify"] == "7208285225219"
        and kinds["alpineiq"] == "AIQ-55"
        and kinds["pos"] == "POS-9"
    )
    # A later order from Shopify finds the same person by that id alone.
    send(
        session,
        tenant,
        {
            "type": "identify",
            "anonymousId": "checkout-1",
            "traits": {"shopify_customer_id": "7208285225219"},
        },
    )
    assert len(profiles(session, tenant)) == 1


def test_visits_split_on_30_minute_gaps_and_keep_landing_utm(session, tenant):
    landing = {
        "page": {
            "url": "https://shop.example/menu?utm_source=google&utm_medium=cpc",
            "referrer": "https://www.google.com/",
        }
    }
    send(
        session,
        tenant,
        {
            "type": "page",
            "anonymousId": "v1",
            "name": "Menu",
            "timestamp": "2026-11-01T10:00:00Z",
            "context": {
                **landing,
                "campaign": {"name": "fall-sale", "source": "google", "medium": "cpc"},
            },
        },
        {"type": "page", "anonymousId": "v1", "name": "Cart", "timestamp": "2026-11-01T10:20:00Z"},
        {
            "type": "page",
            "anonymousId": "v1",
            "name": "Menu",
            "timestamp": "2026-11-01T11:30:00Z",
            "context": {
                "page": {"url": "https://shop.example/?utm_source=newsletter&utm_campaign=nov"}
            },
        },
    )
    [visitor] = profiles(session, tenant)
    later, first = sessions_of(session=session, contact_id=visitor.id)
    assert (first.utm_source, first.utm_medium, first.utm_campaign, first.event_count) == (
        "google",
        "cpc",
        "fall-sale",
        2,
    )
    assert first.referrer == "https://www.google.com/"
    assert (later.utm_source, later.utm_campaign, later.event_count) == ("newsletter", "nov", 1)


def test_visits_follow_the_visitor_into_the_known_profile(session, tenant):
    send(
        session,
        tenant,
        {
            "type": "page",
            "anonymousId": "v2",
            "name": "Home",
            "timestamp": "2026-11-01T09:00:00Z",
            "context": {"page": {"url": "https://shop.example/?utm_source=fb"}},
        },
    )
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "known-2",
            "anonymousId": "v2",
            "timestamp": "2026-11-01T09:02:00Z",
        },
    )
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "known-2",
            "anonymousId": "v3",
            "timestamp": "2026-11-01T09:03:00Z",
        },
    )
    [person] = profiles(session, tenant)
    visits = session.exec(select(WebSession).where(WebSession.tenant_id == tenant.id)).all()
    assert [(v.contact_id, v.utm_source) for v in visits] == [(person.id, "fb")]


def test_location_and_sales_rep_traits_link_to_the_tenants_places_and_staff(session, tenant):
    from marketing_app.models import Location, StaffMember

    store = Location(tenant_id=tenant.id, name="Blowing Rock", kind="store")
    rep = StaffMember(tenant_id=tenant.id, name="Grace Whitfield", role="sales_rep")
    session.add_all([store, rep])
    session.commit()
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "acct-1",
            "traits": {
                "location": "blowing rock",
                "sales_rep": "Grace Whitfield",
                "account_type": "restaurant",
            },
        },
    )
    send(session, tenant, {"type": "identify", "userId": "acct-2", "traits": {"store": "Atlantis"}})
    linked, unknown = profiles(session, tenant)
    assert (linked.location_id, linked.staff_id) == (store.id, rep.id)
    assert linked.traits["account_type"] == "restaurant"
    assert unknown.location_id is None and unknown.traits["store"] == "Atlantis"
