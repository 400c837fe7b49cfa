"""The shared shell: sidebar navigation, tenant switcher, user menu, and the page guards."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

from marketing_app.components.widgets import not_found_panel
from marketing_app.state.session import FormPageMixin, SessionState

# (label, icon, path under /t/<slug>/). Only areas that work are listed; the others
# (Flows, SMS, Analytics, Integrations) join as built.
TENANT_NAV = [
    ("Dashboard", "layout-dashboard", "dashboard"),
    ("Customers", "users", "customers"),
    ("Segments", "users-round", "segments"),
    ("Loyalty", "award", "loyalty"),
    ("Campaigns", "mail", "campaigns"),
    ("Email templates", "layout-template", "email-templates"),
    ("Outbox", "inbox", "outbox"),
    ("Suppressions", "ban", "suppressions"),
    ("Settings", "settings", "settings"),
]


def _nav_link(label: str, icon: str, section: str) -> rx.Component:
    href = "/t/" + SessionState.current_slug + "/" + section
    active = SessionState.router.url.path.contains(section)
    return rx.link(
        rx.hstack(rx.icon(icon, size=16), rx.text(label, size="2"), align="center"),
        href=href,
        padding="0.45em 0.75em",
        border_radius="8px",
        width="100%",
        underline="none",
        color=rx.cond(active, rx.color("accent", 11), rx.color("gray", 12)),
        background=rx.cond(active, rx.color("accent", 3), "transparent"),
        id=f"nav-{section}",
    )


def _tenant_switcher() -> rx.Component:
    return rx.select.root(
        rx.select.trigger(placeholder="Choose a tenant", width="100%", id="tenant-switcher"),
        rx.select.content(
            rx.foreach(
                SessionState.tenants,
                lambda t: rx.select.item(t["name"].to(str), value=t["slug"].to(str)),
            )
        ),
        value=SessionState.current_slug,
        on_change=SessionState.switch_tenant,
        size="2",
    )


def sidebar() -> rx.Component:
    return rx.vstack(
        rx.heading("Marketing", size="5", padding_bottom="0.5em"),
        rx.cond(SessionState.tenants.length() > 0, _tenant_switcher()),
        rx.cond(
            SessionState.tenant_role != "",
            rx.vstack(*[_nav_link(*item) for item in TENANT_NAV], spacing="1", width="100%"),
        ),
        rx.cond(
            SessionState.is_platform_admin,
            rx.link(
                rx.hstack(rx.icon("shield", size=16), rx.text("Admin", size="2"), align="center"),
                href="/admin",
                padding="0.45em 0.75em",
                width="100%",
                underline="none",
                id="nav-admin",
                color=rx.color("gray", 12),
            ),
        ),
        rx.spacer(),
        rx.vstack(
            rx.text(SessionState.user_name, size="2", weight="medium", id="signed-in-as"),
            rx.text(SessionState.user_email, size="1", color_scheme="gray"),
            rx.button(
                "Sign out", variant="soft", size="1", on_click=SessionState.logout, id="logout"
            ),
            spacing="1",
        ),
        width="15em",
        min_width="15em",
        height="100vh",
        padding="1.25em",
        border_right=f"1px solid {rx.color('gray', 5)}",
        position="sticky",
        top="0",
        background=rx.color("gray", 2),
    )


def shell(title: str, content: Callable[[], rx.Component]) -> rx.Component:
    """Wrap a page: nothing renders until the session is checked, 404 panel on denial."""
    return rx.cond(
        SessionState.is_authenticated,
        rx.hstack(
            sidebar(),
            rx.box(
                rx.cond(
                    SessionState.page_error == "not_found",
                    not_found_panel(),
                    rx.vstack(
                        rx.hstack(
                            rx.heading(title, size="7"),
                            rx.spacer(),
                            rx.cond(
                                SessionState.tenant_role != "",
                                rx.badge(
                                    SessionState.tenant_name + " · " + SessionState.tenant_role,
                                    size="2",
                                    id="tenant-badge",
                                ),
                            ),
                            width="100%",
                            align="center",
                        ),
                        content(),
                        spacing="5",
                        width="100%",
                    ),
                ),
                padding="2em",
                width="100%",
                max_width="1200px",
            ),
            spacing="0",
            align="start",
            width="100%",
        ),
        rx.center(rx.spinner(size="3"), height="100vh"),
    )


def form_page(body: rx.Component, state: type[FormPageMixin]) -> rx.Component:
    """A form page's body: leaving it tells the state, so that a later on_load starts the form
    afresh while one run by a websocket reconnect keeps the unsaved edits (form_kept)."""
    return rx.box(body, on_unmount=state.leave_form, width="100%")
