"""The segment builder's form model without a browser or a database: definition -> rows ->
definition keeps every kind of condition, presets open in the builder, deeper definitions are
read-only, bad input becomes a message, and a definition reads well in words."""

from __future__ import annotations

import typing

import pytest

from marketing_app.domain import segment_definition as sd
from marketing_app.domain.errors import InvalidInput
from marketing_app.services.segment_presets import PRESETS
from marketing_app.services.segments import parse_definition
from marketing_app.state import segments_form as form
from marketing_app.state.segments_form_convert import from_definition, to_definition
from marketing_app.state.segments_form_words import (
    condition_words,
    definition_heading,
    definition_lines,
    group_words,
)

# At least one condition of every kind, with the variants the rows convert differently.
CONDITIONS: list[dict] = [
    {"kind": "trait", "field": "email", "op": "is_set"},
    {"kind": "trait", "field": "email", "op": "contains", "value": "@example.com"},
    {"kind": "trait", "field": "first_name", "op": "in", "value": ["Ann", "Bo"]},
    {"kind": "trait", "field": "total_spent", "op": "between", "value": [10, 20.5]},
    {"kind": "trait", "field": "order_count", "op": "gte", "value": 3},
    {"kind": "trait", "field": "created_at", "op": "before", "value": "2026-01-31"},
    {"kind": "trait", "field": "last_seen_at", "op": "not_within_last_days", "value": 30},
    {"kind": "trait", "field": "birthday", "op": "in_month", "value": 4},
    {"kind": "trait", "field": "birthday", "op": "anniversary_within_next_days", "value": 7},
    {"kind": "trait", "field": "location", "op": "in", "value": [1, 2]},
    {"kind": "trait", "field": "staff", "op": "not_in", "value": [3]},
    {"kind": "trait", "field": "custom.tier", "op": "eq", "value": "gold"},
    {"kind": "trait", "field": "custom.member", "op": "is_true"},
    {"kind": "orders", "metric": "total_spent", "op": "gt", "value": 500, "within_days": 90},
    {"kind": "orders", "metric": "average_order_value", "op": "between", "value": [10, 99.5]},
    {"kind": "orders", "metric": "order_count", "op": "eq", "value": 1},
    {"kind": "no_order_in", "days": 60},
    {"kind": "engagement", "action": "opened", "channel": "email", "within_days": 30},
    {"kind": "engagement", "action": "clicked", "channel": "sms", "campaign_id": "c-7"},
    {"kind": "engagement", "action": "received", "channel": "email", "engaged": False},
    {"kind": "event", "name": "Product Viewed", "count_op": "at_least", "count": 2},
    {
        "kind": "event",
        "name": "Cart Abandoned",
        "count_op": "exactly",
        "count": 0,
        "within_days": 7,
    },
    {
        "kind": "event_time",
        "name": "Login",
        "which": "first",
        "op": "before",
        "value": "2025-06-01",
    },
    {"kind": "event_time", "name": "Login", "op": "within_last_days", "value": 14},
    {"kind": "ordered_product", "match": "sku", "value": "BD-35", "within_days": 30},
    {"kind": "ordered_product", "value": "Blue Dream", "ordered": False},
    {"kind": "consent", "channel": "sms", "state": "suppressed"},
    {"kind": "segment", "segment_id": 5, "member": False},
    {"kind": "rfm", "groups": ["Champions", "At Risk"]},
    {"kind": "top_spenders", "percent": 10},
    {"kind": "random_bucket", "low": 10, "high": 60, "salt": 3},
    {"kind": "loyalty", "field": "member", "op": "is_true"},
    {"kind": "loyalty", "field": "member", "op": "is_false"},
    {"kind": "loyalty", "field": "tier", "op": "in", "value": ["Gold", "Platinum"]},
    {"kind": "loyalty", "field": "tier", "op": "not_in", "value": ["", "Bronze"]},
    {"kind": "loyalty", "field": "tier", "op": "at_least", "value": "Silver"},
    {"kind": "loyalty", "field": "tier", "op": "in_top", "value": 2},
    {"kind": "loyalty", "field": "balance", "op": "gte", "value": 500},
    {"kind": "loyalty", "field": "lifetime_earned", "op": "between", "value": [100, 2500.5]},
]
# What a new row of these kinds still needs from the user.
BLANKS = {
    "event": {"name": "Signed Up"},
    "event_time": {"name": "Signed Up"},
    "ordered_product": {"value": "Blue Dream"},
    "segment": {"value": "5"},
    "rfm": {"picked": ["Lost"]},
}
PRESET_PARAMS = {"location": [4], "staff": [2], "product": "Blue Dream 3.5g"}


