"""A campaign's page: what it is and to whom, what stops it from being sent, the send's
progress bar, the lifecycle buttons, and the report with its charts and A/B variants."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.dialogs import delete_dialog
from marketing_app.components.tables import simple_table
from marketing_app.components.widgets import empty_state, stat_card
from marketing_app.pages.campaigns import read_only_note, status_badge
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.campaign_detail import CampaignDetailState as D


def _button(label: str, icon: str, on_click, button_id: str, **props) -> rx.Component:
    props.setdefault("disabled", ~D.can_edit)
    return rx.button(rx.icon(icon, size=16), label, on_click=on_click, id=button_id, **props)


def _delete_dialog() -> rx.Component:
    return delete_dialog(
        title="Delete this campaign?",
        description="It never sent anything, so nothing else is lost.",
        on_confirm=D.delete,
        open_=D.delete_open,
        on_open_change=D.set_delete_open,
        disabled=~D.can_edit,
        trigger_id="delete-campaign",
    )


def _draft_actions() -> rx.Component:
    ready = D.problems.length() == 0
    return rx.hstack(
        rx.link(
            rx.button(rx.icon("pencil", size=16), "Edit", variant="soft", disabled=~D.can_edit),
            href=D.edit_href,
            id="edit-campaign",
        ),
        rx.cond(
            D.campaign["schedule_mode"] != "now",
            _button(
                "Schedule",
                "calendar-clock",
                D.schedule,
                "schedule-campaign",
                disabled=~D.can_edit | ~ready,
            ),
        ),
        rx.button(
            rx.icon("send", size=16),
            "Send now",
            on_click=D.send_now,
            disabled=~D.can_edit | ~ready,
            color_scheme="green",
            id="send-now",
        ),
        spacing="2",
    )


def _actions() -> rx.Component:
    cancel = _button(
        "Cancel", "octagon-x", D.cancel, "cancel-campaign", color_scheme="red", variant="soft"
    )
    return rx.hstack(
        rx.match(
            D.status,
            ("draft", _draft_actions()),
            (
                "scheduled",
                rx.hstack(
                    _button(
                        "Back to draft",
                        "undo-2",
                        D.unschedule,
                        "unschedule-campaign",
                        variant="soft",
                    ),
                    cancel,
                ),
            ),
            (
                "sending",
                rx.hstack(
                    _button("Pause", "pause", D.pause, "pause-campaign", variant="soft"), cancel
                ),
            ),
            ("paused", rx.hstack(_button("Resume", "play", D.resume, "resume-campaign"), cancel)),
            rx.fragment(),
        ),
        rx.cond(~D.executed, _delete_dialog()),
        spacing="2",
        wrap="wrap",
    )


def _fact(label: str, value) -> rx.Component:
    return rx.hstack(
        rx.text(label, size="2", color_scheme="gray", min_width="7em"),
        rx.text(value, size="2"),
        align="start",
    )


def _summary() -> rx.Component:
    return rx.card(
        rx.vstack(
            _fact("Subject", D.campaign["subject"]),
            _fact("From", D.campaign["sender"]),
            _fact("Audience", D.campaign["audience"]),
            _fact("Schedule", D.campaign["schedule"]),
            rx.cond(
                D.campaign["scheduled_for"] != "", _fact("Starts", D.campaign["scheduled_for"])
            ),
            rx.cond(D.campaign["started"] != "", _fact("Started", D.campaign["started"])),
            rx.cond(D.campaign["finished"] != "", _fact("Finished", D.campaign["finished"])),
            spacing="2",
            width="100%",
            id="campaign-summary",
        ),
        width="100%",
    )


def _problems() -> rx.Component:
    return rx.cond(
        (D.status == "draft") & (D.problems.length() > 0),
        rx.callout.root(
            rx.callout.icon(rx.icon("ban")),
            rx.vstack(
                rx.text("This campaign cannot be sent yet:", weight="medium", size="2"),
                rx.foreach(
                    D.problems,
                    lambda p: rx.text("• " + p, size="2", class_name="readiness-problem"),
                ),
                spacing="1",
            ),
            color_scheme="amber",
            width="100%",
            id="readiness-problems",
        ),
    )


def _progress() -> rx.Component:
    return rx.cond(
        D.status != "draft",
        rx.card(
            rx.vstack(
                rx.hstack(
                    rx.text("Send progress", weight="bold"),
                    rx.spacer(),
                    rx.text(
                        D.progress_percent.to_string() + "%", weight="bold", id="progress-percent"
                    ),
                    width="100%",
                ),
                rx.progress(value=D.progress_percent, max=100, width="100%", id="send-progress"),
                rx.text(D.progress_text, size="1", color_scheme="gray", id="progress-text"),
                width="100%",
            ),
            width="100%",
        ),
    )


def _variant_cells(row) -> list:
    pick = rx.cond(
        D.can_pick_winner & (row["key"] != "held"),
        rx.button(
            "Send to the rest",
            size="1",
            variant="soft",
            on_click=D.choose_winner(row["key"]),
            disabled=~D.can_edit,
            id="winner-" + row["key"],
        ),
        rx.cond(
            D.ab["winner"] == row["key"],
            rx.badge("winner " + D.ab["decided_by"], color_scheme="green"),
        ),
    )
    label = rx.cond(row["key"] == "held", "Held for the winner", "Variant " + row["key"])
    return [
        label,
        row["recipients"],
        row["opened"],
        row["clicked"],
        row["revenue"],
        row["chance"],
        pick,
    ]


def _ab_card() -> rx.Component:
    return rx.cond(
        D.ab["enabled"] == "yes",
        rx.card(
            rx.vstack(
                rx.text("A/B test", weight="bold"),
                rx.text(
                    D.ab["test_percent"]
                    + "% of the audience gets the variants; the winner by "
                    + D.ab["metric"]
                    + " goes to the rest after "
                    + D.ab["wait_hours"]
                    + " hours.",
                    size="2",
                    color_scheme="gray",
                ),
                simple_table(
                    ["Variant", "Recipients", "Opened", "Clicked", "Revenue", "Chance best", ""],
                    D.variant_rows,
                    _variant_cells,
                    empty=rx.text("No messages yet.", size="2", color_scheme="gray"),
                    table_id="variants-table",
                ),
                width="100%",
            ),
            width="100%",
        ),
    )


def _chart(figure, chart_id: str) -> rx.Component:
    return rx.card(
        rx.plotly(data=figure, use_resize_handler=True, width="100%", id=chart_id), width="100%"
    )


def _report() -> rx.Component:
    charts = rx.vstack(
        rx.grid(
            rx.foreach(D.headline, stat_card),
            columns=rx.breakpoints(initial="2", md="5"),
            spacing="3",
            width="100%",
        ),
        rx.grid(
            _chart(D.funnel, "funnel-chart"),
            _chart(D.opens_over_time, "timeline-chart"),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(D.variant_stats.length() > 1, _chart(D.variants_chart, "variants-chart")),
        spacing="4",
        width="100%",
    )
    nothing = empty_state(
        "chart-line",
        "No report yet",
        "Opens, clicks and revenue appear here once the campaign starts sending.",
    )
    return rx.vstack(
        rx.heading("Report", size="5"),
        rx.cond(D.has_report, charts, nothing),
        width="100%",
        id="campaign-report",
    )


def _page() -> rx.Component:
    body = rx.vstack(
        rx.link("← Campaigns", href=slug_href("campaigns")),
        read_only_note(
            "You can look at this campaign and its report; owners and marketers send it."
        ),
        rx.hstack(
            rx.hstack(
                rx.heading(D.campaign["name"], size="6", id="campaign-title"),
                status_badge(D.status),
                align="center",
            ),
            rx.spacer(),
            _actions(),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        _problems(),
        _summary(),
        _progress(),
        _ab_card(),
        _report(),
        spacing="4",
        width="100%",
    )
    return when_loaded(D.loaded, body)


def campaign_detail_page() -> rx.Component:
    return shell("Campaign", _page)


ROUTE = routes.CAMPAIGN_DETAIL
ON_LOAD = [D.require_tenant, D.load]
