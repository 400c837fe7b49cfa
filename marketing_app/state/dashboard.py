"""Dashboard: headline numbers and charts for the tenant in the URL."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import reflex as rx

from marketing_app.components.charts import location_revenue_figure, monthly_revenue_figure
from marketing_app.db import session_scope
from marketing_app.services import dashboard
from marketing_app.services.tenants import get_tenant_by_slug
from marketing_app.state.session import SessionState


def money(cents: int) -> str:
    return f"${cents / 100:,.0f}"


class DashboardState(SessionState):
    cards: list[dict[str, str]] = []
    monthly: list[dict[str, Any]] = []
    by_location: list[dict[str, Any]] = []
    has_data: bool = False
    loaded: bool = False

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        with session_scope() as session:
            tenant = get_tenant_by_slug(session=session, slug=self.current_slug)
            stats = dashboard.headline_stats(session=session, tenant_id=tenant.id)
            monthly = dashboard.monthly_revenue(session=session, tenant_id=tenant.id)
            locations = dashboard.revenue_by_location(session=session, tenant_id=tenant.id)
        self.cards = [
            {
                "label": "Customers",
                "value": f"{stats.customers:,}",
                "hint": f"+{stats.new_customers_30d:,} in 30 days",
            },
            {
                "label": "Revenue (30 days)",
                "value": money(stats.revenue_30d_cents),
                "hint": f"{stats.orders_30d:,} orders",
            },
            {
                "label": "Average order",
                "value": money(stats.average_order_cents),
                "hint": "30 days",
            },
            {
                "label": "Events (30 days)",
                "value": f"{stats.events_30d:,}",
                "hint": f"{stats.email_consent_rate:.0%} email opt-in",
            },
        ]
        self.monthly = [m.model_dump() for m in monthly]
        self.by_location = [loc.model_dump() for loc in locations]
        self.has_data = stats.customers > 0
        self.loaded = True

    @rx.var
    def revenue_figure(self) -> go.Figure:
        return monthly_revenue_figure(self.monthly)

    @rx.var
    def location_figure(self) -> go.Figure:
        return location_revenue_figure(self.by_location)
