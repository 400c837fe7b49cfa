"""Dashboard figures, computed by services and drawn by components."""

from __future__ import annotations

from pydantic import BaseModel


class HeadlineStats(BaseModel):
    customers: int
    new_customers_30d: int
    orders_30d: int
    revenue_30d_cents: int
    average_order_cents: int
    events_30d: int
    email_consent_rate: float  # 0..1


class MonthlyRevenue(BaseModel):
    month: str  # YYYY-MM in the tenant's time zone
    revenue_cents: int
    orders: int


class LocationRevenue(BaseModel):
    location: str
    revenue_cents: int
