"""One condition row of the segment builder: the kind picker, the controls each kind of
condition needs, and the remove button. Every control has a stable id c-<group>-<row>-<name>."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from marketing_app.components.choices import fixed_select, var_checkboxes, var_select
from marketing_app.domain.segment_definition import RFM_GROUPS
from marketing_app.state import segments_form_labels as labels
from marketing_app.state.segments_builder import SegmentBuilderState as B
from marketing_app.state.segments_form import CUSTOM_FIELD

KINDS = list(labels.KIND_LABELS.items())
FIELDS = [*labels.FIELD_LABELS.items(), (CUSTOM_FIELD, "Custom trait…")]
METRICS = list(labels.METRIC_LABELS.items())
COUNT_OPS = list(labels.COUNT_OP_LABELS.items())
MONTH_CHOICES = [(str(n), name) for n, name in enumerate(labels.MONTHS, start=1)]
RFM_CHOICES = Var.create([{"value": g, "label": g} for g in RFM_GROUPS])
CONSENT_STATES = list(labels.CONSENT_LABELS.items())
CHANNELS = [("email", "email"), ("sms", "SMS")]
MATCHES = list(labels.MATCH_LABELS.items())
LOYALTY_FIELDS = list(labels.LOYALTY_FIELD_LABELS.items())


def _cid(gi: Var, ci: Var, name: str) -> Var:
    """A stable element id for a condition's control: c-<group>-<condition>-<name>."""
    return "c-" + gi.to_string() + "-" + ci.to_string() + "-" + name


def word(text: str) -> rx.Component:
    """A word between controls ("match", "in the last", "days")."""
    return rx.text(text, size="2", color_scheme="gray", white_space="nowrap")


class Row:
    """Controls of one condition row, bound to its position."""

    def __init__(self, cond: Var, gi: Var, ci: Var) -> None:
        self.cond, self.gi, self.ci = cond, gi, ci

    def element_id(self, name: str) -> Var:
        return _cid(self.gi, self.ci, name)

    def text(self, attribute: str, placeholder: str = "", width: str = "10em", **props):
        return rx.input(
            value=self.cond[attribute].to(str),
            on_change=B.set_text(self.gi, self.ci, attribute),
            placeholder=placeholder,
            width=width,
            id=self.element_id(attribute),
            **props,
        )

    def number(self, attribute: str, placeholder: str = "", width: str = "6em"):
        return self.text(attribute, placeholder, width, type="number")

    def pick(self, attribute: str, choices, width: str | None = None):
        return fixed_select(
            choices,
            self.cond[attribute].to(str),
            B.set_text(self.gi, self.ci, attribute),
            select_id=self.element_id(attribute),
            width=width,
        )

    def yes_no(self, yes: str, no: str):
        return fixed_select(
            [("yes", yes), ("no", no)],
            rx.cond(self.cond.positive, "yes", "no"),
            B.set_positive(self.gi, self.ci),
            select_id=self.element_id("positive"),
        )

    def ops(self):
        return rx.select.root(
            rx.select.trigger(id=self.element_id("op")),
            rx.select.content(
                rx.foreach(self.cond.ops, lambda o: rx.select.item(o.label, value=o.value))
            ),
            value=self.cond.op,
            on_change=B.set_text(self.gi, self.ci, "op"),
        )

    def window(self):
        return rx.hstack(
            word("in the last"),
            self.number("within_days", "all time", "6.5em"),
            word("days"),
            align="center",
            spacing="2",
        )

    def picks(self, choices: Var):
        return var_checkboxes(
            choices,
            self.cond.picked,
            B.set_picked(self.gi, self.ci),
            group_id=self.element_id("picked"),
        )

    def days(self):
        return rx.hstack(self.number("value", "30"), word("days"), align="center")

    def between(self):
        return rx.hstack(self.number("value"), word("and"), self.number("value2"), align="center")

    def value_input(self):
        """The value control a trait condition's operator needs."""
        return rx.match(
            self.cond.input,
            ("none", rx.fragment()),
            ("number", self.number("value")),
            ("days", self.days()),
            ("date", self.text("value", "", "10em", type="date")),
            ("month", self.pick("value", MONTH_CHOICES)),
            ("list", self.text("value", "a, b, c", "14em")),
            ("between", self.between()),
            ("location", self.picks(B.locations)),
            ("staff", self.picks(B.staff)),
            self.text("value", "value", "12em"),
        )


# --- the controls of each kind, left to right ------------------------------------------------


def _trait(r: Row) -> list[rx.Component]:
    return [
        r.pick("field", FIELDS),
        rx.cond(r.cond.field == CUSTOM_FIELD, r.text("custom_field", "trait name", "9em")),
        r.ops(),
        r.value_input(),
    ]


def _orders(r: Row) -> list[rx.Component]:
    amount = rx.cond(r.cond.op == "between", r.between(), r.number("value"))
    return [r.pick("metric", METRICS), r.ops(), amount, r.window()]


