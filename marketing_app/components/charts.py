"""Plotly figures built from service DTOs (as dicts, the way state holds them)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import plotly.graph_objects as go

ACCENT = "#3e63dd"
MAX_TIMELINE_HOURS = 24 * 14  # bars in the campaign timeline: two weeks of hours


def _base_layout(figure: go.Figure, height: int = 320) -> go.Figure:
    figure.update_layout(
        autosize=True,
        height=height,
        margin={"l": 50, "r": 20, "t": 30, "b": 40},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": "Inter, system-ui, sans-serif", "size": 12},
    )
    figure.update_yaxes(gridcolor="#e5e7eb")
    return figure


def monthly_revenue_figure(months: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            x=[m["month"] for m in months],
            y=[m["revenue_cents"] / 100 for m in months],
            marker_color=ACCENT,
            customdata=[m["orders"] for m in months],
            hovertemplate="%{x}<br>$%{y:,.0f}<br>%{customdata} orders<extra></extra>",
        )
    )
    figure.update_layout(title={"text": "Revenue by month", "x": 0})
    figure.update_yaxes(tickprefix="$", tickformat=",.0f")
    return _base_layout(figure)


def location_revenue_figure(rows: list[dict[str, Any]]) -> go.Figure:
    figure = go.Figure(
        go.Bar(
            y=[r["location"] for r in rows][::-1],
            x=[r["revenue_cents"] / 100 for r in rows][::-1],
            orientation="h",
            marker_color="#30a46c",
            hovertemplate="%{y}<br>$%{x:,.0f}<extra></extra>",
        )
    )
    figure.update_layout(title={"text": "Revenue by location, last 90 days", "x": 0})
    figure.update_xaxes(tickprefix="$", tickformat=",.0f")
    return _base_layout(figure)


def rfm_groups_figure(groups: list[dict[str, Any]]) -> go.Figure:
    """Customers per RFM group, best groups first (rows as `rfm.rfm_summary` gives them)."""
    figure = go.Figure(
        go.Bar(
            x=[g["group"] for g in groups],
            y=[g["customers"] for g in groups],
            marker_color=ACCENT,
            text=[f"{g['customers']:,}" for g in groups],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>%{y:,} customers<extra></extra>",
        )
    )
    figure.update_layout(title={"text": "Customers per RFM group", "x": 0})
    figure.update_yaxes(tickformat=",d", rangemode="tozero")
    return _base_layout(figure, height=360)


def loyalty_tiers_figure(tiers: list[dict[str, Any]]) -> go.Figure:
    """Members per loyalty tier, lowest first (rows as the loyalty page state holds them)."""
    figure = go.Figure(
        go.Bar(
            x=[t["tier"] for t in tiers],
            y=[t["members"] for t in tiers],
            marker_color=ACCENT,
            text=[f"{t['members']:,}" for t in tiers],
            textposition="outside",
            cliponaxis=False,
            customdata=[f"{t['threshold']:,}" for t in tiers],
            hovertemplate="%{x} (from %{customdata} points)<br>%{y:,} members<extra></extra>",
        )
    )
    figure.update_layout(title={"text": "Members by tier", "x": 0})
    figure.update_xaxes(type="category")  # "1000" as a tier name is a label, not a number
    figure.update_yaxes(tickformat=",d", rangemode="tozero")
    return _base_layout(figure)


def campaign_funnel_figure(totals: dict[str, Any]) -> go.Figure:
    """Sent -> delivered -> opened -> clicked (campaign_stats totals; human opens only)."""
    stages = [("Sent", "sent"), ("Delivered", "delivered"), ("Opened", "opened")]
    stages.append(("Clicked", "clicked"))
    figure = go.Figure(
        go.Funnel(
            y=[label for label, _ in stages],
            x=[int(totals.get(key, 0)) for _, key in stages],
            marker={"color": [ACCENT, "#30a46c", "#f76b15", "#8e4ec6"]},
            textinfo="value+percent initial",
            hovertemplate="%{y}: %{x:,}<extra></extra>",
        )
    )
    figure.update_layout(title={"text": "Funnel", "x": 0})
    return _base_layout(figure, height=300)


def _hourly(hours: list[dict[str, Any]]) -> list[tuple[datetime, int, int]]:
    """Every hour from the first to the last with activity (quiet hours as zeros), at most
    MAX_TIMELINE_HOURS of them."""
    found = {
        datetime.fromisoformat(h["hour"]).replace(minute=0, second=0, microsecond=0): h
        for h in hours
    }
    if not found:
        return []
    first, last = min(found), max(found)
    span = min(int((last - first) / timedelta(hours=1)) + 1, MAX_TIMELINE_HOURS)
    slots = [first + timedelta(hours=i) for i in range(span)]
    return [
        (at, found.get(at, {}).get("opens", 0), found.get(at, {}).get("clicks", 0)) for at in slots
    ]


def campaign_timeline_figure(hours: list[dict[str, Any]]) -> go.Figure:
    """Human opens and clicks per hour since the send started (campaign_stats timeline)."""
    rows = _hourly(hours)
    labels = [at.strftime("%b %d %H:00") for at, _, _ in rows]
    figure = go.Figure(
        [
            go.Bar(x=labels, y=[r[1] for r in rows], name="Opens", marker_color=ACCENT),
            go.Bar(x=labels, y=[r[2] for r in rows], name="Clicks", marker_color="#8e4ec6"),
        ]
    )
    figure.update_layout(
        title={"text": "Opens and clicks per hour (UTC)", "x": 0},
        barmode="group",
        legend={"orientation": "h", "y": -0.2},
    )
    peak = max([max(r[1], r[2]) for r in rows] or [0])
    figure.update_xaxes(type="category")
    figure.update_yaxes(tickformat=",d", rangemode="tozero", dtick=max(1, math.ceil(peak / 5)))
    if not rows:  # say so instead of drawing empty axes
        figure.add_annotation(text="No opens or clicks yet", showarrow=False, font={"size": 14})
        figure.update_xaxes(visible=False)
        figure.update_yaxes(visible=False)
    return _base_layout(figure, height=300)


def campaign_variants_figure(variants: list[dict[str, Any]]) -> go.Figure:
    """Open and click rate per A/B variant (campaign_stats variants, with their key)."""
    keys = [f"Variant {v['key']}" if v["key"] != "held" else "Held back" for v in variants]
    figure = go.Figure(
        [
            go.Bar(x=keys, y=[v["open_rate"] for v in variants], name="Open rate"),
            go.Bar(x=keys, y=[v["click_rate"] for v in variants], name="Click rate"),
        ]
    )
    figure.update_layout(
        title={"text": "Variants", "x": 0}, barmode="group", legend={"orientation": "h", "y": -0.2}
    )
    figure.update_yaxes(tickformat=".0%", rangemode="tozero")
    return _base_layout(figure, height=300)
