"""Delivery and engagement events applied to messages: status forward only, first times,
receipts deduplicated, suppressions, unsubscribes and the CDP events segments read."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.email_events import EmailEventIn
from marketing_app.domain.email_events import EmailEventKind as K
from marketing_app.models import (
    Campaign,
    Contact,
    EmailEvent,
    EmailMessage,
    Event,
    SubscriptionPreference,
    Suppression,
)
from marketing_app.services import segments
from marketing_app.services.email_events import apply_email_events, unsubscribe_contact

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SENT = NOW - timedelta(hours=2)


def _unique(text: str) -> str:
    """Receipts are unique per (provider, event id) across tenants, and tests share a database."""
    return f"{text}-{uuid.uuid4().hex[:12]}"


def _message(session, tenant, email="ann@example.com", provider_id=None, **fields):
    contact = Contact(tenant_id=tenant.id, email=email, email_consent=True)
    campaign = Campaign(tenant_id=tenant.id, name="Weekly specials", status="sending")
    session.add_all([contact, campaign])
    session.flush()
    message = EmailMessage(
        tenant_id=tenant.id,
        campaign_id=campaign.id,
        contact_id=contact.id,
        email=email,
        status="sent",
        provider="sendgrid",
        provider_message_id=provider_id or _unique("x"),
        sent_at=SENT,
        **fields,
    )
    session.add(message)
    session.commit()
    return message


def _event(kind, event_id, minutes=10, message=None, **fields) -> EmailEventIn:
    if message is not None:
        fields.setdefault("message_id", message.id)
        event_id = f"{event_id}:{message.id}"
    return EmailEventIn(
        provider=fields.pop("provider", "sendgrid"),
        event_id=event_id,
        kind=kind,
        occurred_at=SENT + timedelta(minutes=minutes),
        **fields,
    )


def _apply(session, *events, **options):
    result = apply_email_events(session=session, events=list(events), now=NOW, **options)
    session.commit()
    return result


def _reloaded(session, message) -> EmailMessage:
    session.expire_all()
    return session.get(EmailMessage, message.id)


def _cdp_events(session, message) -> list[Event]:
    return list(
        session.exec(
            select(Event)
            .where(Event.tenant_id == message.tenant_id, Event.contact_id == message.contact_id)
            .order_by(Event.occurred_at)
        )
    )


@pytest.mark.parametrize(
    ("kind", "status", "column"),
    [
        (K.PROCESSED, "processed", None),
        (K.DEFERRED, "deferred", None),
        (K.DELIVERED, "delivered", "delivered_at"),
        (K.BOUNCE, "bounced", "bounced_at"),
        (K.DROPPED, "dropped", None),
        (K.SPAM_REPORT, "delivered", "complained_at"),
        (K.UNSUBSCRIBE, "delivered", "unsubscribed_at"),
        (K.OPEN, "delivered", "opened_at"),
        (K.CLICK, "delivered", "clicked_at"),
    ],
)
def test_each_kind_sets_its_status_and_time(session, tenant, kind, status, column):
    message = _message(session, tenant)
    result = _apply(session, _event(kind, "e1", minutes=7, message=message))
    stored = _reloaded(session, message)
    assert (result.stored, result.status_changes) == (1, 1)
    assert stored.status == status
    if column:
        assert getattr(stored, column) == SENT + timedelta(minutes=7)


def test_status_never_moves_backwards(session, tenant):
    message = _message(session, tenant)
    _apply(
        session,
        _event(K.OPEN, "open", minutes=20, message=message),
        _event(K.DELIVERED, "delivered", minutes=30, message=message),
    )
    result = _apply(session, _event(K.PROCESSED, "processed", minutes=40, message=message))
    stored = _reloaded(session, message)
    assert stored.status == "delivered"
    assert stored.opened_at == SENT + timedelta(minutes=20)
    # The open proved delivery at 20 minutes; the later report does not move it.
    assert stored.delivered_at == SENT + timedelta(minutes=20)
    assert result.stored == 1 and result.status_changes == 0


def test_delivered_after_a_bounce_keeps_the_failure(session, tenant):
    message = _message(session, tenant)
    _apply(session, _event(K.BOUNCE, "bounce", message=message, reason="550 no such user"))
    _apply(session, _event(K.DELIVERED, "delivered", minutes=30, message=message))
    stored = _reloaded(session, message)
    assert stored.status == "bounced" and stored.error == "550 no such user"


def test_first_open_and_click_are_kept(session, tenant):
    message = _message(session, tenant)
    _apply(session, _event(K.OPEN, "open-2", minutes=50, message=message))
    _apply(
        session,
        _event(K.OPEN, "open-1", minutes=15, message=message),
        _event(K.CLICK, "click-1", minutes=60, message=message, url="https://shop.example/a"),
        _event(K.CLICK, "click-2", minutes=90, message=message, url="https://shop.example/b"),
    )
    stored = _reloaded(session, message)
    assert stored.opened_at == SENT + timedelta(minutes=15)
    assert stored.clicked_at == SENT + timedelta(minutes=60)


def test_duplicate_event_ids_count_once(session, tenant):
    message = _message(session, tenant)
    open_event = _event(K.OPEN, "sg-1", message=message)
    first = _apply(session, open_event, open_event)
    again = _apply(session, open_event)
    assert (first.stored, first.duplicates) == (1, 1)
    assert (again.stored, again.duplicates) == (0, 1)
    receipts = session.exec(select(EmailEvent).where(EmailEvent.message_id == message.id)).all()
    assert len(receipts) == 1
    assert len(_cdp_events(session, message)) == 1
    # The same id from another provider is another event.
    assert _apply(session, _event(K.OPEN, "sg-1", message=message, provider="ses")).stored == 1


def test_machine_open_is_kept_apart(session, tenant):
    message = _message(session, tenant)
    _apply(session, _event(K.OPEN, "proxy", minutes=3, message=message, machine=True))
    stored = _reloaded(session, message)
    assert stored.opened_at is None
    assert stored.machine_opened_at == SENT + timedelta(minutes=3)
    assert stored.status == "delivered"
    [opened] = _cdp_events(session, message)
    assert opened.name == "Email Opened" and opened.properties["machine_open"] is True


def test_machine_click_sets_no_click(session, tenant):
    message = _message(session, tenant)
    _apply(session, _event(K.CLICK, "scan", message=message, machine=True, url="https://x.test"))
    assert _reloaded(session, message).clicked_at is None
    assert _cdp_events(session, message) == []


def _suppressed(session, tenant) -> dict[str, str]:
    rows = session.exec(select(Suppression).where(Suppression.tenant_id == tenant.id)).all()
    return {row.address: row.reason for row in rows}


def test_hard_bounce_and_complaint_suppress_soft_bounce_does_not(session, tenant):
    hard = _message(session, tenant, "Hard@Example.com")
    soft = _message(session, tenant, "soft@example.com")
    spam = _message(session, tenant, "spam@example.com")
    dropped = _message(session, tenant, "gone@example.com")
    result = _apply(
        session,
        _event(K.BOUNCE, "b1", message=hard),
        _event(K.BOUNCE, "b2", message=soft, soft=True),
        _event(K.SPAM_REPORT, "s1", message=spam),
        _event(K.DROPPED, "d1", message=dropped, reason="Bounced Address"),
    )
    assert result.suppressions == 3
    assert _suppressed(session, tenant) == {
        "hard@example.com": "bounce",
        "spam@example.com": "complaint",
        "gone@example.com": "bounce",
    }
    assert _reloaded(session, soft).status == "bounced"  # failed, but may be tried again
    # A second bounce of a suppressed address adds nothing.
    assert _apply(session, _event(K.BOUNCE, "b3", message=hard)).suppressions == 0


def _preferences(session, message) -> list[SubscriptionPreference]:
    return list(
        session.exec(
            select(SubscriptionPreference).where(
                SubscriptionPreference.contact_id == message.contact_id
            )
        )
    )


def test_unsubscribe_records_a_preference(session, tenant):
    message = _message(session, tenant)
    _apply(session, _event(K.UNSUBSCRIBE, "u1", message=message))
    [pref] = _preferences(session, message)
    assert (pref.channel, pref.topic, pref.subscribed, pref.source) == (
        "email",
        "all",
        False,
        "sendgrid",
    )
    [event] = _cdp_events(session, message)
    assert event.name == "Email Unsubscribed"


def test_a_late_unsubscribe_report_does_not_undo_a_newer_choice(session, tenant):
    message = _message(session, tenant)
    session.add(
        SubscriptionPreference(
            tenant_id=tenant.id,
            contact_id=message.contact_id,
            topic="all",
            subscribed=True,
            source="preference_center",
            updated_at=NOW,
        )
    )
    session.commit()
    _apply(session, _event(K.UNSUBSCRIBE, "late", minutes=5, message=message))
    session.expire_all()
    [pref] = _preferences(session, message)
    assert pref.subscribed is True
    unsubscribe_contact(
        session=session,
        tenant_id=tenant.id,
        contact_id=message.contact_id,
        source="one_click",
        at=NOW + timedelta(minutes=1),
    )
    session.commit()
    session.expire_all()
    [pref] = _preferences(session, message)
    assert (pref.subscribed, pref.source) == (False, "one_click")


def test_cdp_events_carry_what_segments_read(session, tenant):
    message = _message(session, tenant)
    _apply(
        session,
        _event(K.DELIVERED, "d", minutes=1, message=message),
        _event(K.OPEN, "o", minutes=2, message=message),
        _event(K.CLICK, "c", minutes=3, message=message, url="https://shop.example/deal"),
        _event(K.BOUNCE, "b", minutes=4, message=message, soft=True, reason="mailbox full"),
        _event(K.SPAM_REPORT, "s", minutes=5, message=message),
    )
    events = _cdp_events(session, message)
    assert [e.name for e in events] == [
        "Email Delivered",
        "Email Opened",
        "Email Link Clicked",
        "Email Bounced",
        "Email Marked as Spam",
    ]
    for event in events:
        assert event.properties["campaign_id"] == str(message.campaign_id)
        assert event.properties["message_id"] == str(message.id)
        assert event.processed_at is not None
    assert events[1].properties["machine_open"] is False
    assert events[2].properties["url"] == "https://shop.example/deal"
    assert events[3].properties["bounce_type"] == "soft"


def _opened_recently(session, tenant, campaign_id=None):
    condition = {"kind": "engagement", "action": "opened", "within_days": 30}
    if campaign_id:
        condition["campaign_id"] = str(campaign_id)
    definition = {"root": {"kind": "group", "op": "and", "children": [condition]}}
    found = segments.estimate(session=session, tenant_id=tenant.id, definition=definition, now=NOW)
    return {row["id"] for row in found.sample} if found.count else set()


def test_engagement_segment_counts_human_opens_only(session, tenant):
    human = _message(session, tenant, "human@example.com")
    proxied = _message(session, tenant, "proxy@example.com")
    _apply(
        session,
        _event(K.OPEN, "human-open", message=human),
        _event(K.OPEN, "proxy-open", message=proxied, machine=True),
    )
    assert _opened_recently(session, tenant) == {human.contact_id}
    assert _opened_recently(session, tenant, human.campaign_id) == {human.contact_id}
    assert _opened_recently(session, tenant, proxied.campaign_id) == set()


def test_provider_message_id_and_recipient_find_the_message(session, tenant):
    # SendGrid shares one X-Message-Id among the recipients of one request.
    shared = _unique("x-shared")
    ann = _message(session, tenant, "ann@example.com", shared)
    bob = _message(session, tenant, "bob@example.com", shared)
    result = _apply(
        session,
        _event(K.DELIVERED, _unique("bob"), provider_message_id=shared, email="BOB@example.com"),
        _event(K.DELIVERED, _unique("who"), provider_message_id=shared),
        _event(K.DELIVERED, _unique("no"), provider_message_id=_unique("x"), email="a@b.example"),
    )
    assert (result.stored, result.unknown_message) == (1, 2)
    assert _reloaded(session, bob).status == "delivered"
    assert _reloaded(session, ann).status == "sent"


def test_events_cannot_touch_another_tenants_message(session, tenant, other_tenant):
    theirs = _message(session, other_tenant, "ann@example.com")
    result = _apply(
        session,
        _event(K.BOUNCE, "b-id", message=theirs),
        _event(
            K.SPAM_REPORT,
            _unique("s-pid"),
            provider_message_id=theirs.provider_message_id,
            email="ann@example.com",
        ),
        tenant_id=tenant.id,
    )
    assert (result.stored, result.unknown_message) == (0, 2)
    assert _reloaded(session, theirs).status == "sent"
    assert _suppressed(session, other_tenant) == {} == _suppressed(session, tenant)
    assert session.exec(select(EmailEvent).where(EmailEvent.message_id == theirs.id)).all() == []


def test_writes_go_to_the_messages_tenant(session, tenant, other_tenant):
    ours = _message(session, tenant, "ann@example.com")
    theirs = _message(session, other_tenant, "ann@example.com")
    _apply(session, _event(K.BOUNCE, "b1", message=ours), _event(K.OPEN, "o1", message=theirs))
    assert _suppressed(session, tenant) == {"ann@example.com": "bounce"}
    assert _suppressed(session, other_tenant) == {}
    assert [e.tenant_id for e in _cdp_events(session, theirs)] == [other_tenant.id]


def test_a_batch_of_a_thousand_events(session, tenant):
    messages = [_message(session, tenant, f"p{i}@example.com") for i in range(250)]
    events = [
        _event(kind, f"{kind}-{m.id}", minutes=n, message=m)
        for m in messages
        for n, kind in enumerate((K.PROCESSED, K.DELIVERED, K.OPEN, K.CLICK))
    ]
    result = _apply(session, *events)
    assert (result.stored, result.status_changes) == (1000, 250)
    assert len(result.contact_ids) == 250
