"""Dashboard page: the tenant's headline numbers and revenue charts."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.widgets import empty_state, stat_card
from marketing_app.pages.layout import shell
from marketing_app.state.dashboard import DashboardState


def _figures() -> rx.Component:
    revenue = rx.plotly(
        data=DashboardState.revenue_figure,
        id="revenue-chart",
        use_resize_handler=True,
        width="100%",
    )
    locations = rx.plotly(
        data=DashboardState.location_figure, use_resize_handler=True, width="100%"
    )
    return rx.vstack(
        rx.grid(
            rx.foreach(DashboardState.cards, stat_card),
            columns="4",
            spacing="4",
            width="100%",
            id="headline-cards",
        ),
        rx.card(revenue, width="100%"),
        rx.cond(DashboardState.by_location.length() > 0, rx.card(locations, width="100%")),
        spacing="4",
        width="100%",
    )


def _no_data() -> rx.Component:
    return empty_state(
        "users",
        "No customers yet",
        "Once customers and orders arrive (tracking API, POS sync or a CSV import) "
        "their numbers show here. Owners can load sample data from Settings.",
        rx.link("Open settings", href="/t/" + DashboardState.current_slug + "/settings"),
    )


def _content() -> rx.Component:
    loading = rx.center(rx.spinner(), padding="3em")
    return rx.cond(
        DashboardState.has_data, _figures(), rx.cond(DashboardState.loaded, _no_data(), loading)
    )


def dashboard_page() -> rx.Component:
    return shell("Dashboard", _content)


ROUTE = routes.TENANT_DASHBOARD
ON_LOAD = [DashboardState.require_tenant, DashboardState.load]
