"""The segment builder: groups of conditions (AND/OR, NOT), a live count and a sample."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from marketing_app import routes
from marketing_app.components.choices import fixed_select, var_checkboxes, var_select
from marketing_app.components.widgets import field_error, labeled
from marketing_app.domain.segment_definition import RFM_GROUPS
from marketing_app.pages.layout import shell
from marketing_app.pages.segments import viewer_note, when_loaded
from marketing_app.state import segments_form as form
from marketing_app.state.segments_builder import SegmentBuilderState as B

ALL_ANY = [("and", "all"), ("or", "any")]
KINDS = list(form.KIND_LABELS.items())
FIELDS = [*form.FIELD_LABELS.items(), (form.CUSTOM_FIELD, "Custom trait…")]
METRICS = list(form.METRIC_LABELS.items())
COUNT_OPS = list(form.COUNT_OP_LABELS.items())
MONTH_CHOICES = [(str(n), name) for n, name in enumerate(form.MONTHS, start=1)]
RFM_CHOICES = Var.create([{"value": g, "label": g} for g in RFM_GROUPS])
CONSENT_STATES = list(form.CONSENT_LABELS.items())
CHANNELS = [("email", "email"), ("sms", "SMS")]
MATCHES = list(form.MATCH_LABELS.items())


def _cid(gi: Var, ci: Var, name: str) -> Var:
    """A stable element id for a condition's control: c-<group>-<condition>-<name>."""
    return "c-" + gi.to_string() + "-" + ci.to_string() + "-" + name


def _word(text: str) -> rx.Component:
    return rx.text(text, size="2", color_scheme="gray", white_space="nowrap")


class Row:
    """Controls of one condition row, bound to its position."""

    def __init__(self, cond: Var, gi: Var, ci: Var) -> None:
        self.cond, self.gi, self.ci = cond, gi, ci

    def text(self, attribute: str, placeholder: str = "", width: str = "10em", **props):
        return rx.input(
            value=self.cond[attribute].to(str),
            on_change=B.set_text(self.gi, self.ci, attribute),
            placeholder=placeholder,
            width=width,
            id=_cid(self.gi, self.ci, attribute),
            **props,
        )

    def number(self, attribute: str, placeholder: str = "", width: str = "6em"):
        return self.text(attribute, placeholder, width, type="number")

    def pick(self, attribute: str, choices, width: str | None = None):
        return fixed_select(
            choices,
            self.cond[attribute].to(str),
            B.set_text(self.gi, self.ci, attribute),
            select_id=_cid(self.gi, self.ci, attribute),
            width=width,
        )

    def yes_no(self, yes: str, no: str):
        return fixed_select(
            [("yes", yes), ("no", no)],
            rx.cond(self.cond.positive, "yes", "no"),
            B.set_positive(self.gi, self.ci),
            select_id=_cid(self.gi, self.ci, "positive"),
        )

    def ops(self):
        return rx.select.root(
            rx.select.trigger(id=_cid(self.gi, self.ci, "op")),
            rx.select.content(
                rx.foreach(self.cond.ops, lambda o: rx.select.item(o.label, value=o.value))
            ),
            value=self.cond.op,
            on_change=B.set_text(self.gi, self.ci, "op"),
        )

    def window(self):
        return rx.hstack(
            _word("in the last"),
            self.number("within_days", "all time", "6.5em"),
            _word("days"),
            align="center",
            spacing="2",
        )

    def picks(self, choices: Var):
        return var_checkboxes(
            choices,
            self.cond.picked,
            B.set_picked(self.gi, self.ci),
            group_id=_cid(self.gi, self.ci, "picked"),
        )

    def value_input(self):
        """The value control a trait condition's operator needs."""
        return rx.match(
            self.cond.input,
            ("none", rx.fragment()),
            ("number", self.number("value")),
            ("days", rx.hstack(self.number("value", "30"), _word("days"), align="center")),
            ("date", self.text("value", "", "10em", type="date")),
            ("month", self.pick("value", MONTH_CHOICES)),
            ("list", self.text("value", "a, b, c", "14em")),
            (
                "between",
                rx.hstack(
                    self.number("value"), _word("and"), self.number("value2"), align="center"
                ),
            ),
            ("location", self.picks(B.locations)),
            ("staff", self.picks(B.staff)),
            self.text("value", "value", "12em"),
        )