def _no_order_in(r: Row) -> list[rx.Component]:
    return [word("no order in the last"), r.number("value"), word("days")]


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
        word("times"),
        r.window(),
    ]


def _event_time(r: Row) -> list[rx.Component]:
    return [
        r.pick("which", [("last", "last"), ("first", "first")]),
        r.text("name", "event name", "13em"),
        r.ops(),
        rx.cond(r.cond.input == "date", r.text("value", "", "10em", type="date"), r.days()),
    ]


def _ordered_product(r: Row) -> list[rx.Component]:
    return [
        r.yes_no("ordered", "never ordered"),
        r.pick("match", MATCHES),
        r.text("value", "e.g. Blue Dream 3.5g", "13em"),
        r.window(),
    ]


def _consent(r: Row) -> list[rx.Component]:
    return [r.pick("channel", CHANNELS), word("consent is"), r.pick("state", CONSENT_STATES)]


def _segment(r: Row) -> list[rx.Component]:
    return [
        r.yes_no("in", "not in"),
        var_select(
            B.other_segments,
            r.cond.value,
            B.set_text(r.gi, r.ci, "value"),
            placeholder="Choose a segment or list",
            select_id=r.element_id("value"),
        ),
    ]


def _rfm(r: Row) -> list[rx.Component]:
    return [word("RFM group is any of"), r.picks(RFM_CHOICES)]


def _top_spenders(r: Row) -> list[rx.Component]:
    return [word("in the top"), r.number("value", "10", "5em"), word("% of spenders")]


def _random_bucket(r: Row) -> list[rx.Component]:
    return [
        word("buckets"),
        r.number("value", "0", "5em"),
        word("to"),
        r.number("value2", "50", "5em"),
        word("of 100 (a stable random sample)"),
    ]


def _loyalty_value(r: Row) -> rx.Component:
    """What a loyalty row's operator needs: tiers to tick, one tier, a count of tiers, points."""
    one_tier = var_select(
        B.loyalty_tiers,
        r.cond.value,
        B.set_text(r.gi, r.ci, "value"),
        placeholder="Choose a tier",
        select_id=r.element_id("value"),
    )
    top = rx.hstack(r.number("value", "2", "5em"), word("tiers"), align="center")
    return rx.match(
        r.cond.input,
        ("tiers", r.picks(B.loyalty_tier_picks)),
        ("tier", one_tier),
        ("top", top),
        ("number", r.number("value", "points", "8em")),
        ("between", r.between()),
        rx.fragment(),
    )


def _loyalty(r: Row) -> list[rx.Component]:
    no_program = (r.cond.field == "tier") & (B.loyalty_tiers.length() == 0)
    return [
        word("loyalty"),
        r.pick("field", LOYALTY_FIELDS),
        r.ops(),
        _loyalty_value(r),
        rx.cond(no_program, word("(this workspace has no loyalty tiers yet)")),
    ]


CONTROLS = {
    "trait": _trait,
    "orders": _orders,
    "no_order_in": _no_order_in,
    "engagement": _engagement,
    "event": _event,
    "event_time": _event_time,
    "ordered_product": _ordered_product,
    "consent": _consent,
    "segment": _segment,
    "rfm": _rfm,
    "top_spenders": _top_spenders,
    "random_bucket": _random_bucket,
    "loyalty": _loyalty,
}


def _condition_controls(r: Row) -> rx.Component:
    def line(children: list[rx.Component]) -> rx.Component:
        return rx.hstack(*children, spacing="2", align="center", wrap="wrap")

    cases = [(kind, line(controls(r))) for kind, controls in CONTROLS.items()]
    return rx.match(r.cond.kind, *cases, rx.text("Unknown condition"))


# --- the row ---------------------------------------------------------------------------------


def _kind_select(r: Row) -> rx.Component:
    return rx.box(
        fixed_select(
            KINDS, r.cond.kind, B.set_kind(r.gi, r.ci), select_id=r.element_id("kind"), width="13em"
        ),
        flex_shrink="0",
    )


def _remove_button(r: Row) -> rx.Component:
    return rx.icon_button(
        rx.icon("x", size=14),
        size="1",
        variant="ghost",
        color_scheme="gray",
        on_click=B.remove_condition(r.gi, r.ci),
        aria_label="Remove condition",
        id=r.element_id("remove"),
    )


def condition_row(cond: Var, gi: Var, ci: Var, group_op: Var) -> rx.Component:
    """Row `ci` of group `gi`, after an AND/OR badge from the second row on."""
    r = Row(cond, gi, ci)
    connector = rx.cond(
        ci > 0,
        rx.badge(rx.cond(group_op == "or", "OR", "AND"), variant="outline", size="1"),
    )
    row = rx.hstack(
        _kind_select(r),
        rx.box(_condition_controls(r), flex="1", min_width="0"),
        _remove_button(r),
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
    )
    return rx.vstack(connector, row, spacing="1", width="100%")
