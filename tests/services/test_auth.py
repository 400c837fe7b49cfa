"""Logins: hashing, sessions that expire, throttling, and the same answer for unknown users."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from marketing_app.domain.errors import InvalidCredentials, LoginThrottled
from marketing_app.models import AuthSession, LoginTicket, User
from marketing_app.models.base import utcnow
from marketing_app.services import auth
from marketing_app.services.crypto import token_digest
from tests.factories import PASSWORD, make_user


def sign_in(session, email: str, password: str = PASSWORD) -> str:
    """Password check, then the ticket exchange the browser does: returns the session token."""
    ticket = auth.login(session=session, email=email, password=password)
    return auth.redeem_login_ticket(session=session, ticket=ticket)


def test_password_is_stored_as_argon2_hash_and_login_returns_working_token(session, tenant):
    user = make_user(session, tenant)
    stored = session.get(User, user.id)
    assert stored.password_hash.startswith("$argon2")
    assert PASSWORD not in stored.password_hash

    token = sign_in(session, user.email.upper())

    assert auth.user_for_token(session=session, token=token).id == user.id
    # Only the digest is stored: the raw token is not a key of any row.
    assert session.get(AuthSession, token) is None
    assert session.get(AuthSession, token_digest(token)) is not None


def test_wrong_password_and_unknown_user_get_the_same_message(session, tenant):
    user = make_user(session, tenant)
    with pytest.raises(InvalidCredentials) as wrong:
        auth.login(session=session, email=user.email, password="not-the-password")
    with pytest.raises(InvalidCredentials) as unknown:
        auth.login(session=session, email="nobody@example.com", password="whatever-it-is")
    assert wrong.value.message == unknown.value.message == "Invalid email or password."


def test_expired_session_is_refused(session, tenant):
    user = make_user(session, tenant)
    token = sign_in(session, user.email)
    row = session.get(AuthSession, token_digest(token))
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert auth.user_for_token(session=session, token=token) is None
    assert auth.purge_expired_sessions(session=session) >= 1


def test_logout_ends_the_session(session, tenant):
    user = make_user(session, tenant)
    token = sign_in(session, user.email)
    auth.logout(session=session, token=token)
    assert auth.user_for_token(session=session, token=token) is None


def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(session, tenant):
    user = make_user(session, tenant)
    for _ in range(5):
        with pytest.raises(InvalidCredentials):
            auth.login(session=session, email=user.email, password="guess-guess-guess")
    with pytest.raises(LoginThrottled) as throttled:
        auth.login(session=session, email=user.email, password=PASSWORD)
    assert "Too many failed attempts" in throttled.value.message
    assert 0 < throttled.value.retry_after_seconds <= 15 * 60
    # Another account is not affected.
    other = make_user(session, tenant)
    assert sign_in(session, other.email)


def test_deactivated_user_cannot_log_in_or_use_old_token(session, tenant):
    user = make_user(session, tenant)
    token = sign_in(session, user.email)
    stored = session.exec(select(User).where(User.id == user.id)).one()
    stored.is_active = False
    session.add(stored)
    session.commit()
    assert auth.user_for_token(session=session, token=token) is None
    with pytest.raises(InvalidCredentials):
        auth.login(session=session, email=user.email, password=PASSWORD)


def test_describe_user_lists_only_member_tenants_but_admins_see_all(session, tenant, other_tenant):
    member = make_user(session, tenant, role="viewer")
    admin = make_user(session, admin=True)
    member_view = auth.describe_user(session=session, user=member)
    admin_view = auth.describe_user(session=session, user=admin)
    assert [t.slug for t in member_view.tenants] == [tenant.slug]
    assert member_view.tenants[0].role == "viewer"
    assert {tenant.slug, other_tenant.slug} <= {t.slug for t in admin_view.tenants}


def test_login_ticket_works_once_and_not_after_expiry(session, tenant):
    user = make_user(session, tenant)
    ticket = auth.login(session=session, email=user.email, password=PASSWORD)
    assert session.get(LoginTicket, ticket) is None  # stored as a digest only
    assert auth.redeem_login_ticket(session=session, ticket=ticket)
    assert auth.redeem_login_ticket(session=session, ticket=ticket) is None
    stale = auth.login(session=session, email=user.email, password=PASSWORD)
    row = session.get(LoginTicket, token_digest(stale))
    row.expires_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.commit()
    assert auth.redeem_login_ticket(session=session, ticket=stale) is None
    assert auth.redeem_login_ticket(session=session, ticket="") is None
