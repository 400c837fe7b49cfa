"""Tenants, users, memberships: validation and stored results."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.services import tenants, users
from tests.factories import make_tenant, make_user


def test_create_tenant_derives_slug_and_stores_fields(session):
    tenant = tenants.create_tenant(
        session=session,
        name="  Blue Ridge Wines & Spirits ",
        time_zone="America/Chicago",
        postal_address="1 Main St",
        marketing_provider="alpineiq",
    )
    session.commit()
    stored = tenants.get_tenant_by_slug(session=session, slug=tenant.slug)
    assert stored.slug.startswith("blue-ridge-wines-spirits")
    assert (stored.name, stored.time_zone, stored.marketing_provider) == (
        "Blue Ridge Wines & Spirits",
        "America/Chicago",
        "alpineiq",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "slug": "Bad Slug!"}, "slug"),
        ({"name": "X", "slug": "admin"}, "slug"),
        ({"name": "X", "time_zone": "Mars/Olympus"}, "time_zone"),
        ({"name": "X", "marketing_provider": "hubspot"}, "marketing_provider"),
    ],
)
def test_invalid_tenant_fields_are_refused_with_the_field_named(session, fields, field):
    with pytest.raises(InvalidInput) as error:
        tenants.create_tenant(session=session, **fields)
    assert error.value.field == field


def test_duplicate_slug_is_a_conflict(session, tenant):
    with pytest.raises(Conflict):
        tenants.create_tenant(session=session, name="Another", slug=tenant.slug)


def test_user_validation(session):
    with pytest.raises(InvalidInput) as bad_email:
        users.create_user(session=session, email="not-an-email", password="long-enough-password")
    assert bad_email.value.field == "email"
    with pytest.raises(InvalidInput) as short:
        users.create_user(session=session, email="short@example.com", password="short")
    assert short.value.field == "password"
    user = make_user(session)
    with pytest.raises(Conflict):
        users.create_user(
            session=session, email=user.email.upper(), password="long-enough-password"
        )


def test_membership_add_change_remove(session, tenant):
    user = make_user(session)
    users.set_membership(session=session, tenant_id=tenant.id, user_id=user.id, role="viewer")
    users.set_membership(session=session, tenant_id=tenant.id, user_id=user.id, role="marketer")
    assert [
        (m.email, m.role) for m in users.list_members(session=session, tenant_id=tenant.id)
    ] == [(user.email, "marketer")]
    with pytest.raises(InvalidInput):
        users.set_membership(session=session, tenant_id=tenant.id, user_id=user.id, role="god")
    users.remove_membership(session=session, tenant_id=tenant.id, user_id=user.id)
    assert users.list_members(session=session, tenant_id=tenant.id) == []
    with pytest.raises(NotFound):
        users.remove_membership(session=session, tenant_id=tenant.id, user_id=user.id)


def test_members_of_two_tenants_never_mix(session, tenant, other_tenant):
    a, b = make_user(session, tenant), make_user(session, other_tenant)
    assert [m.email for m in users.list_members(session=session, tenant_id=tenant.id)] == [a.email]
    assert [m.email for m in users.list_members(session=session, tenant_id=other_tenant.id)] == [
        b.email
    ]


def test_search_tenants_pages_and_filters(session):
    marker = make_tenant(session, name="Zebra Search Marker").slug
    rows, total = tenants.search_tenants(session=session, search="zebra search")
    assert total == 1 and rows[0].slug == marker


def test_create_user_in_tenant_adds_the_role_or_refuses_an_unknown_tenant(session, tenant):
    user = users.create_user_in_tenant(
        session=session,
        email="new.person@example.com",
        password="long-enough-password",
        full_name="New Person",
        is_platform_admin=False,
        tenant_slug=tenant.slug,
        role="viewer",
    )
    assert [
        (m.user_id, m.role) for m in users.list_members(session=session, tenant_id=tenant.id)
    ] == [(user.id, "viewer")]
    with pytest.raises(NotFound) as missing:
        users.create_user_in_tenant(
            session=session,
            email="other.person@example.com",
            password="long-enough-password",
            full_name="",
            is_platform_admin=False,
            tenant_slug="no-such-tenant",
            role="viewer",
        )
    assert missing.value.field == "tenant"


def test_the_last_owner_cannot_be_demoted_or_removed(session, tenant):
    owner, second = make_user(session, tenant, role="owner"), make_user(session, tenant)
    with pytest.raises(Conflict, match="at least one owner"):
        users.set_membership(session=session, tenant_id=tenant.id, user_id=owner.id, role="viewer")
    with pytest.raises(Conflict):
        users.remove_membership(session=session, tenant_id=tenant.id, user_id=owner.id)
    users.set_membership(session=session, tenant_id=tenant.id, user_id=second.id, role="owner")
    users.remove_membership(session=session, tenant_id=tenant.id, user_id=owner.id)
    assert [m.role for m in users.list_members(session=session, tenant_id=tenant.id)] == ["owner"]