def _trait(r: Row) -> list[rx.Component]:
    return [
        r.pick("field", FIELDS),
        rx.cond(r.cond.field == form.CUSTOM_FIELD, r.text("custom_field", "trait name", "9em")),
        r.ops(),
        r.value_input(),
    ]


def _orders(r: Row) -> list[rx.Component]:
    amount = rx.cond(
        r.cond.op == "between",
        rx.hstack(r.number("value"), _word("and"), r.number("value2"), align="center"),
        r.number("value"),
    )
    return [r.pick("metric", METRICS), r.ops(), amount, r.window()]


def _engagement(r: Row) -> list[rx.Component]:
    return [
        r.yes_no("did", "did not"),
        r.pick("action", [("opened", "open"), ("clicked", "click"), ("received", "receive")]),
        r.pick("channel", [("email", "an email"), ("sms", "an SMS")]),
        r.window(),
        r.text("campaign", "campaign id (optional)", "12em"),
    ]


def _event(r: Row) -> list[rx.Component]:
    return [
        r.text("name", "event name, e.g. Product Viewed", "15em"),
        r.pick("count_op", COUNT_OPS),
        r.number("count", "1", "5em"),
        _word("times"),
        r.window(),
    ]


def _event_time(r: Row) -> list[rx.Component]:
    return [
        r.pick("which", [("last", "last"), ("first", "first")]),
        r.text("name", "event name", "13em"),
        r.ops(),
        rx.cond(
            r.cond.input == "date",
            r.text("value", "", "10em", type="date"),
            rx.hstack(r.number("value", "30"), _word("days"), align="center"),
        ),
    ]


def _ordered_product(r: Row) -> list[rx.Component]:
    return [
        r.yes_no("ordered", "never ordered"),
        r.pick("match", MATCHES),
        r.text("value", "e.g. Blue Dream 3.5g", "13em"),
        r.window(),
    ]


def _condition_controls(r: Row) -> rx.Component:
    def line(*children) -> rx.Component:
        return rx.hstack(*children, spacing="2", align="center", wrap="wrap")

    return rx.match(
        r.cond.kind,
        ("trait", line(*_trait(r))),
        ("orders", line(*_orders(r))),
        ("no_order_in", line(_word("no order in the last"), r.number("value"), _word("days"))),
        ("engagement", line(*_engagement(r))),
        ("event", line(*_event(r))),
        ("event_time", line(*_event_time(r))),
        ("ordered_product", line(*_ordered_product(r))),
        (
            "consent",
            line(r.pick("channel", CHANNELS), _word("consent is"), r.pick("state", CONSENT_STATES)),
        ),
        (
            "segment",
            line(
                r.yes_no("in", "not in"),
                var_select(
                    B.other_segments,
                    r.cond.value,
                    B.set_text(r.gi, r.ci, "value"),
                    placeholder="Choose a segment or list",
                    select_id=_cid(r.gi, r.ci, "value"),
                ),
            ),
        ),
        ("rfm", line(_word("RFM group is any of"), r.picks(RFM_CHOICES))),
        (
            "top_spenders",
            line(_word("in the top"), r.number("value", "10", "5em"), _word("% of spenders")),
        ),
        (
            "random_bucket",
            line(
                _word("buckets"),
                r.number("value", "0", "5em"),
                _word("to"),
                r.number("value2", "50", "5em"),
                _word("of 100 (a stable random sample)"),
            ),
        ),
        rx.text("Unknown condition"),
    )


def _condition_row(cond: Var, gi: Var, ci: Var, group_op: Var) -> rx.Component:
    r = Row(cond, gi, ci)
    connector = rx.cond(
        ci > 0,
        rx.badge(rx.cond(group_op == "or", "OR", "AND"), variant="outline", size="1"),
    )
    return rx.vstack(
        connector,
        rx.hstack(
            rx.box(
                fixed_select(
                    KINDS,
                    cond.kind,
                    B.set_kind(gi, ci),
                    select_id=_cid(gi, ci, "kind"),
                    width="13em",
                ),
                flex_shrink="0",
            ),
            rx.box(_condition_controls(r), flex="1", min_width="0"),
            rx.icon_button(
                rx.icon("x", size=14),
                size="1",
                variant="ghost",
                color_scheme="gray",
                on_click=B.remove_condition(gi, ci),
                aria_label="Remove condition",
                id=_cid(gi, ci, "remove"),
            ),
            align="start",
            width="100%",
            padding="0.6em",
            border_radius="8px",
            border=rx.cond(
                cond.error,
                f"1px solid {rx.color('red', 8)}",
                f"1px solid {rx.color('gray', 5)}",
            ),
            background=rx.cond(cond.error, rx.color("red", 2), rx.color("gray", 1)),
            class_name="condition-row",
        ),
        spacing="1",
        width="100%",
    )


