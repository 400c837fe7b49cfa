"""Alpine IQ balances and the one-customer sync against the fake Alpine IQ over real HTTP."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func
from sqlmodel import select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Contact, ContactIdentity, ExternalLoyaltyBalance, ProviderCall
from marketing_app.services.loyalty_aiq_account import (
    aiq_state,
    alpineiq_program,
    save_alpineiq_credentials,
)
from marketing_app.services.loyalty_aiq_sync import sync_alpineiq_balances
from marketing_app.services.loyalty_sync_runs import sync_one_customer
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq
from tests.fakes.server import TEST_RETRY
from tests.services.test_loyalty_support import make_contact

CONTACTS_ROUTE = "/api/v1.1/piis"


def connect(session, tenant, fake: FakeAlpineIQ) -> None:
    save_alpineiq_credentials(
        session=session,
        tenant_id=tenant.id,
        api_key=fake.api_key,
        uid=fake.data.uid,
        base_url=fake.base_url,
    )
    session.commit()


def sync(session, tenant, **options):
    options.setdefault("retry", TEST_RETRY)
    result = sync_alpineiq_balances(session=session, tenant_id=tenant.id, **options)
    session.commit()
    return result


def balances(session, tenant) -> dict[int, tuple[str, int]]:
    """contact id -> (Alpine IQ contact id, points) of the tenant's stored balances."""
    session.expire_all()
    rows = session.exec(
        select(
            ExternalLoyaltyBalance.contact_id,
            ExternalLoyaltyBalance.external_id,
            ExternalLoyaltyBalance.points,
        ).where(ExternalLoyaltyBalance.tenant_id == tenant.id)
    )
    return {contact_id: (external, points) for contact_id, external, points in rows}


def points_of(fake: FakeAlpineIQ) -> dict[str, int]:
    return {c["contactID"]: c["loyaltyPoints"] for c in fake.data.contacts}


def count(session, model, tenant) -> int:
    query = select(func.count()).select_from(model).where(model.tenant_id == tenant.id)
    return session.exec(query).one()


@pytest.fixture
def fake():
    with FakeAlpineIQ(seed_alpineiq(contacts=40)) as server:
        yield server


def test_contacts_map_by_id_email_or_phone_and_unknown_ones_become_profiles(session, tenant, fake):
    by_id = make_contact(session, tenant, email=None)
    session.add(
        ContactIdentity(
            tenant_id=tenant.id, contact_id=by_id.id, kind="alpineiq", value="aiq-0000001"
        )
    )
    by_email = make_contact(session, tenant, email="Customer2@Example.com".lower())
    by_phone = make_contact(session, tenant, email=None, phone="+19195550103")
    fake.data.contacts[2].update(mobilePhone="(919) 555-0103", email=None)  # aiq-0000003
    connect(session, tenant, fake)

    result = sync(session, tenant)

    assert result.error is None and result.contacts == 40 and result.balances == 40
    assert result.profiles_created == 37 and count(session, Contact, tenant) == 40
    points = points_of(fake)
    stored = balances(session, tenant)
    assert stored[by_id.id] == ("aiq-0000001", points["aiq-0000001"])
    assert stored[by_email.id] == ("aiq-0000002", points["aiq-0000002"])
    assert stored[by_phone.id] == ("aiq-0000003", points["aiq-0000003"])
    identities = session.exec(
        select(ContactIdentity.value, ContactIdentity.contact_id).where(
            ContactIdentity.tenant_id == tenant.id, ContactIdentity.kind == "alpineiq"
        )
    ).all()
    assert len(identities) == 40  # every profile now knows its Alpine IQ contact
    assert dict(identities)["aiq-0000002"] == by_email.id
    new = session.exec(
        select(Contact).where(
            Contact.tenant_id == tenant.id, Contact.email == "customer9@example.com"
        )
    ).one()
    assert stored[new.id][0] == "aiq-0000009"


