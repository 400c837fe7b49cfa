"""Plotly figures built from service DTOs (as dicts, the way state holds them)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

ACCENT = "#3e63dd"


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