def _add_condition_menu(gi: Var) -> rx.Component:
    return rx.menu.root(
        rx.menu.trigger(
            rx.button(
                rx.icon("plus", size=14),
                "Add condition",
                size="1",
                variant="soft",
                id="add-condition-" + gi.to_string(),
            )
        ),
        rx.menu.content(
            *[
                rx.menu.item(label, on_click=B.add_condition(gi, kind), class_name=f"kind-{kind}")
                for kind, label in KINDS
            ]
        ),
    )


def _group_card(group: Var, gi: Var) -> rx.Component:
    header = rx.hstack(
        rx.badge("Group " + (gi + 1).to_string(), size="2"),
        _word("match"),
        fixed_select(
            ALL_ANY,
            group.op,
            B.set_group_op(gi),
            select_id="group-" + gi.to_string() + "-op",
        ),
        _word("of these conditions"),
        rx.spacer(),
        rx.tooltip(
            rx.hstack(
                rx.switch(
                    checked=group.negate,
                    on_change=B.set_group_negate(gi),
                    id="group-" + gi.to_string() + "-negate",
                    color_scheme="red",
                ),
                rx.text("NOT", size="2", weight="medium"),
                align="center",
                spacing="1",
            ),
            content="Turn on to keep the customers who do NOT match this group.",
        ),
        rx.icon_button(
            rx.icon("trash-2", size=14),
            size="1",
            variant="ghost",
            color_scheme="red",
            on_click=B.remove_group(gi),
            aria_label="Remove group",
            id="group-" + gi.to_string() + "-remove",
        ),
        align="center",
        width="100%",
        spacing="2",
    )
    return rx.card(
        rx.vstack(
            header,
            rx.cond(
                group.conditions.length() == 0,
                rx.text(
                    "No conditions yet: this group matches everyone. Add one below.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.foreach(group.conditions, lambda cond, ci: _condition_row(cond, gi, ci, group.op)),
            _add_condition_menu(gi),
            spacing="2",
            width="100%",
        ),
        width="100%",
        border_left=rx.cond(group.negate, f"4px solid {rx.color('red', 9)}", "none"),
        class_name="segment-group",
    )


def _group_with_connector(group: Var, gi: Var) -> rx.Component:
    connector = rx.cond(
        gi > 0,
        rx.center(
            rx.badge(rx.cond(B.top_op == "or", "OR", "AND"), size="2", variant="solid"),
            width="100%",
        ),
    )
    return rx.vstack(connector, _group_card(group, gi), width="100%", spacing="2")


def _builder() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            _word("Customers who match"),
            fixed_select(ALL_ANY, B.top_op, B.set_top_op, select_id="top-op"),
            _word("of these groups"),
            align="center",
        ),
        rx.foreach(B.groups, _group_with_connector),
        rx.button(
            rx.icon("layers", size=14),
            "Add group",
            variant="outline",
            size="2",
            on_click=B.add_group,
            id="add-group",
        ),
        spacing="3",
        width="100%",
        id="segment-builder",
    )


def _readonly() -> rx.Component:
    return rx.vstack(
        rx.callout(
            "This definition nests groups deeper than the builder shows (it was made through "
            "the API), so it is shown as JSON and kept as it is. You can still change the "
            "name and description.",
            icon="info",
            id="readonly-note",
        ),
        rx.box(
            rx.text(B.readonly_json, font_family="monospace", size="1", white_space="pre"),
            padding="1em",
            border_radius="8px",
            background=rx.color("gray", 3),
            width="100%",
            overflow_x="auto",
            id="readonly-definition",
        ),
        width="100%",
    )