def _two_levels(*conditions: dict, op: str = "and", negate: bool = False) -> dict:
    group = {"kind": "group", "op": op, "negate": negate, "children": list(conditions)}
    return {"root": {"kind": "group", "op": "or", "children": [group]}}


def _round_trip(definition: dict) -> dict:
    shaped = from_definition(definition)
    assert shaped is not None, "the builder should show this definition"
    return to_definition(*shaped)


def test_the_examples_cover_every_condition_kind():
    kinds = {model.model_fields["kind"].default for model in typing.get_args(sd.Condition)}
    assert kinds == {c["kind"] for c in CONDITIONS}
    assert set(form.DEFAULTS) == kinds


@pytest.mark.parametrize("condition", CONDITIONS, ids=lambda c: f"{c['kind']}-{c.get('op', '')}")
def test_every_condition_round_trips(condition):
    definition = _two_levels(condition)
    assert parse_definition(_round_trip(definition)) == parse_definition(definition)


def test_groups_keep_their_operator_and_not():
    definition = {
        "root": {
            "kind": "group",
            "op": "or",
            "children": [
                {"kind": "group", "op": "or", "negate": True, "children": CONDITIONS[:3]},
                {"kind": "group", "op": "and", "children": CONDITIONS[13:16]},
            ],
        }
    }
    assert parse_definition(_round_trip(definition)) == parse_definition(definition)


@pytest.mark.parametrize("kind", sorted(form.DEFAULTS))
def test_a_new_row_of_every_kind_converts_once_its_blanks_are_filled(kind):
    row = form.new_condition(kind)
    groups = [form.GroupForm(conditions=[row])]
    assert bool(form.missing_input(groups)) == (kind in BLANKS)
    for attribute, value in BLANKS.get(kind, {}).items():
        setattr(row, attribute, value)
    assert form.missing_input(groups) == ""
    parse_definition(to_definition("and", groups))


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.key)
def test_every_preset_opens_in_the_builder(preset):
    params = {}
    if preset.parameter is not None:
        name = preset.parameter.name
        params[name] = PRESET_PARAMS.get(name, preset.parameter.default)
    original = parse_definition(preset.definition(params))
    saved = parse_definition(_round_trip(preset.definition(params)))
    assert saved.root.op == original.root.op
    assert not any(g.negate for g in saved.root.children)
    assert list(sd.iter_conditions(saved.root)) == list(sd.iter_conditions(original.root))
    for line in definition_lines(preset.definition(params), {}):
        assert "{" not in line and "kind" not in line, line  # no condition shown as raw JSON


def test_a_definition_deeper_than_two_levels_is_read_only():
    inner = {"kind": "group", "op": "and", "children": [CONDITIONS[1]]}
    middle = {"kind": "group", "op": "or", "children": [inner, CONDITIONS[16]]}
    deep = {"root": {"kind": "group", "op": "and", "children": [middle]}}
    parse_definition(deep)  # valid, as the API accepts it
    assert from_definition(deep) is None


def test_what_the_rows_cannot_show_is_read_only():
    negated_root = {"root": {"kind": "group", "negate": True, "children": [CONDITIONS[0]]}}
    filtered = {"kind": "event", "name": "Viewed", "where": [{"property": "sku", "op": "eq"}]}
    assert from_definition(negated_root) is None
    assert from_definition(_two_levels(filtered)) is None


def test_a_blank_event_name_is_a_message():
    groups = [form.GroupForm(conditions=[form.new_condition("trait"), form.new_condition("event")])]
    groups[0].conditions[1].name = "   "
    assert form.missing_input(groups) == "Group 1, condition 2: enter the event name."


def test_an_amount_that_is_not_a_number_is_a_message_on_its_row():
    row = form.new_condition("orders")
    row.value = "lots"
    groups = [form.GroupForm(), form.GroupForm(conditions=[form.new_condition("trait"), row])]
    assert form.missing_input(groups) == ""
    definition = to_definition("and", groups)  # passed on as typed, no exception
    with pytest.raises(InvalidInput) as caught:
        parse_definition(definition)
    message = form.friendly_error(caught.value.message)
    assert message.startswith("Group 2, condition 2: ")
    assert "number" in message
    form.mark_error(groups, caught.value.message)
    assert [c.error for g in groups for c in g.conditions] == [False, True]


def test_amounts_are_read_as_numbers():
    row = form.new_condition("orders")
    row.op, row.value, row.value2, row.within_days = "between", "1,000", " 2500.50 ", ""
    definition = to_definition("and", [form.GroupForm(conditions=[row])])
    (condition,) = sd.iter_conditions(parse_definition(definition).root)
    assert condition.value == [1000, 2500.5]
    assert condition.within_days is None


