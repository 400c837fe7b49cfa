"""Identity resolution: anonymous activity merges into known profiles; userIds never merge."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import select

from marketing_app.models import Contact, ContactIdentity, EmailMessage, Event
from marketing_app.services.demo_data import generate_business_data
from marketing_app.services.event_processing import pending_event_count, process_pending_events
from marketing_app.services.ingestion import ingest_messages


def send(session, tenant, *messages) -> None:
    for n, message in enumerate(messages):
        message.setdefault("messageId", f"{message['type']}-{id(message)}-{n}")
    ingest_messages(session=session, tenant_id=tenant.id, messages=list(messages))
    session.commit()
    process_pending_events(session=session, tenant_id=tenant.id)


def profiles(session, tenant) -> list[Contact]:
    session.expire_all()
    return list(
        session.exec(select(Contact).where(Contact.tenant_id == tenant.id).order_by(Contact.id))
    )


def timeline(session, contact) -> list[str]:
    query = select(Event.name).where(Event.contact_id == contact.id).order_by(Event.occurred_at)
    return list(session.exec(query))


def test_anonymous_browsing_merges_into_the_profile_on_identify(session, tenant):
    send(
        session,
        tenant,
        {
            "type": "page",
            "anonymousId": "anon-1",
            "name": "Menu",
            "timestamp": "2026-11-01T10:00:00Z",
        },
        {
            "type": "track",
            "anonymousId": "anon-1",
            "event": "Product Viewed",
            "timestamp": "2026-11-01T10:01:00Z",
        },
    )
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "cust-42",
            "traits": {
                "email": "Ann@Example.com",
                "name": "Ann Lee",
                "birthday": "1990-04-02",
                "favorite": "edibles",
            },
            "timestamp": "2026-11-01T10:05:00Z",
        },
    )
    assert len(profiles(session, tenant)) == 2  # nothing links them yet
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "cust-42",
            "anonymousId": "anon-1",
            "timestamp": "2026-11-01T10:06:00Z",
        },
        {
            "type": "track",
            "userId": "cust-42",
            "event": "Order Completed",
            "properties": {"revenue": "49.95"},
            "timestamp": "2026-11-01T10:10:00Z",
        },
    )
    [ann] = profiles(session, tenant)
    assert (ann.user_id, ann.email, ann.first_name, ann.last_name) == (
        "cust-42",
        "ann@example.com",
        "Ann",
        "Lee",
    )
    assert ann.birthday.isoformat() == "1990-04-02" and ann.traits["favorite"] == "edibles"
    assert timeline(session, ann) == ["Menu", "Product Viewed", "", "", "Order Completed"]
    assert (ann.order_count, ann.total_spent_cents) == (1, 4995)
    assert ann.first_seen_at.isoformat().startswith("2026-11-01T10:00")
    assert pending_event_count(session=session, tenant_id=tenant.id) == 0


def test_two_user_ids_on_one_device_stay_two_people(session, tenant):
    send(
        session,
        tenant,
        {"type": "identify", "userId": "alice", "anonymousId": "shared-tablet"},
        {"type": "identify", "userId": "bob", "anonymousId": "shared-tablet"},
    )
    assert sorted(c.user_id for c in profiles(session, tenant)) == ["alice", "bob"]


def test_alias_links_a_previous_id(session, tenant):
    send(session, tenant, {"type": "track", "anonymousId": "old-anon", "event": "Signed Up"})
    send(session, tenant, {"type": "alias", "userId": "new-user", "previousId": "old-anon"})
    [person] = profiles(session, tenant)
    assert person.user_id == "new-user" and timeline(session, person)[0] == "Signed Up"


def test_email_and_phone_find_existing_customers(session, tenant):
    generate_business_data(
        session=session,
        tenant_id=tenant.id,
        kind="barbershop",
        scale=0.01,
        email_domain="shop.example.com",
    )
    session.commit()
    known = profiles(session, tenant)[0]
    before = len(profiles(session, tenant))
    send(
        session,
        tenant,
        {
            "type": "identify",
            "userId": "pos-77",
            "traits": {"email": known.email.upper(), "phone": "(704) 555-0199"},
        },
    )
    after = profiles(session, tenant)
    assert len(after) == before
    refreshed = session.get(Contact, known.id)
    assert refreshed.user_id == "pos-77"
    kinds = set(
        session.exec(select(ContactIdentity.kind).where(ContactIdentity.contact_id == known.id))
    )
    assert {"email", "user_id"} <= kinds


def test_profiles_never_cross_tenants(session, tenant, other_tenant):
    send(session, tenant, {"type": "identify", "userId": "same-id", "traits": {"email": "s@x.com"}})
    send(session, other_tenant, {"type": "identify", "userId": "same-id"})
    mine, theirs = profiles(session, tenant), profiles(session, other_tenant)
    assert len(mine) == len(theirs) == 1 and mine[0].id != theirs[0].id
    assert theirs[0].email is None
    count = session.exec(select(func.count()).where(Event.contact_id == mine[0].id)).one()
    assert count == 1


def test_a_merge_keeps_the_static_lists_the_merged_profile_was_on(session, tenant):
    from marketing_app.services import segments, static_lists

    send(session, tenant, {"type": "page", "anonymousId": "anon-9", "name": "Menu"})
    send(session, tenant, {"type": "identify", "userId": "cust-9", "traits": {"email": "n@x.io"}})
    anonymous, known = profiles(session, tenant)
    guests = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Guests", kind="static"
    )
    both = segments.create_segment(session=session, tenant_id=tenant.id, name="Both", kind="static")
    static_lists.add_members(
        session=session, tenant_id=tenant.id, list_id=guests.id, contact_ids=[anonymous.id]
    )
    static_lists.add_members(
        session=session, tenant_id=tenant.id, list_id=both.id, contact_ids=[anonymous.id, known.id]
    )
    session.commit()
    send(session, tenant, {"type": "identify", "userId": "cust-9", "anonymousId": "anon-9"})
    (survivor,) = profiles(session, tenant)
    for listed in (guests, both):
        members, total = segments.segment_members(
            session=session, tenant_id=tenant.id, segment_id=listed.id
        )
        assert total == 1 and members[0]["id"] == survivor.id
        session.refresh(listed)
        assert listed.member_count == 1


def _campaign_to(session, tenant, name: str, *contacts: Contact) -> int:
    from marketing_app.services import campaigns

    campaign = campaigns.create_campaign(session=session, tenant_id=tenant.id, name=name)
    for contact in contacts:
        session.add(
            EmailMessage(
                tenant_id=tenant.id,
                campaign_id=campaign.id,
                contact_id=contact.id,
                email=f"{contact.id}@x.io",
                status="sent",
            )
        )
    session.commit()
    return campaign.id


def _recipients(session, campaign_id: int) -> list[int | None]:
    query = select(EmailMessage.contact_id).where(EmailMessage.campaign_id == campaign_id)
    return sorted(session.exec(query), key=lambda found: found or 0)


def test_a_merge_gives_the_merged_profiles_emails_to_the_survivor(session, tenant):
    """Its email history (and so the frequency cap) follows the person; a campaign both
    profiles got keeps both rows for its statistics, one of them with no profile."""
    send(session, tenant, {"type": "page", "anonymousId": "anon-7", "name": "Menu"})
    send(session, tenant, {"type": "identify", "userId": "cust-7", "traits": {"email": "m@x.io"}})
    anonymous, known = profiles(session, tenant)
    only_anonymous = _campaign_to(session, tenant, "Welcome", anonymous)
    both = _campaign_to(session, tenant, "Weekly", anonymous, known)
    send(session, tenant, {"type": "identify", "userId": "cust-7", "anonymousId": "anon-7"})
    (survivor,) = profiles(session, tenant)
    session.expire_all()
    assert _recipients(session, only_anonymous) == [survivor.id]
    assert _recipients(session, both) == [None, survivor.id]


def test_deleting_a_profile_keeps_its_emails_for_the_statistics(session, tenant):
    from marketing_app.services.profiles import delete_profile

    send(session, tenant, {"type": "identify", "userId": "cust-8", "traits": {"email": "d@x.io"}})
    send(session, tenant, {"type": "identify", "userId": "cust-9", "traits": {"email": "e@x.io"}})
    gone, kept = profiles(session, tenant)
    campaign_id = _campaign_to(session, tenant, "Weekly", gone, kept)
    delete_profile(session=session, tenant_id=tenant.id, contact_id=gone.id)
    session.commit()
    session.expire_all()
    assert _recipients(session, campaign_id) == [None, kept.id]
