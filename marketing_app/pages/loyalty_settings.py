"""The Loyalty page's program tab: earning settings, category multipliers and the tiers
editor. Nothing is stored until Save; the service's message shows next to the field."""

from __future__ import annotations

import reflex as rx

from marketing_app.components.choices import fixed_select
from marketing_app.components.widgets import field_error, labeled
from marketing_app.services.loyalty_programs import MAX_TIERS, PRESET_LABELS
from marketing_app.state.loyalty import LoyaltyState as S
from marketing_app.state.loyalty_form import AMOUNT, FIELDS, NO_REWARD, REWARD_KINDS, SOURCES

EDITORS_ONLY = "Only owners and marketers change the program."
PRESET_BUTTONS = [("alpineiq", "Use Alpine IQ tiers"), ("metals", "Use Bronze–Platinum tiers")]


def _error(field: str) -> rx.Var:
    return S.field_errors.get(field, "")


def _number_input(key: str, label: str, hint: str) -> rx.Component:
    control = rx.input(
        value=S.fields[key],
        on_change=lambda value: S.set_field(key, value),
        disabled=~S.can_edit,
        width="100%",
        inputmode="decimal",
        id=f"loyalty-{key.replace('_', '-')}",
    )
    return rx.vstack(
        labeled(label, control, _error(key)),
        rx.text(hint, size="1", color_scheme="gray"),
        spacing="1",
        width="100%",
    )