def _live_count() -> rx.Component:
    count = rx.vstack(
        rx.heading(B.count_text, size="5", id="live-count"),
        rx.progress(value=B.count_share, max=100, width="100%"),
        rx.text(B.count_share.to_string() + "% of your customers", size="1", color_scheme="gray"),
        spacing="2",
        width="100%",
    )
    error = rx.callout(
        B.est_error, icon="triangle-alert", color_scheme="red", id="estimate-error", width="100%"
    )
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text("Live count", weight="bold"),
                rx.spacer(),
                rx.cond(B.est_busy, rx.spinner(size="1")),
                width="100%",
                align="center",
            ),
            rx.cond(
                B.est_error != "",
                error,
                rx.cond(B.est_ready, count, rx.center(rx.spinner(), width="100%")),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _sample_row(r) -> rx.Component:
    ellipsis = {"white_space": "nowrap", "overflow": "hidden", "text_overflow": "ellipsis"}
    return rx.hstack(
        rx.vstack(
            rx.link(
                r["name"],
                href="/t/" + B.current_slug + "/customers/" + r["id"],
                size="2",
                max_width="100%",
                **ellipsis,
            ),
            rx.text(r["email"], size="1", color_scheme="gray", max_width="100%", **ellipsis),
            spacing="0",
            min_width="0",
            flex="1",
        ),
        rx.vstack(
            rx.text(r["spent"], size="2", white_space="nowrap"),
            rx.text(r["orders_text"], size="1", color_scheme="gray", white_space="nowrap"),
            spacing="0",
            align="end",
        ),
        width="100%",
        padding_y="0.4em",
        border_bottom=f"1px solid {rx.color('gray', 4)}",
    )


def _sample() -> rx.Component:
    rows = rx.cond(
        B.sample.length() > 0,
        rx.vstack(rx.foreach(B.sample, _sample_row), spacing="0", width="100%"),
        rx.text("Nobody matches.", size="2", color_scheme="gray"),
    )
    return rx.card(
        rx.vstack(
            rx.text("Who matches (biggest spenders first)", weight="bold"),
            rx.cond(
                B.est_error != "",
                rx.text("—", color_scheme="gray"),
                rx.cond(B.est_ready, rows, rx.center(rx.spinner(), width="100%")),
            ),
            width="100%",
            id="estimate-sample",
        ),
        width="100%",
    )


def _details() -> rx.Component:
    return rx.card(
        rx.vstack(
            labeled(
                "Name",
                rx.input(
                    value=B.name,
                    on_change=B.set_name,
                    placeholder="e.g. Lapsed big spenders",
                    width="100%",
                    id="segment-name",
                ),
                B.name_error,
            ),
            labeled(
                "Description (optional)",
                rx.text_area(
                    value=B.description,
                    on_change=B.set_description,
                    width="100%",
                    rows="2",
                    id="segment-description",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )


def _actions() -> rx.Component:
    return rx.vstack(
        field_error(B.save_error),
        rx.hstack(
            rx.button(
                rx.icon("save", size=16),
                "Save and calculate",
                on_click=B.save,
                disabled=~B.can_edit,
                id="save-segment",
            ),
            rx.link(rx.button("Cancel", variant="soft", color_scheme="gray"), href=B.back_href),
        ),
        width="100%",
    )


def _content() -> rx.Component:
    left = rx.vstack(
        rx.link("← Back", href=B.back_href),
        viewer_note(),
        _details(),
        rx.cond(B.editable, _builder(), _readonly()),
        _actions(),
        spacing="4",
        width="100%",
    )
    right = rx.vstack(
        _live_count(),
        _sample(),
        spacing="3",
        width="100%",
        position="sticky",
        top="1em",
    )
    layout = rx.grid(
        left,
        rx.box(right, height="100%"),
        columns="minmax(0, 5fr) minmax(16em, 2fr)",
        spacing="5",
        width="100%",
    )
    return when_loaded(B.loaded, layout)


def segment_builder_page() -> rx.Component:
    return shell("Segment builder", _content)


NEW_ROUTE = routes.SEGMENT_NEW
EDIT_ROUTE = routes.SEGMENT_EDIT
ON_LOAD = [B.require_tenant, B.load]