def test_a_resync_updates_the_balances_instead_of_adding_rows(session, tenant, fake):
    connect(session, tenant, fake)
    sync(session, tenant)
    first = balances(session, tenant)
    mine = ExternalLoyaltyBalance.tenant_id == tenant.id
    synced_at = session.exec(select(func.max(ExternalLoyaltyBalance.synced_at)).where(mine)).one()
    fake.data.contacts[0]["loyaltyPoints"] = 4321

    again = sync(session, tenant)

    after = balances(session, tenant)
    assert again.error is None and again.profiles_created == 0
    assert len(after) == len(first) == count(session, ExternalLoyaltyBalance, tenant) == 40
    changed = {c for c in after if after[c] != first[c]}
    assert [after[c] for c in changed] == [("aiq-0000001", 4321)]
    oldest = session.exec(select(func.min(ExternalLoyaltyBalance.synced_at)).where(mine)).one()
    assert oldest > synced_at  # every row says when Alpine IQ last reported it


def test_alpine_iq_settings_are_kept_for_reconciliation(session, tenant, fake):
    connect(session, tenant, fake)
    sync(session, tenant)

    program = alpineiq_program(session=session, tenant_id=tenant.id)
    assert program["points_per_dollar"] == "1" and program["expiration_days"] == 365
    assert [(t["points"], t["discount_percent"]) for t in program["tiers"]] == [
        (100, "5"),
        (200, "10"),
        (400, "15"),
        (600, "20"),
        (800, "25"),
    ]
    state = aiq_state(session=session, tenant_id=tenant.id)
    assert state["points_per_dollar"] == "1" and state["last_synced_at"]


def test_settings_refused_still_syncs_the_balances_and_says_why(session, tenant, fake):
    connect(session, tenant, fake)
    fake.simulation.fail_next(1, status=400, path_prefix="/api/v2/loyalty/default")

    result = sync(session, tenant)

    assert result.error is None and result.balances == 40
    assert "ProviderRejected" in result.program_error
    assert aiq_state(session=session, tenant_id=tenant.id)["program_error"] == result.program_error


def test_an_outage_keeps_the_last_good_balances_and_records_the_error(session, tenant, fake):
    connect(session, tenant, fake)
    sync(session, tenant)
    before = aiq_state(session=session, tenant_id=tenant.id)
    good = balances(session, tenant)
    for contact in fake.data.contacts:
        contact["loyaltyPoints"] = 0
    fake.simulation.fail_next(TEST_RETRY.attempts, status=503, path_prefix=CONTACTS_ROUTE)

    failed = sync(session, tenant)

    state = aiq_state(session=session, tenant_id=tenant.id)
    assert "ProviderUnavailable" in failed.error and state["last_error"] == failed.error
    assert state["last_synced_at"] == before["last_synced_at"]
    assert balances(session, tenant) == good
    recovered = sync(session, tenant)
    assert recovered.error is None
    assert aiq_state(session=session, tenant_id=tenant.id)["last_error"] is None
    assert {points for _, points in balances(session, tenant).values()} == {0}


def test_garbage_contacts_are_skipped_and_counted(session, tenant, fake):
    bad = ["aiq-0000005", "aiq-0000006", "aiq-0000007"]
    for contact_id, kind in zip(
        bad, ["negative_points", "missing_id", "not_an_object"], strict=True
    ):
        fake.data.corrupt_contact(contact_id, kind)
    connect(session, tenant, fake)

    result = sync(session, tenant)

    assert (result.skipped, result.contacts, result.balances) == (3, 37, 37)
    reasons = aiq_state(session=session, tenant_id=tenant.id)["skip_reasons"]
    assert len(reasons) == 3 and any("aiq-0000005" in reason for reason in reasons)
    assert {external for external, _ in balances(session, tenant).values()}.isdisjoint(bad)


def test_calls_are_logged_with_the_job_and_no_personal_data(session, tenant, fake):
    connect(session, tenant, fake)
    job_id = uuid.uuid4()
    result = sync(session, tenant, job_id=job_id)

    rows = session.exec(select(ProviderCall).where(ProviderCall.job_id == job_id)).all()
    assert len(rows) == result.calls == 2  # the settings, then 40 contacts in one page
    assert {(r.method, r.route, r.status_code, r.outcome) for r in rows} == {
        ("GET", "/api/v2/loyalty/default/{uid}", 200, "ok"),
        ("GET", "/api/v1.1/piis/{uid}", 200, "ok"),
    }
    assert all(r.tenant_id == tenant.id and r.provider == "alpineiq" for r in rows)


