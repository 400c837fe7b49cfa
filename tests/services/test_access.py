"""Role checks: tenant pages of other tenants are 404, low roles are 403."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import NotFound, PermissionDenied
from marketing_app.models import Role
from marketing_app.services import access, auth
from tests.factories import make_user


def test_member_of_tenant_a_gets_not_found_for_tenant_b(session, tenant, other_tenant):
    user = auth.describe_user(session=session, user=make_user(session, tenant, role="owner"))
    assert access.tenant_for_user(user, tenant.slug).id == tenant.id
    with pytest.raises(NotFound):
        access.tenant_for_user(user, other_tenant.slug)
    with pytest.raises(NotFound):
        access.require_role(user, other_tenant.slug, Role.VIEWER)


@pytest.mark.parametrize(
    ("role", "viewer", "marketer", "owner"),
    [("viewer", True, False, False), ("marketer", True, True, False), ("owner", True, True, True)],
)
def test_roles_are_ordered(session, tenant, role, viewer, marketer, owner):
    user = auth.describe_user(session=session, user=make_user(session, tenant, role=role))
    assert access.can(user, tenant.slug, Role.VIEWER) is viewer
    assert access.can(user, tenant.slug, Role.MARKETER) is marketer
    assert access.can(user, tenant.slug, Role.OWNER) is owner


def test_viewer_editing_gets_a_message_naming_the_role(session, tenant):
    user = auth.describe_user(session=session, user=make_user(session, tenant, role="viewer"))
    with pytest.raises(PermissionDenied) as denied:
        access.require_role(user, tenant.slug, Role.OWNER)
    assert "Viewer" in denied.value.message


def test_only_platform_admins_pass_the_admin_check(session, tenant):
    owner = auth.describe_user(session=session, user=make_user(session, tenant, role="owner"))
    admin = auth.describe_user(session=session, user=make_user(session, admin=True))
    with pytest.raises(NotFound):
        access.require_platform_admin(owner)
    access.require_platform_admin(admin)
