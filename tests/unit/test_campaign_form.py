"""The campaign builder's form values without a browser or a database: the schedule typed in
the tenant's time zone is stored in UTC and shown back the same, variants become the content
the service validates (only A without an A/B test), and broken content is named by line while
empty fields of a draft are not."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from marketing_app.domain.campaigns import ABTest, CampaignContent, Schedule
from marketing_app.domain.errors import InvalidInput
from marketing_app.state import campaign_form as form

ZONE = "America/New_York"


def test_a_date_and_time_in_the_tenants_zone_is_stored_in_utc_and_shown_back():
    stored = form.schedule_from_form("at", "2026-07-04T09:30", "", "", True, ZONE)
    schedule = Schedule.model_validate(stored)
    assert schedule.send_at == datetime(2026, 7, 4, 13, 30, tzinfo=UTC)  # EDT is UTC-4
    assert schedule.optimize is True
    shown = form.schedule_to_form(schedule, ZONE)
    assert (shown["schedule_mode"], shown["send_at"]) == ("at", "2026-07-04T09:30")
    assert form.describe_schedule(schedule, ZONE) == (
        f"At 2026-07-04 09:30 ({ZONE}), each customer at their best hour"
    )


def test_a_local_time_send_keeps_the_day_and_the_time_of_day():
    stored = form.schedule_from_form("local", "", "2026-12-01", "10:15", True, ZONE)
    schedule = Schedule.model_validate(stored)
    assert schedule.send_at.date().isoformat() == "2026-12-01"
    assert schedule.local_time == time(10, 15) and schedule.optimize is False
    shown = form.schedule_to_form(schedule, ZONE)
    assert (shown["send_date"], shown["local_time"]) == ("2026-12-01", "10:15")
    assert "10:15 in each customer's time zone on 2026-12-01" in form.describe_schedule(
        schedule, ZONE
    )


@pytest.mark.parametrize(
    ("mode", "send_at", "day", "at"),
    [("at", "", "", ""), ("at", "tomorrow", "", ""), ("local", "", "2026-12-01", "")],
)
def test_an_incomplete_or_unreadable_time_is_refused_on_the_schedule(mode, send_at, day, at):
    with pytest.raises(InvalidInput) as refused:
        form.schedule_from_form(mode, send_at, day, at, False, ZONE)
    assert refused.value.field == "schedule"


def test_without_an_ab_test_only_the_first_variant_is_kept():
    variants = [
        form.VariantForm("A", "Hi {{ first_name }}", "", "<p>a</p>", "Ann", "3"),
        form.VariantForm("B", "Hello", "", "<p>b</p>", "Bo", "6"),
    ]
    single = CampaignContent.model_validate(form.content_from_variants(variants, False))
    assert [(v.key, v.from_name, v.send_delay_hours) for v in single.variants] == [("A", "", 0)]
    tested = CampaignContent.model_validate(form.content_from_variants(variants, True))
    assert [(v.key, v.from_name, v.send_delay_hours) for v in tested.variants] == [
        ("A", "Ann", 3),
        ("B", "Bo", 6),
    ]
    assert form.variants_from_content(tested) == variants
    assert form.next_variant_key(variants) == "C"


def test_a_delay_that_is_not_a_number_is_refused_on_the_content():
    variants = [form.VariantForm("A"), form.VariantForm("B", send_delay_hours="soon")]
    with pytest.raises(InvalidInput) as refused:
        form.content_from_variants(variants, True)
    assert refused.value.field == "content" and "Variant B" in refused.value.message


def test_broken_content_is_named_by_line_but_an_empty_draft_is_not():
    assert form.broken_content([form.VariantForm()], False) == ""
    broken = form.VariantForm("A", "Hi", "", "<p>\n{{ first_name </p>")
    assert form.broken_content([broken], False).startswith("html line 2:")
    unknown = form.VariantForm("B", "Hi {{ frist_name }}", "", "<p>x</p>")
    found = form.broken_content([form.VariantForm("A", "ok", "", "<p>x</p>"), unknown], True)
    assert found.startswith("Variant B: subject line 1: Unknown token 'frist_name'")


def test_ab_settings_round_trip_and_bad_numbers_are_refused():
    stored = form.ab_from_form(True, "30", "click", "6")
    assert form.ab_to_form(ABTest.model_validate(stored)) == {
        "ab_enabled": True,
        "test_percent": "30",
        "metric": "click",
        "wait_hours": "6",
    }
    with pytest.raises(InvalidInput):
        form.ab_from_form(True, "lots", "open", "4")