def test_another_tenants_profiles_and_balances_are_untouched(session, tenant, other_tenant, fake):
    theirs = make_contact(session, other_tenant, email="customer1@example.com")
    connect(session, tenant, fake)

    sync(session, tenant)

    assert balances(session, other_tenant) == {}
    assert count(session, Contact, other_tenant) == 1
    assert count(session, ContactIdentity, other_tenant) == 0
    assert count(session, ProviderCall, other_tenant) == 0
    mine = session.exec(
        select(Contact).where(Contact.tenant_id == tenant.id, Contact.email == theirs.email)
    ).one()
    assert mine.id != theirs.id and mine.id in balances(session, tenant)
    assert "loyalty_sync" not in (other_tenant.settings or {})


def test_credentials_are_validated_before_saving(session, tenant):
    refused = [
        ({"uid": ""}, "uid"),
        ({"uid": "12 34"}, "uid"),
        ({"uid": "a/b"}, "uid"),
        ({"base_url": "ftp://lab.alpineiq.com"}, "base_url"),
        ({"base_url": "https://"}, "base_url"),
        ({"base_url": "https://user:pw@lab.alpineiq.com"}, "base_url"),
        ({"api_key": "short"}, "secret"),
        ({"api_key": "long-enough\x00key"}, "secret"),
    ]
    for change, field in refused:
        values = {"api_key": "a-real-looking-key", "uid": "1234", "base_url": "https://x.test"}
        with pytest.raises(InvalidInput) as caught:
            save_alpineiq_credentials(session=session, tenant_id=tenant.id, **(values | change))
        assert caught.value.field == field, change
    saved = save_alpineiq_credentials(
        session=session, tenant_id=tenant.id, api_key="a-real-looking-key", uid=" 1234 "
    )
    assert saved.config == {"uid": "1234", "base_url": "https://lab.alpineiq.com"}
    assert saved.secret_hint == "-key"


def test_no_credentials_refuses_to_sync(session, tenant):
    with pytest.raises(NotFound):
        sync_alpineiq_balances(session=session, tenant_id=tenant.id)
    ann = make_contact(session, tenant)
    with pytest.raises(Conflict):
        sync_one_customer(session=session, tenant_id=tenant.id, contact_id=ann.id)


# --- one customer ----------------------------------------------------------------------------


def test_one_customer_gets_their_balance_by_phone_or_email(session, tenant, other_tenant, fake):
    connect(session, tenant, fake)
    by_phone = make_contact(session, tenant, email=None, phone="+19195550104")
    fake.data.contacts[3]["mobilePhone"] = "+19195550104"  # aiq-0000004
    by_email = make_contact(session, tenant, email="customer5@example.com")
    unknown = make_contact(session, tenant, email="nobody@example.com")
    options = {"aiq_options": {"retry": TEST_RETRY}}

    results = [
        sync_one_customer(session=session, tenant_id=tenant.id, contact_id=c.id, **options)
        for c in (by_phone, by_email, unknown)
    ]
    session.commit()

    points = points_of(fake)
    stored = balances(session, tenant)
    assert stored == {
        by_phone.id: ("aiq-0000004", points["aiq-0000004"]),
        by_email.id: ("aiq-0000005", points["aiq-0000005"]),
    }
    assert [r.alpineiq_points for r in results] == [
        points["aiq-0000004"],
        points["aiq-0000005"],
        None,
    ]
    assert "no contact" in results[2].notes[0] and results[2].errors == []
    assert [r.calls for r in results] == [1, 1, 1]  # one wallet lookup each, never a listing
    assert fake.simulation.count(CONTACTS_ROUTE) == 0
    with pytest.raises(NotFound):
        sync_one_customer(session=session, tenant_id=other_tenant.id, contact_id=by_phone.id)
