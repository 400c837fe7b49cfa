"""Loyalty pages in the browser: a marketer switches the program on from the Alpine IQ preset
and edits a tier; members by tier and liability; the customer's loyalty card with both
sources, a redemption that issues a code and an adjustment; viewers read only; bad input
gets its message next to the field. Runs against the demo data (scale 0.05)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from marketing_app.db import session_scope
from marketing_app.models import Contact, LoyaltyRedemption
from marketing_app.models.loyalty_sync import (
    DiscrepancyKind,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
)
from marketing_app.services.loyalty_adjustments import adjust_points, balance_of
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import get_program, preset_settings, save_program
from marketing_app.services.loyalty_reports import liability
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import login_and_wait, screenshot

pytestmark = pytest.mark.browser

LEAF = "carolina-leaf"
SLOW = 30_000  # ms: a page load or an event round trip on two busy cores
LOYAL_EMAIL = "loyal.tester@leaf-e2e.example"


def _program_settings() -> dict | None:
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        program = get_program(session=session, tenant_id=tenant.id)
        return dict(program.settings) if program else None


def _tier_input(page: Page, row: int, field: str):
    row_cells = page.locator("#tiers-editor .tier-row").nth(row)
    return row_cells.locator(f":is(input.tier-{field}, .tier-{field} input)")


def _alert(page: Page, text: str):
    """A message next to a field (toasts say the same; this is the one by the field)."""
    return page.locator("p[role=alert], span[role=alert]").filter(has_text=text).first


def test_marketer_switches_loyalty_on_from_the_alpine_iq_preset_and_edits_a_tier(page):
    assert _program_settings() is None, "the demo data has no loyalty program"
    login_and_wait(page, "marketer@leaf.example.com")
    page.click("#nav-loyalty")
    expect(page).to_have_url(re.compile(f"/t/{LEAF}/loyalty"))
    expect(page.get_by_text("No loyalty program yet")).to_be_visible(timeout=SLOW)
    screenshot(page, "loyalty-empty")

    page.click("#create-program-alpineiq")
    expect(page.locator("#tab-overview")).to_be_visible(timeout=SLOW)
    expect(page.get_by_text("No members yet")).to_be_visible()
    page.click("#tab-program")
    expect(page.locator("#tiers-editor .tier-row")).to_have_count(5)
    expect(_tier_input(page, 1, "name")).to_have_value("Tier 2")
    _tier_input(page, 1, "name").fill("Silver Leaf")
    _tier_input(page, 1, "reward-value").fill("12")
    expect(page.locator("#unsaved")).to_be_visible()
    page.click("#save-program")
    expect(page.locator("#unsaved")).to_have_count(0, timeout=SLOW)
    screenshot(page, "loyalty-program")

    tiers = _program_settings()["tiers"]
    assert [t["name"] for t in tiers] == ["Tier 1", "Silver Leaf", "Tier 3", "Tier 4", "Tier 5"]
    assert tiers[1]["reward"] == {"points": 200, "percent_off": 12, "amount_off_cents": None}
    page.reload()
    page.click("#tab-program")
    expect(_tier_input(page, 1, "name")).to_have_value("Silver Leaf", timeout=SLOW)


@pytest.fixture(scope="module")
def loyal_customer(app_server) -> int:
    """Orders credited under the program (the Alpine IQ preset, made by the first test or
    here), and one customer with exactly 350 points, an Alpine IQ balance and an open
    discrepancy. Returns the customer's id."""
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        if get_program(session=session, tenant_id=tenant.id) is None:
            save_program(session=session, tenant_id=tenant.id, settings=preset_settings("alpineiq"))
        credit_orders(session=session, tenant_id=tenant.id)
        contact = Contact(
            tenant_id=tenant.id, email=LOYAL_EMAIL, first_name="Loyal", last_name="Tester"
        )
        session.add(contact)
        session.flush()
        adjust_points(
            session=session,
            tenant_id=tenant.id,
            contact_id=contact.id,
            points=350,
            adjustment_id="e2e-loyal-start",
            reason="Opening balance",
        )
        session.add(
            ExternalLoyaltyBalance(
                tenant_id=tenant.id,
                contact_id=contact.id,
                external_id="aiq-e2e-1",
                points=340,
                synced_at=datetime.now(UTC) - timedelta(hours=2),
            )
        )
        session.add(
            LoyaltyDiscrepancy(
                tenant_id=tenant.id,
                contact_id=contact.id,
                calculated_points=350,
                external_points=340,
                stored_balance=350,
                difference=-10,
                difference_percent=-2.9,
                kind=DiscrepancyKind.SYNC_LAG,
                explanation="Alpine IQ has not seen the last adjustment yet.",
            )
        )
        return contact.id


