"""Logins: credential checks, throttling, expiring sessions and the signed-in user's view."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from marketing_app.domain.accounts import CurrentUser, TenantChoice
from marketing_app.domain.errors import InvalidCredentials, LoginThrottled
from marketing_app.models import AuthSession, LoginAttempt, LoginTicket, Membership, Tenant, User
from marketing_app.models.base import utcnow
from marketing_app.services.crypto import (
    hash_password,
    new_token,
    password_needs_rehash,
    token_digest,
    verify_password,
)
from marketing_app.settings import get_settings

INVALID_LOGIN_MESSAGE = "Invalid email or password."
LOGIN_TICKET_TTL_SECONDS = 60  # the browser redeems it right away, in one redirect


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _recent_failures(session: Session, email: str) -> tuple[int, object]:
    window_start = utcnow() - timedelta(minutes=get_settings().login_window_minutes)
    last_success = session.exec(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email, LoginAttempt.succeeded.is_(True)
        )
    ).one()
    since = max(window_start, last_success) if last_success else window_start
    row = session.exec(
        select(func.count(), func.min(LoginAttempt.attempted_at)).where(
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.attempted_at >= since,
        )
    ).one()
    return row[0], row[1]


def _check_throttle(session: Session, email: str) -> None:
    settings = get_settings()
    failures, oldest = _recent_failures(session, email)
    if failures < settings.login_max_failures:
        return
    unlock_at = oldest + timedelta(minutes=settings.login_window_minutes)
    wait = max(1, int((unlock_at - utcnow()).total_seconds()))
    minutes = (wait + 59) // 60
    raise LoginThrottled(
        f"Too many failed attempts. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
        retry_after_seconds=wait,
    )


def login(*, session: Session, email: str, password: str) -> str:
    """Check the credentials; returns a one-use login ticket to exchange for a session.

    Raises LoginThrottled after repeated failures for the email, InvalidCredentials
    otherwise (the same message for unknown user and wrong password).
    """
    email = normalize_email(email)
    _check_throttle(session, email)
    user = session.exec(select(User).where(User.email == email)).first()
    valid = verify_password(password, user.password_hash if user else None)
    if not valid or user is None or not user.is_active:
        session.add(LoginAttempt(email=email, succeeded=False))
        session.commit()
        raise InvalidCredentials(INVALID_LOGIN_MESSAGE)
    if password_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.add(LoginAttempt(email=email, succeeded=True))
    ticket = new_token()
    expires_at = utcnow() + timedelta(seconds=LOGIN_TICKET_TTL_SECONDS)
    session.add(
        LoginTicket(ticket_hash=token_digest(ticket), user_id=user.id, expires_at=expires_at)
    )
    session.commit()
    return ticket


def redeem_login_ticket(*, session: Session, ticket: str) -> str | None:
    """Exchange a fresh ticket for a session token, once; None if unknown, used or expired."""
    row = session.get(LoginTicket, token_digest(ticket)) if ticket else None
    if row is None:
        return None
    user_id, expires_at = row.user_id, row.expires_at
    deleted = session.exec(delete(LoginTicket).where(LoginTicket.ticket_hash == row.ticket_hash))
    if deleted.rowcount != 1 or expires_at <= utcnow():
        session.commit()
        return None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        session.commit()
        return None
    user.last_login_at = utcnow()
    token = new_token()
    ttl = timedelta(hours=get_settings().session_ttl_hours)
    session.add(
        AuthSession(token_hash=token_digest(token), user_id=user_id, expires_at=utcnow() + ttl)
    )
    session.commit()
    return token


def user_for_token(*, session: Session, token: str) -> User | None:
    """The active user behind an unexpired session token, else None."""
    if not token:
        return None
    auth = session.get(AuthSession, token_digest(token))
    if auth is None or auth.expires_at <= utcnow():
        return None
    user = session.get(User, auth.user_id)
    return user if user is not None and user.is_active else None


def logout(*, session: Session, token: str) -> None:
    if token:
        session.exec(delete(AuthSession).where(AuthSession.token_hash == token_digest(token)))
        session.commit()


def purge_expired_sessions(*, session: Session) -> int:
    result = session.exec(delete(AuthSession).where(AuthSession.expires_at <= utcnow()))
    cutoff = utcnow() - timedelta(days=30)
    session.exec(delete(LoginAttempt).where(LoginAttempt.attempted_at < cutoff))
    session.exec(delete(LoginTicket).where(LoginTicket.expires_at <= utcnow()))
    session.commit()
    return result.rowcount or 0


def describe_user(*, session: Session, user: User) -> CurrentUser:
    """The user with every tenant they can open; admins see all active tenants."""
    rows = session.exec(
        select(Tenant, Membership.role)
        .join(Membership, Membership.tenant_id == Tenant.id)
        .where(Membership.user_id == user.id, Tenant.is_active.is_(True))
        .order_by(Tenant.name)
    ).all()
    choices = [TenantChoice(id=t.id, name=t.name, slug=t.slug, role=role) for t, role in rows]
    if user.is_platform_admin:
        member_of = {c.id for c in choices}
        others = session.exec(
            select(Tenant).where(Tenant.is_active.is_(True)).order_by(Tenant.name)
        )
        choices += [
            TenantChoice(id=t.id, name=t.name, slug=t.slug, role="owner")
            for t in others
            if t.id not in member_of
        ]
    return CurrentUser(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_platform_admin=user.is_platform_admin,
        tenants=choices,
    )
