"""The segment builder page: name and description, groups of conditions (AND/OR, NOT) or a
read-only definition, save; the conditions' rows are in `segment_conditions`."""

from __future__ import annotations

import reflex as rx
from reflex.vars import Var

from marketing_app import routes
from marketing_app.components.choices import fixed_select
from marketing_app.components.widgets import field_error, labeled
from marketing_app.pages.layout import form_page, shell
from marketing_app.pages.segment_conditions import KINDS, condition_row, word
from marketing_app.pages.segments import viewer_note, when_loaded
from marketing_app.pages.segments_builder_preview import live_count, sample
from marketing_app.state.segments_builder import SegmentBuilderState as B

ALL_ANY = [("and", "all"), ("or", "any")]


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


def _negate_switch(group: Var, gi: Var) -> rx.Component:
    return rx.tooltip(
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
    )


def _group_header(group: Var, gi: Var) -> rx.Component:
    return rx.hstack(
        rx.badge("Group " + (gi + 1).to_string(), size="2"),
        word("match"),
        fixed_select(
            ALL_ANY,
            group.op,
            B.set_group_op(gi),
            select_id="group-" + gi.to_string() + "-op",
        ),
        word("of these conditions"),
        rx.spacer(),
        _negate_switch(group, gi),
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


def _group_card(group: Var, gi: Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            _group_header(group, gi),
            rx.cond(
                group.conditions.length() == 0,
                rx.text(
                    "No conditions yet: this group matches everyone. Add one below.",
                    size="2",
                    color_scheme="gray",
                ),
            ),
            rx.foreach(group.conditions, lambda cond, ci: condition_row(cond, gi, ci, group.op)),
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
            word("Customers who match"),
            fixed_select(ALL_ANY, B.top_op, B.set_top_op, select_id="top-op"),
            word("of these groups"),
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
        live_count(),
        sample(),
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
    return form_page(when_loaded(B.loaded, layout), B)


def segment_builder_page() -> rx.Component:
    return shell("Segment builder", _content)


NEW_ROUTE = routes.SEGMENT_NEW
EDIT_ROUTE = routes.SEGMENT_EDIT
ON_LOAD = [B.require_tenant, B.load]
