"""Programs: one per tenant, validated settings with clear messages, presets, tier arithmetic."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketing_app.domain.errors import InvalidInput
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import (
    PRESETS,
    get_program,
    parse_settings,
    preset_settings,
    require_settings,
    save_program,
)
from tests.services.test_loyalty_support import (
    METALS,
    account_of,
    make_contact,
    make_order,
    make_program,
)


def test_defaults_and_round_trip_through_json(session, tenant):
    program = make_program(session, tenant, category_multipliers={"Flower": "2"})
    settings = require_settings(session=session, tenant_id=tenant.id)
    assert settings.points_per_dollar == 1 and settings.points_per_visit == 0
    assert settings.category_multipliers == {"flower": Decimal(2)}
    assert settings.source_of_truth == "orders"
    assert settings.discrepancy_threshold_percent == 10
    assert program.settings["category_multipliers"] == {"flower": "2"}


def test_one_program_per_tenant_saving_again_replaces_it(session, tenant, other_tenant):
    first = make_program(session, tenant, points_per_dollar="1")
    second = save_program(
        session=session, tenant_id=tenant.id, settings={"points_per_dollar": "3"}, name=" VIP "
    )
    session.commit()
    assert second.id == first.id and second.name == "VIP"
    assert require_settings(session=session, tenant_id=tenant.id).points_per_dollar == 3
    assert get_program(session=session, tenant_id=other_tenant.id) is None


TIER_A = {"name": "A", "threshold": 5}
BAD_SETTINGS = [
    ({"points_per_dollar": "-1"}, "Points per dollar: Input should be greater"),
    ({"equity_multiplier": "0.5"}, "Equity multiplier: Input should be greater"),
    ({"expiry_days": 0}, "Expiry after days of inactivity: Input should be greater"),
    ({"category_multipliers": {"flower": "11"}}, "Category multipliers 'flower': Input"),
    ({"category_multipliers": {" ": "2"}}, "Category multipliers: a category name cannot"),
    ({"tiers": [TIER_A, {"name": "a", "threshold": 9}]}, "Tiers: two tiers have the same name"),
    ({"tiers": [TIER_A, {"name": "B", "threshold": 5}]}, "Tiers: two tiers have the same thr"),
    ({"tiers": [{"name": "", "threshold": 5}]}, "Tier 1 name: String should have at least"),
    ({"tiers": [{**TIER_A, "reward": {"points": 10}}]}, "Tier 1 reward: give either a percent"),
    ({"source_of_truth": "crm"}, "Source of truth: Input should be 'orders' or 'alpineiq'"),
    ({"discrepancy_threshold_percent": 0}, "Discrepancy threshold: Input should be greater"),
    ({"points_per_dolar": 2}, "points_per_dolar: Extra inputs are not permitted"),
]


@pytest.mark.parametrize(("settings", "message"), BAD_SETTINGS)
def test_bad_settings_are_refused_with_a_message_naming_the_field(settings, message):
    with pytest.raises(InvalidInput) as caught:
        parse_settings(settings)
    assert caught.value.message.startswith(message)
    assert caught.value.field == next(iter(settings))


def test_bad_settings_save_nothing(session, tenant):
    with pytest.raises(InvalidInput):
        save_program(session=session, tenant_id=tenant.id, settings={"points_per_visit": -1})
    assert get_program(session=session, tenant_id=tenant.id) is None


def test_tiers_are_ordered_by_threshold():
    settings = parse_settings({"tiers": list(reversed(METALS))})
    assert [t.name for t in settings.tiers] == ["Bronze", "Silver", "Gold"]
    assert [settings.tier_for(points) for points in (0, 499, 500, 1499, 1500, 10**6)] == [
        "Bronze",
        "Bronze",
        "Silver",
        "Silver",
        "Gold",
        "Gold",
    ]
    assert settings.next_tier(600).name == "Gold" and settings.next_tier(1500) is None
    assert parse_settings({"tiers": [{"name": "VIP", "threshold": 100}]}).tier_for(99) == ""


def test_presets():
    alpine = preset_settings("alpineiq")
    table = [(t.threshold, t.reward.points, t.reward.percent_off) for t in alpine.tiers]
    assert table == [(100, 100, 5), (200, 200, 10), (400, 400, 15), (600, 600, 20), (800, 800, 25)]
    assert alpine.source_of_truth == "alpineiq"
    metals = preset_settings("metals")
    assert [t.name for t in metals.tiers] == ["Bronze", "Silver", "Gold", "Platinum"]
    metals.points_per_dollar = Decimal(5)  # a copy: the preset itself is untouched
    assert PRESETS["metals"].points_per_dollar == 1
    with pytest.raises(InvalidInput, match="Unknown preset 'gold'"):
        preset_settings("gold")


def test_changing_the_tier_table_moves_accounts(session, tenant):
    make_program(session, tenant, tiers=METALS)
    ann = make_contact(session, tenant)
    make_order(session, tenant, ann, 60000)
    credit_orders(session=session, tenant_id=tenant.id)
    session.commit()
    assert account_of(session, tenant, ann).tier == "Silver"
    make_program(session, tenant, tiers=[{"name": "Insider", "threshold": 250}])
    assert account_of(session, tenant, ann).tier == "Insider"
    make_program(session, tenant)  # no tiers at all
    assert account_of(session, tenant, ann).tier == ""
