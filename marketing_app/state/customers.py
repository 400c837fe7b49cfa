"""Customers list and customer detail: thin over the profiles service."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.db import session_scope
from marketing_app.domain.errors import NotFound
from marketing_app.models import Contact
from marketing_app.services import profiles
from marketing_app.services.tenants import get_tenant_by_slug
from marketing_app.state.session import SessionState

PAGE_SIZE = 25
ANY = "all"


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _row(contact: Contact) -> dict[str, str]:
    name = f"{contact.first_name} {contact.last_name}".strip() or "(no name)"
    return {
        "id": str(contact.id),
        "name": name,
        "email": contact.email or "",
        "phone": contact.phone or "",
        "orders": str(contact.order_count),
        "spent": _money(contact.total_spent_cents),
        "last_seen": _when(contact.last_seen_at),
    }


def _fact_cards(contact: Contact) -> list[dict[str, str]]:
    average = contact.total_spent_cents // contact.order_count if contact.order_count else 0
    return [
        {
            "label": "Orders",
            "value": str(contact.order_count),
            "hint": f"last {_when(contact.last_order_at)}",
        },
        {
            "label": "Total spent",
            "value": _money(contact.total_spent_cents),
            "hint": f"avg {_money(average)}",
        },
        {
            "label": "First seen",
            "value": _when(contact.first_seen_at or contact.created_at),
            "hint": "",
        },
        {"label": "Last seen", "value": _when(contact.last_seen_at), "hint": ""},
    ]


class CustomersState(SessionState):
    rows: list[dict[str, str]] = []
    search: str = ""
    location: str = ANY
    buyers: str = ANY  # all | buyers | prospects
    page: int = 1
    total: int = 0
    locations: list[dict[str, str]] = []

    @rx.var
    def pages(self) -> int:
        return max(1, (self.total + PAGE_SIZE - 1) // PAGE_SIZE)

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        self._reload()

    def _reload(self) -> None:
        with session_scope() as session:
            tenant = get_tenant_by_slug(session=session, slug=self.current_slug)
            places = profiles.list_locations(session=session, tenant_id=tenant.id)
            self.locations = [{"id": str(p.id), "name": p.name} for p in places]
            rows, self.total = profiles.search_profiles(
                session=session,
                tenant_id=tenant.id,
                search=self.search,
                location_id=int(self.location) if self.location != ANY else None,
                has_orders={"buyers": True, "prospects": False}.get(self.buyers),
                limit=PAGE_SIZE,
                offset=(self.page - 1) * PAGE_SIZE,
            )
            self.rows = [_row(c) for c in rows]

    @rx.event
    def set_search(self, value: str):
        self.search, self.page = value[:200], 1
        self._reload()

    @rx.event
    def set_location(self, value: str):
        self.location, self.page = value, 1
        self._reload()

    @rx.event
    def set_buyers(self, value: str):
        self.buyers, self.page = value, 1
        self._reload()

    @rx.event
    def page_by(self, step: int):
        self.page = min(max(1, self.page + step), self.pages)
        self._reload()


class CustomerDetailState(SessionState):
    profile: dict[str, str] = {}
    facts: list[dict[str, str]] = []
    traits: list[dict[str, str]] = []
    timeline: list[dict[str, str]] = []

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        try:
            self._load_profile(int(routes.path_part(self.router.url.path, 3) or "0"))
        except (NotFound, ValueError):
            self.page_error = "not_found"

    def _load_profile(self, contact_id: int) -> None:
        with session_scope() as session:
            tenant = get_tenant_by_slug(session=session, slug=self.current_slug)
            contact = profiles.get_profile(
                session=session, tenant_id=tenant.id, contact_id=contact_id
            )
            entries = profiles.profile_timeline(
                session=session, tenant_id=tenant.id, contact_id=contact_id
            )
            self.profile = {
                **_row(contact),
                "user_id": contact.user_id or "—",
                "birthday": contact.birthday.isoformat() if contact.birthday else "—",
                "location": profiles.location_name(session=session, contact=contact) or "—",
                "email_consent": "subscribed" if contact.email_consent else "not subscribed",
                "sms_consent": "subscribed" if contact.sms_consent else "not subscribed",
            }
            self.facts = _fact_cards(contact)
            self.traits = [
                {"key": str(k), "value": str(v)} for k, v in sorted((contact.traits or {}).items())
            ]
            self.timeline = [
                {"at": _when(e.at), "kind": e.kind, "title": e.title, "detail": e.detail}
                for e in entries
            ]
