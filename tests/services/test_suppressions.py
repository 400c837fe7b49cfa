"""Suppression list: adding by hand (normalized, never twice), searching, paging, removing,
and what it does to a campaign's audience; two tenants never see each other's rows."""

from __future__ import annotations

import pytest
from sqlmodel import select

from marketing_app.domain.campaigns import Audience
from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, Suppression
from marketing_app.services import segments, static_lists, suppressions
from marketing_app.services.campaign_audience import count_audience


def _add(session, tenant, address, **fields):
    row = suppressions.add_suppression(
        session=session, tenant_id=tenant.id, address=address, **fields
    )
    session.commit()
    return row


def test_an_address_added_by_hand_is_stored_normalized_and_listed(session, tenant):
    row = _add(session, tenant, "  Ann.Lee@Example.COM ")
    assert (row.address, row.reason, row.channel) == ("ann.lee@example.com", "manual", "email")
    found, total = suppressions.list_suppressions(session=session, tenant_id=tenant.id)
    assert total == 1 and [s.address for s in found] == ["ann.lee@example.com"]
    assert suppressions.reason_label(found[0].reason) == "Added by hand"


def test_the_same_address_twice_is_refused_saying_why_it_is_blocked(session, tenant):
    session.add(
        Suppression(tenant_id=tenant.id, channel="email", address="b@example.com", reason="bounce")
    )
    session.commit()
    with pytest.raises(Conflict) as refused:
        _add(session, tenant, "B@example.com")
    assert "already suppressed (hard bounce" in refused.value.message
    rows = session.exec(select(Suppression).where(Suppression.tenant_id == tenant.id)).all()
    assert [(r.address, r.reason) for r in rows] == [("b@example.com", "bounce")]


@pytest.mark.parametrize(
    ("channel", "address", "words"),
    [
        ("email", "not-an-address", "valid email"),
        ("email", "", "valid email"),
        ("email", "a\x00@example.com", "NUL"),
        ("sms", "12", "valid phone"),
        ("fax", "a@example.com", "Unknown channel"),
    ],
)
def test_bad_addresses_are_refused_with_a_message(session, tenant, channel, address, words):
    with pytest.raises(InvalidInput) as refused:
        _add(session, tenant, address, channel=channel)
    assert words in refused.value.message
    assert suppressions.list_suppressions(session=session, tenant_id=tenant.id)[1] == 0


def test_phone_numbers_are_suppressed_on_the_sms_channel(session, tenant):
    row = _add(session, tenant, "(919) 555-0100", channel="sms")
    assert row.address == "+19195550100"
    assert suppressions.list_suppressions(session=session, tenant_id=tenant.id)[1] == 0
    found, total = suppressions.list_suppressions(
        session=session, tenant_id=tenant.id, channel="sms"
    )
    assert total == 1 and found[0].address == "+19195550100"


def test_search_and_paging_newest_first(session, tenant):
    for i in range(7):
        _add(session, tenant, f"person{i}@shop{i % 2}.example")
    page, total = suppressions.list_suppressions(
        session=session, tenant_id=tenant.id, search="SHOP1", limit=2, offset=0
    )
    assert total == 3 and [s.address for s in page] == [
        "person5@shop1.example",
        "person3@shop1.example",
    ]
    rest, _ = suppressions.list_suppressions(
        session=session, tenant_id=tenant.id, search="shop1", limit=2, offset=2
    )
    assert [s.address for s in rest] == ["person1@shop1.example"]
    nothing, none = suppressions.list_suppressions(
        session=session, tenant_id=tenant.id, search="100%_"
    )
    assert (nothing, none) == ([], 0)


def test_suppressing_a_member_takes_them_out_of_the_campaign_audience(session, tenant):
    people = [
        Contact(tenant_id=tenant.id, email=f"m{i}@example.com", email_consent=True)
        for i in range(3)
    ]
    session.add_all(people)
    session.flush()
    members = segments.create_segment(
        session=session, tenant_id=tenant.id, name="Members", kind="static"
    )
    static_lists.add_members(
        session=session, tenant_id=tenant.id, list_id=members.id, contact_ids=[p.id for p in people]
    )
    audience = Audience(segment_ids=[members.id])

    def counted():
        return count_audience(session=session, tenant_id=tenant.id, audience=audience)

    assert counted().eligible == 3
    row = _add(session, tenant, "M1@Example.com")
    assert (counted().eligible, counted().suppressed) == (2, 1)
    suppressions.remove_suppression(session=session, tenant_id=tenant.id, suppression_id=row.id)
    session.commit()
    assert (counted().eligible, counted().suppressed) == (3, 0)


def test_tenants_never_see_or_remove_each_others_suppressions(session, tenant, other_tenant):
    mine = _add(session, tenant, "shared@example.com")
    theirs = _add(session, other_tenant, "shared@example.com")  # their own list: no conflict
    assert suppressions.list_suppressions(session=session, tenant_id=tenant.id)[0] == [mine]
    with pytest.raises(NotFound):
        suppressions.remove_suppression(
            session=session, tenant_id=tenant.id, suppression_id=theirs.id
        )
    with pytest.raises(NotFound):
        suppressions.remove_suppression(session=session, tenant_id=tenant.id, suppression_id=0)
    assert suppressions.list_suppressions(session=session, tenant_id=other_tenant.id)[1] == 1
