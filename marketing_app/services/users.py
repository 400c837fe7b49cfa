"""Users and their roles in tenants."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from marketing_app.domain.errors import Conflict, InvalidInput, NotFound
from marketing_app.models import Membership, Role, Tenant, User
from marketing_app.services.auth import normalize_email
from marketing_app.services.crypto import hash_password

MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class MemberRow:
    user_id: uuid.UUID
    email: str
    full_name: str
    role: str


def validated_email(email: str) -> str:
    try:
        return normalize_email(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise InvalidInput(f"Enter a valid email address ({exc}).", field="email") from exc


def validated_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError as exc:
        raise InvalidInput("Role must be owner, marketer or viewer.", field="role") from exc


def create_user(
    *,
    session: Session,
    email: str,
    password: str,
    full_name: str = "",
    is_platform_admin: bool = False,
) -> User:
    email = validated_email(email)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.", field="password"
        )
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(f"A user with email {email} already exists.", field="email")
    user = User(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        is_platform_admin=is_platform_admin,
    )
    session.add(user)
    session.flush()
    return user


def create_user_in_tenant(
    *,
    session: Session,
    email: str,
    password: str,
    full_name: str,
    is_platform_admin: bool,
    tenant_slug: str,
    role: str,
) -> User:
    """A new user, and their role in a tenant when a slug is given (admin's "New user" form)."""
    user = create_user(
        session=session,
        email=email,
        password=password,
        full_name=full_name,
        is_platform_admin=is_platform_admin,
    )
    if tenant_slug:
        tenant = session.exec(select(Tenant).where(Tenant.slug == tenant_slug)).first()
        if tenant is None:
            raise NotFound(f"No tenant '{tenant_slug}'.", field="tenant")
        set_membership(session=session, tenant_id=tenant.id, user_id=user.id, role=role)
    return user


def get_user_by_email(*, session: Session, email: str) -> User:
    user = session.exec(select(User).where(User.email == normalize_email(email))).first()
    if user is None:
        raise NotFound(f"No user with email {email}.", field="email")
    return user


def _refuse_losing_last_owner(
    session: Session, membership: Membership, new_role: str | None
) -> None:
    """A tenant always keeps an owner: otherwise nobody could manage its keys or members."""
    if membership.role != Role.OWNER or new_role == Role.OWNER:
        return
    owners = session.exec(
        select(func.count()).where(
            Membership.tenant_id == membership.tenant_id, Membership.role == Role.OWNER
        )
    ).one()
    if owners <= 1:
        raise Conflict("A tenant needs at least one owner; make someone else owner first.")


def set_membership(
    *, session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID, role: str
) -> Membership:
    """Add the user to the tenant, or change their role there."""
    checked_role = validated_role(role)
    if session.get(Tenant, tenant_id) is None or session.get(User, user_id) is None:
        raise NotFound("Tenant or user not found.")
    membership = session.exec(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    ).first()
    if membership is None:
        membership = Membership(tenant_id=tenant_id, user_id=user_id, role=checked_role)
    _refuse_losing_last_owner(session, membership, checked_role)
    membership.role = checked_role
    session.add(membership)
    session.flush()
    return membership


def remove_membership(*, session: Session, tenant_id: uuid.UUID, user_id: uuid.UUID) -> None:
    membership = session.exec(
        select(Membership).where(Membership.tenant_id == tenant_id, Membership.user_id == user_id)
    ).first()
    if membership is None:
        raise NotFound("That user is not a member of this tenant.")
    _refuse_losing_last_owner(session, membership, None)
    session.delete(membership)
    session.flush()


def list_members(*, session: Session, tenant_id: uuid.UUID) -> list[MemberRow]:
    rows = session.exec(
        select(User, Membership.role)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.tenant_id == tenant_id)
        .order_by(User.email)
    ).all()
    return [MemberRow(u.id, u.email, u.full_name, role) for u, role in rows]


def search_users(
    *, session: Session, search: str = "", limit: int = 25, offset: int = 0
) -> tuple[list[User], int]:
    query = select(User)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            or_(col(User.email).like(pattern), func.lower(User.full_name).like(pattern))
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(User.email).offset(offset).limit(limit)).all()
    return list(rows), total
