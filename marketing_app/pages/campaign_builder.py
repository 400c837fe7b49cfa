"""The campaign builder: details, audience with its live count, content per variant (template
gallery, editor with token picker and problems by line, preview, test send), A/B test,
schedule, save."""

from __future__ import annotations

import reflex as rx

from marketing_app import routes
from marketing_app.components.choices import fixed_select, var_checkboxes, var_select
from marketing_app.components.email_editor import content_editor, preview_panel, test_send_panel
from marketing_app.components.widgets import field_error, labeled
from marketing_app.pages.campaigns import read_only_note
from marketing_app.pages.layout import form_page, shell
from marketing_app.pages.segments import slug_href, when_loaded
from marketing_app.state.campaign_builder import CampaignBuilderState as B

METRICS = [("open", "open rate"), ("click", "click rate"), ("revenue", "revenue per recipient")]
SCHEDULE_MODES = [
    ("now", "Send as soon as I press Send"),
    ("at", "At a date and time"),
    ("local", "At a time of day in each customer's time zone"),
]


def _text(label: str, field: str, control_id: str, **props) -> rx.Component:
    """A detail input: its value, setter and error all named by `field`."""
    control = rx.input(
        value=getattr(B, field),
        on_change=B.set_detail(field),
        width="100%",
        id=control_id,
        **props,
    )
    return labeled(label, control, B.field_errors.get(field, ""))


def _pair(*children: rx.Component) -> rx.Component:
    return rx.grid(*children, columns="2", spacing="3", width="100%")


def _details() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.text("Details", weight="bold"),
            _text("Name", "name", "campaign-name", placeholder="e.g. June specials"),
            _pair(
                _text("From name", "from_name", "from-name"),
                _text("From address", "from_email", "from-email", placeholder="news@yourshop.com"),
            ),
            _pair(
                _text("Reply-to (optional)", "reply_to", "reply-to"),
                _text("Topic (preference center)", "topic", "topic"),
            ),
            width="100%",
        ),
        width="100%",
    )


def _live_count() -> rx.Component:
    return rx.box(
        rx.hstack(
            rx.heading(B.eligible_text, size="5", id="audience-count"),
            rx.cond(B.count_busy, rx.spinner(size="1")),
            align="center",
        ),
        rx.text(
            B.counts.get("members", 0).to_string() + " in the chosen segments and lists",
            size="1",
            color_scheme="gray",
            id="audience-members",
        ),
        rx.foreach(
            B.left_out, lambda line: rx.text("Left out: " + line, size="1", color_scheme="gray")
        ),
        padding="0.75em",
        border_radius="8px",
        background=rx.color("accent", 2),
        width="100%",
        id="audience-live",
    )


def _audience() -> rx.Component:
    none_yet = rx.text(
        "No segments or lists yet: build one on the Segments page first.",
        size="2",
        color_scheme="gray",
    )
    return rx.card(
        rx.vstack(
            rx.text("Audience", weight="bold"),
            rx.text("Send to anyone in", size="2"),
            rx.cond(
                B.segments.length() > 0,
                var_checkboxes(
                    B.segments, B.audience_ids, B.set_audience, group_id="audience-segments"
                ),
                none_yet,
            ),
            field_error(B.field_errors.get("audience", "")),
            rx.text("Leave out anyone in", size="2"),
            var_checkboxes(
                B.segments, B.exclude_ids, B.set_exclusions, group_id="audience-exclusions"
            ),
            _live_count(),
            width="100%",
        ),
        width="100%",
    )


def _variant_bar() -> rx.Component:
    tab = lambda key: rx.button(  # noqa: E731
        "Variant " + key,
        size="1",
        variant=rx.cond(B.active_key == key, "solid", "soft"),
        on_click=B.select_variant(key),
        id="variant-tab-" + key,
    )
    return rx.vstack(
        rx.hstack(
            rx.foreach(B.variant_keys, tab),
            rx.button(
                rx.icon("plus", size=14),
                "Add variant",
                size="1",
                variant="outline",
                on_click=B.add_variant,
                id="add-variant",
            ),
            rx.cond(
                B.active_key != "A",
                rx.button(
                    "Remove this variant",
                    size="1",
                    variant="ghost",
                    color_scheme="red",
                    on_click=B.remove_variant(B.active_key),
                ),
            ),
            wrap="wrap",
            spacing="2",
        ),
        rx.grid(
            labeled(
                "From name of this variant (blank: the campaign's)",
                rx.input(
                    value=B.variants[B.active].from_name,
                    on_change=B.set_variant_from_name,
                    width="100%",
                    id="variant-from-name",
                ),
            ),
            labeled(
                "Send this variant later by (hours)",
                rx.input(
                    value=B.variants[B.active].send_delay_hours,
                    on_change=B.set_variant_delay,
                    type="number",
                    min="0",
                    max="72",
                    width="100%",
                    id="variant-delay",
                ),
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _content() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Content", weight="bold"),
                rx.spacer(),
                rx.text("Start from", size="2", color_scheme="gray"),
                var_select(
                    B.template_choices,
                    B.template_pick,
                    B.pick_template,
                    placeholder="a template…",
                    select_id="template-pick",
                ),
                width="100%",
                align="center",
            ),
            rx.cond(B.ab_enabled, _variant_bar()),
            rx.grid(
                content_editor(B),
                rx.vstack(preview_panel(B), test_send_panel(B), width="100%"),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="4",
                width="100%",
            ),
            field_error(B.field_errors.get("content", "")),
            width="100%",
        ),
        width="100%",
    )


