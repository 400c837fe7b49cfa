"""The campaign report's figures from campaign_stats shapes: quiet hours shown as zeros,
an empty timeline that says so, a funnel in send order, variants by key."""

from __future__ import annotations

from marketing_app.components.charts import (
    campaign_funnel_figure,
    campaign_timeline_figure,
    campaign_variants_figure,
)


def test_the_timeline_has_a_bar_for_every_hour_between_the_first_and_the_last():
    figure = campaign_timeline_figure(
        [
            {"hour": "2026-11-21 23:00:00+00:00", "opens": 2, "clicks": 1},
            {"hour": "2026-11-22 02:00:00+00:00", "opens": 5, "clicks": 0},
        ]
    )
    opens, clicks = figure.data
    assert list(opens.x) == ["Nov 21 23:00", "Nov 22 00:00", "Nov 22 01:00", "Nov 22 02:00"]
    assert (list(opens.y), list(clicks.y)) == ([2, 0, 0, 5], [1, 0, 0, 0])


def test_an_empty_timeline_says_so():
    figure = campaign_timeline_figure([])
    assert [a.text for a in figure.layout.annotations] == ["No opens or clicks yet"]


def test_funnel_and_variants_read_the_stats_totals():
    totals = {"sent": 10, "delivered": 9, "opened": 4, "clicked": 1}
    [funnel] = campaign_funnel_figure(totals).data
    assert list(funnel.y) == ["Sent", "Delivered", "Opened", "Clicked"]
    assert list(funnel.x) == [10, 9, 4, 1]
    variants = [
        {"key": "A", "open_rate": 0.4, "click_rate": 0.1},
        {"key": "held", "open_rate": 0.0, "click_rate": 0.0},
    ]
    opens, _ = campaign_variants_figure(variants).data
    assert list(opens.x) == ["Variant A", "Held back"] and list(opens.y) == [0.4, 0.0]