def _earning_card() -> rx.Component:
    source = fixed_select(
        SOURCES,
        S.fields["source_of_truth"],
        lambda value: S.set_field("source_of_truth", value),
        select_id="loyalty-source-of-truth",
        width="100%",
        disabled=~S.can_edit,
    )
    return rx.card(
        rx.vstack(
            rx.heading("Earning and value", size="4"),
            labeled(
                "Program name",
                rx.input(
                    value=S.program_name,
                    on_change=S.set_program_name,
                    disabled=~S.can_edit,
                    width="100%",
                    id="loyalty-program-name",
                ),
                _error("name"),
            ),
            rx.grid(
                *[_number_input(key, label, hint) for key, label, hint in FIELDS],
                rx.vstack(
                    labeled("Source of truth", source, _error("source_of_truth")),
                    rx.text("whose balance wins a disagreement", size="1", color_scheme="gray"),
                    spacing="1",
                    width="100%",
                ),
                columns="3",
                spacing="4",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _category_row(row: rx.Var, index: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.input(
            value=row["name"],
            placeholder="Category, e.g. edibles",
            on_change=lambda value: S.set_category_field(index, "name", value),
            disabled=~S.can_edit,
            width="16em",
        ),
        rx.input(
            value=row["multiplier"],
            placeholder="x2",
            on_change=lambda value: S.set_category_field(index, "multiplier", value),
            disabled=~S.can_edit,
            width="6em",
        ),
        rx.icon_button(
            rx.icon("x", size=14),
            variant="ghost",
            color_scheme="gray",
            on_click=S.remove_category(index),
            disabled=~S.can_edit,
            aria_label="Remove category",
        ),
        align="center",
    )


def _categories_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("Category multipliers", size="4"),
            rx.text(
                "Lines of these categories earn their points times the multiplier.",
                size="2",
                color_scheme="gray",
            ),
            rx.foreach(S.categories, _category_row),
            field_error(_error("category_multipliers")),
            rx.button(
                rx.icon("plus", size=14),
                "Add category",
                variant="soft",
                size="1",
                on_click=S.add_category,
                disabled=~S.can_edit,
                id="add-category",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def _tier_input(tier: rx.Var, index: rx.Var, key: str, width: str, placeholder: str = ""):
    return rx.input(
        value=tier[key],
        placeholder=placeholder,
        on_change=lambda value: S.set_tier_field(index, key, value),
        disabled=~S.can_edit,
        width=width,
        class_name=f"tier-{key.replace('_', '-')}",
    )


def _tier_row(tier: rx.Var, index: rx.Var) -> rx.Component:
    no_reward = tier["reward_kind"] == NO_REWARD
    kind = fixed_select(
        REWARD_KINDS,
        tier["reward_kind"],
        lambda value: S.set_tier_field(index, "reward_kind", value),
        width="10em",
        disabled=~S.can_edit,
    )
    value_hint = rx.cond(tier["reward_kind"] == AMOUNT, "$ off", "% off")
    return rx.table.row(
        rx.table.cell(_tier_input(tier, index, "name", "100%")),
        rx.table.cell(_tier_input(tier, index, "threshold", "7em")),
        rx.table.cell(kind),
        rx.table.cell(
            rx.cond(
                no_reward,
                rx.text("—", color_scheme="gray"),
                rx.hstack(
                    _tier_input(tier, index, "reward_value", "6em"),
                    rx.text(value_hint, size="1", color_scheme="gray"),
                    align="center",
                ),
            )
        ),
        rx.table.cell(
            rx.cond(no_reward, rx.fragment(), _tier_input(tier, index, "reward_points", "7em"))
        ),
        rx.table.cell(
            rx.icon_button(
                rx.icon("trash-2", size=14),
                variant="ghost",
                color_scheme="red",
                on_click=S.remove_tier(index),
                disabled=~S.can_edit,
                aria_label="Remove tier",
            )
        ),
        class_name="tier-row",
        align="center",
    )


def _tiers_table() -> rx.Component:
    headers = ["Name", "From lifetime points", "Reward", "Discount", "Costs points", ""]
    return rx.cond(
        S.tiers.length() > 0,
        rx.table.root(
            rx.table.header(rx.table.row(*[rx.table.column_header_cell(h) for h in headers])),
            rx.table.body(rx.foreach(S.tiers, _tier_row)),
            width="100%",
            id="tiers-editor",
        ),
        rx.callout(
            "No tiers: every member is in one pool. Add tiers or start from a preset.",
            icon="info",
            color_scheme="gray",
            id="no-tiers",
        ),
    )


def _tiers_card() -> rx.Component:
    presets = [
        rx.tooltip(
            rx.button(
                label,
                variant="outline",
                size="1",
                on_click=S.use_preset_tiers(key),
                disabled=~S.can_edit,
                id=f"preset-tiers-{key}",
            ),
            content=PRESET_LABELS[key],
        )
        for key, label in PRESET_BUTTONS
    ]
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Tiers", size="4"),
                rx.spacer(),
                *presets,
                rx.button(
                    rx.icon("plus", size=14),
                    "Add tier",
                    size="1",
                    on_click=S.add_tier,
                    disabled=~S.can_edit | (S.tiers.length() >= MAX_TIERS),
                    id="add-tier",
                ),
                width="100%",
                align="center",
                spacing="2",
            ),
            rx.text(
                "Members reach a tier by lifetime points; a tier's reward is a discount code "
                "they can buy with points once they are in that tier or above.",
                size="2",
                color_scheme="gray",
            ),
            _tiers_table(),
            field_error(_error("tiers")),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _save_bar() -> rx.Component:
    return rx.hstack(
        rx.button("Save program", on_click=S.save, disabled=~S.can_edit, id="save-program"),
        rx.button(
            "Discard changes",
            variant="soft",
            color_scheme="gray",
            on_click=S.discard,
            disabled=~S.unsaved,
            id="discard-program",
        ),
        rx.cond(S.unsaved, rx.badge("Unsaved changes", color_scheme="amber", id="unsaved")),
        rx.cond(~S.can_edit, rx.text(EDITORS_ONLY, size="1", color_scheme="gray")),
        field_error(_error("settings")),
        align="center",
        spacing="3",
        width="100%",
    )


def program_tab() -> rx.Component:
    return rx.vstack(
        _earning_card(),
        _categories_card(),
        _tiers_card(),
        _save_bar(),
        spacing="4",
        width="100%",
        padding_top="1em",
    )