def _ab_test() -> rx.Component:
    settings = rx.vstack(
        rx.grid(
            labeled(
                "Test share of the audience (%)",
                rx.input(
                    value=B.test_percent,
                    on_change=B.set_test_percent,
                    type="number",
                    min="5",
                    max="50",
                    id="ab-percent",
                ),
            ),
            labeled(
                "Wait before choosing (hours)",
                rx.input(
                    value=B.wait_hours,
                    on_change=B.set_wait_hours,
                    type="number",
                    min="1",
                    max="168",
                    id="ab-wait",
                ),
            ),
            columns="2",
            spacing="3",
            width="100%",
        ),
        labeled("Winner by", fixed_select(METRICS, B.metric, B.set_metric, select_id="ab-metric")),
        rx.text(
            "The test share gets the variants evenly; after the wait, the variant most likely "
            "to be best goes to everyone else. You can also pick the winner by hand.",
            size="1",
            color_scheme="gray",
        ),
        width="100%",
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("A/B test", weight="bold"),
                rx.spacer(),
                rx.switch(checked=B.ab_enabled, on_change=B.set_ab_enabled, id="ab-enabled"),
                width="100%",
            ),
            rx.text(
                "Try 2–4 variants of subject, content, from name or send time.",
                size="2",
                color_scheme="gray",
            ),
            rx.cond(B.ab_enabled, settings),
            field_error(B.field_errors.get("ab_test", "")),
            width="100%",
        ),
        width="100%",
    )


def _schedule() -> rx.Component:
    zone = rx.text("Times are in " + B.time_zone + ".", size="1", color_scheme="gray")
    return rx.card(
        rx.vstack(
            rx.text("Schedule", weight="bold"),
            fixed_select(
                SCHEDULE_MODES,
                B.schedule_mode,
                B.set_schedule_mode,
                select_id="schedule-mode",
                width="100%",
            ),
            rx.match(
                B.schedule_mode,
                (
                    "at",
                    rx.vstack(
                        rx.input(
                            type="datetime-local",
                            value=B.send_at,
                            on_change=B.set_send_at,
                            id="send-at",
                        ),
                        zone,
                    ),
                ),
                (
                    "local",
                    rx.hstack(
                        rx.input(
                            type="date",
                            value=B.send_date,
                            on_change=B.set_send_date,
                            id="send-date",
                        ),
                        rx.input(
                            type="time",
                            value=B.local_time,
                            on_change=B.set_local_time,
                            id="local-time",
                        ),
                    ),
                ),
                rx.fragment(),
            ),
            rx.cond(
                B.schedule_mode != "local",
                rx.hstack(
                    rx.switch(checked=B.optimize, on_change=B.set_optimize, id="optimize"),
                    rx.text("Send each customer at the hour they usually open", size="2"),
                    align="center",
                ),
            ),
            field_error(B.field_errors.get("schedule", "")),
            width="100%",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.vstack(
        rx.cond(
            B.save_error != "",
            rx.callout(B.save_error, icon="ban", color_scheme="red", width="100%", id="save-error"),
        ),
        rx.hstack(
            rx.button(
                rx.icon("save", size=16),
                "Save draft",
                on_click=B.save,
                disabled=~B.can_edit,
                id="save-campaign",
            ),
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href=B.back_href),
            rx.text(
                "Sending happens on the next page, after a last check.",
                size="1",
                color_scheme="gray",
            ),
            align="center",
        ),
        width="100%",
    )


def _page() -> rx.Component:
    body = rx.vstack(
        rx.link("← Campaigns", href=slug_href("campaigns")),
        read_only_note("You can look at this campaign; owners and marketers change it."),
        rx.grid(
            _details(),
            _audience(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        _content(),
        rx.grid(
            _ab_test(),
            _schedule(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        _actions(),
        spacing="4",
        width="100%",
    )
    return form_page(when_loaded(B.loaded, body), B)


def campaign_builder_page() -> rx.Component:
    return shell("Campaign builder", _page)


NEW_ROUTE = routes.CAMPAIGN_NEW
EDIT_ROUTE = routes.CAMPAIGN_EDIT
ON_LOAD = [B.require_tenant, B.load]