def test_members_by_tier_and_liability_show_once_orders_earn(page, loyal_customer):
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        owed = liability(session=session, tenant_id=tenant.id)
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    overview = page.locator("#loyalty-overview")
    expect(overview).to_contain_text(f"{owed.points:,}", timeout=SLOW)
    expect(overview).to_contain_text(f"${owed.cents / 100:,.2f}")
    expect(page.locator("#loyalty-overview .js-plotly-plot")).to_be_visible()
    activity = page.locator("#loyalty-activity")
    expect(activity).to_contain_text("Loyal Tester")
    expect(activity).to_contain_text("Opening balance")
    # the fixture's discrepancy waits for review
    expect(page.locator("#reconciliation-link")).to_contain_text("1 open")
    screenshot(page, "loyalty-overview")


def test_customer_card_shows_points_and_progress_and_a_redemption_issues_a_code(
    page, loyal_customer
):
    # 350 points: past the second tier (200), 50 short of the third (400), whatever their
    # names are now (the first test renames one).
    second, third = (tier["name"] for tier in _program_settings()["tiers"][1:3])
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/customers/{loyal_customer}")
    card = page.locator("#loyalty-card")
    expect(page.locator("#loyalty-balance")).to_have_text("350", timeout=SLOW)
    expect(page.locator("#loyalty-tier")).to_have_text(second)
    expect(page.locator("#loyalty-to-next")).to_have_text(f"50 points to {third}")
    expect(page.locator("#loyalty-progress")).to_have_attribute("aria-valuenow", "75")
    expect(page.locator("#loyalty-external-points")).to_have_text("340")
    expect(page.locator("#loyalty-discrepancy")).to_contain_text("not seen the last adjustment")
    expect(card.locator("#loyalty-history")).to_contain_text("Opening balance")

    page.click("#redeem-choice")
    page.get_by_role("option", name=re.compile("^Tier 1 reward: 5% off")).click()
    page.click("#redeem")
    code = page.locator("#issued-code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}$"), timeout=SLOW)
    expect(page.locator("#loyalty-balance")).to_have_text("250")
    screenshot(page, "loyalty-card")

    with session_scope() as session:
        redemption = session.exec(
            select(LoyaltyRedemption).where(LoyaltyRedemption.code == code.inner_text())
        ).one()
        assert (redemption.contact_id, redemption.points, redemption.percent_off) == (
            loyal_customer,
            100,
            5,
        )
        tenant = get_tenant_by_slug(session=session, slug=LEAF)
        assert balance_of(session, tenant.id, loyal_customer) == 250

    page.fill("#adjust-points", "30")
    page.fill("#adjust-reason", "Goodwill for a late order")
    page.click("#adjust")
    expect(page.locator("#loyalty-balance")).to_have_text("280", timeout=SLOW)
    expect(card.locator("#loyalty-history")).to_contain_text("Goodwill for a late order")


def test_bad_input_gets_its_message_next_to_the_field_and_changes_nothing(page, loyal_customer):
    before = _program_settings()
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    page.click("#tab-program", timeout=SLOW)
    page.fill("#loyalty-points-per-dollar", "lots")
    page.click("#save-program")
    expect(_alert(page, "Points per dollar: Input should be a valid decimal")).to_be_visible(
        timeout=SLOW
    )
    screenshot(page, "loyalty-bad-input")
    assert _program_settings() == before

    page.goto(f"/t/{LEAF}/customers/{loyal_customer}")
    expect(page.locator("#loyalty-balance")).to_be_visible(timeout=SLOW)
    balance = page.locator("#loyalty-balance").inner_text()
    page.fill("#adjust-points", "-20")
    page.click("#adjust")
    expect(_alert(page, "Give a reason of 1 to 500 characters.")).to_be_visible(timeout=SLOW)
    page.fill("#redeem-points", "999999")
    page.click("#redeem")
    expect(_alert(page, "Not enough points")).to_be_visible(timeout=SLOW)
    expect(page.locator("#loyalty-balance")).to_have_text(balance)


def test_viewer_reads_the_program_and_the_card_but_cannot_change_them(page, loyal_customer):
    login_and_wait(page, "viewer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    expect(page.locator("#viewer-note")).to_be_visible(timeout=SLOW)
    page.click("#tab-program")
    expect(page.locator("#save-program")).to_be_disabled()
    expect(page.locator("#add-tier")).to_be_disabled()
    expect(_tier_input(page, 0, "name")).to_be_disabled()
    page.goto(f"/t/{LEAF}/customers/{loyal_customer}")
    expect(page.locator("#loyalty-balance")).to_be_visible(timeout=SLOW)
    expect(page.locator("#redeem")).to_be_disabled()
    expect(page.locator("#adjust")).to_be_disabled()
    screenshot(page, "loyalty-card-viewer")


def test_another_tenants_loyalty_page_is_not_found(page):
    login_and_wait(page, "owner@wine.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    expect(page.locator("#not-found")).to_be_visible(timeout=SLOW)