def test_three_conditions_read_as_a_sentence():
    rows = [form.new_condition(k) for k in ("orders", "no_order_in", "engagement")]
    rows[0].value = "500"  # total spent over $500 in 90 days; 60 and 30 days are the defaults
    definition = to_definition("and", [form.GroupForm(conditions=rows)])
    parse_definition(definition)
    assert definition_heading(definition) == "Customers matching all of these:"
    assert definition_lines(definition, {}) == [
        "spent more than $500 in the last 90 days",
        "no order in the last 60 days",
        "opened an email in the last 30 days",
    ]
    assert group_words(definition["root"]["children"][0], {}) == (
        "spent more than $500 in the last 90 days AND no order in the last 60 days "
        "AND opened an email in the last 30 days"
    )


def test_words_use_names_and_plain_phrases():
    names = {"location": {"1": "Downtown"}, "segment": {"5": "VIPs"}}
    assert condition_words(CONDITIONS[9], names) == "Location is one of Downtown, #2"
    assert condition_words(CONDITIONS[27], names) == "not in segment “VIPs”"
    assert condition_words(CONDITIONS[21], {}) == "never did “Cart Abandoned” in the last 7 days"
    assert condition_words(CONDITIONS[7], {}) == "Birthday is in month April"
    assert definition_heading({}) == "Every customer of the tenant (no conditions)."


def _words(condition: dict) -> str:
    return condition_words(condition, {})


def test_loyalty_conditions_read_as_plain_words():
    loyalty = [c for c in CONDITIONS if c["kind"] == "loyalty"]
    assert [_words(c) for c in loyalty] == [
        "is a loyalty member",
        "is not a loyalty member",
        "Loyalty tier is Gold or Platinum",
        "Loyalty tier is neither none nor Bronze",
        "Loyalty tier is Silver or higher",
        "Loyalty tier is one of the top 2",
        "Loyalty points balance at least 500",
        "Loyalty lifetime points between 100 and 2,500.5",
    ]
    top = {"kind": "loyalty", "field": "tier", "op": "in_top", "value": 1}
    assert _words(top) == "Loyalty tier is the top tier"
    assert _words({**top, "op": "not_in", "value": ["Gold"]}) == "Loyalty tier is not Gold"
    three = {**top, "op": "not_in", "value": ["Gold", "Silver", ""]}
    assert _words(three) == "Loyalty tier is none of Gold, Silver, none"
    assert _words({**top, "op": "in", "value": [""]}) == "Loyalty tier is none"


def test_a_loyalty_row_asks_for_what_its_test_needs():
    row = form.new_condition("loyalty")
    groups = [form.GroupForm(conditions=[row])]
    assert (row.field, row.op, row.input) == ("member", "is_true", "none")
    assert [o.label for o in row.ops] == ["is a member", "is not a member"]
    row.field, row.op = "tier", ""  # what the builder does when the field changes
    form.normalize(groups)
    assert (row.op, row.input) == ("in", "tiers")
    assert [o.value for o in row.ops] == ["in", "not_in", "at_least", "in_top"]
    assert form.missing_input(groups) == "Group 1, condition 1: choose at least one tier."
    row.picked = ["", "Gold"]
    assert form.missing_input(groups) == ""
    (condition,) = sd.iter_conditions(parse_definition(to_definition("and", groups)).root)
    assert condition == sd.LoyaltyCondition(field="tier", op="in", value=["", "Gold"])
    row.op = "at_least"
    form.normalize(groups)
    assert form.missing_input(groups) == "Group 1, condition 1: choose a tier."
    row.field, row.op, row.value = "balance", "", "1,500"
    form.normalize(groups)
    assert (row.op, row.input) == ("gt", "number")
    (condition,) = sd.iter_conditions(parse_definition(to_definition("and", groups)).root)
    assert (condition.field, condition.op, condition.value) == ("balance", "gt", 1500)


def test_tier_choices_list_the_program_and_no_tier():
    named, picks = form.tier_options(["Bronze", "Gold"])
    assert [(o.value, o.label) for o in named] == [("Bronze", "Bronze"), ("Gold", "Gold")]
    assert [(o.value, o.label) for o in picks] == [
        ("", "no tier"),
        *[(t, t) for t in ("Bronze", "Gold")],
    ]
    assert form.tier_options([]) == ([], [form.Option("", "no tier")])


def test_an_unknown_tier_from_the_service_marks_its_row():
    message = "condition #1 > #2: unknown tier 'Gold'"
    groups = [
        form.GroupForm(conditions=[form.new_condition("trait"), form.new_condition("loyalty")])
    ]
    form.mark_error(groups, message)
    assert [c.error for c in groups[0].conditions] == [False, True]
    assert form.friendly_error(message) == "Group 1, condition 2: unknown tier 'Gold'"
