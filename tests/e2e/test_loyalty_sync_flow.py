"""The loyalty flow end to end in the browser, on the dispensary tenant: the marketer syncs
(the real worker reads the local fake Alleaves POS and the fake Alpine IQ account, credits
the POS orders and reconciles), sees the discrepancies, accepts Alpine IQ's figure for one
customer, and that customer's loyalty card shows the new balance with nothing left to review.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from marketing_app.db import session_scope
from marketing_app.models import Contact
from marketing_app.models.loyalty_sync import DiscrepancyStatus, LoyaltyDiscrepancy
from marketing_app.services.loyalty_adjustments import balance_of
from marketing_app.services.loyalty_aiq_sync import save_alpineiq_credentials
from marketing_app.services.loyalty_programs import get_program, preset_settings, save_program
from marketing_app.services.loyalty_sync import save_alleaves_credentials
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import login_and_wait, screenshot
from tests.fakes.alleaves_server import FakeAlleaves, seed_alleaves
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq

pytestmark = pytest.mark.browser

LEAF = "carolina-leaf"
SLOW = 30_000
JOB = 120_000


@pytest.fixture(scope="module")
def connected_dispensary(app_server):
    """The dispensary's POS and Alpine IQ account, served by local fakes for this module."""
    pos = seed_alleaves(customers=40, orders=120, seed=21)
    alpine = seed_alpineiq(uid="leaf-1", customers=pos.customers, seed=5)
    with FakeAlleaves(pos) as alleaves, FakeAlpineIQ(alpine) as alpineiq:
        with session_scope() as session:
            tenant_id = get_tenant_by_slug(session=session, slug=LEAF).id
            if get_program(session=session, tenant_id=tenant_id) is None:
                save_program(
                    session=session, tenant_id=tenant_id, settings=preset_settings("alpineiq")
                )
            save_alleaves_credentials(
                session=session,
                tenant_id=tenant_id,
                api_key=alleaves.api_key,
                base_url=alleaves.base_url,
            )
            save_alpineiq_credentials(
                session=session,
                tenant_id=tenant_id,
                api_key=alpineiq.api_key,
                uid=alpine.uid,
                base_url=alpineiq.base_url,
            )
        yield tenant_id


def _synced_discrepancy(tenant_id) -> tuple[int, str, int]:
    """An open discrepancy of a POS customer with an Alpine IQ figure: (contact, email, points)."""
    with session_scope() as session:
        rows = session.exec(
            select(LoyaltyDiscrepancy.contact_id, Contact.email, LoyaltyDiscrepancy.external_points)
            .join(Contact, Contact.id == LoyaltyDiscrepancy.contact_id)
            .where(
                LoyaltyDiscrepancy.tenant_id == tenant_id,
                LoyaltyDiscrepancy.status == DiscrepancyStatus.OPEN,
                LoyaltyDiscrepancy.external_points.is_not(None),
                Contact.email.like("customer%@example.com"),
            )
            .order_by(LoyaltyDiscrepancy.contact_id)
        ).all()
    assert rows, "the sync found no discrepancy for a POS customer"
    return rows[0]


def test_marketer_syncs_sees_discrepancies_resolves_one_and_the_card_shows_it(
    page, connected_dispensary
):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    page.click("#tab-sync", timeout=SLOW)
    page.click("#sync-now")
    expect(page.locator("#sync-job")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#provider-calls")).to_contain_text("/api/v1.1/piis", timeout=SLOW)
    screenshot(page, "loyalty-flow-synced")

    contact_id, email, alpine_points = _synced_discrepancy(connected_dispensary)
    page.goto(f"/t/{LEAF}/loyalty/reconciliation")
    page.fill("#discrepancy-search", email, timeout=SLOW)
    row = page.locator("#discrepancies .discrepancy-row")
    expect(row).to_have_count(1, timeout=SLOW)
    expect(row).to_contain_text(f"{alpine_points:,}")
    screenshot(page, "loyalty-flow-discrepancy")
    row.locator(".resolve-button").click()
    page.get_by_role("radio", name="Accept Alpine IQ's figure").click()
    page.fill("#resolve-reason", "Alpine IQ counted in-store visits the POS export missed")
    page.click("#resolve-confirm")
    expect(page.get_by_role("dialog")).to_have_count(0, timeout=SLOW)
    expect(page.locator("#discrepancies .discrepancy-row")).to_have_count(0, timeout=SLOW)
    with session_scope() as session:
        assert balance_of(session, connected_dispensary, contact_id) == alpine_points

    page.goto(f"/t/{LEAF}/customers/{contact_id}")
    card = page.locator("#loyalty-card")
    expect(card).to_be_visible(timeout=SLOW)
    expect(page.locator("#loyalty-balance")).to_have_text(
        re.compile(rf"^{alpine_points:,}$"), timeout=SLOW
    )
    expect(page.locator("#loyalty-external-points")).to_have_text(f"{alpine_points:,}")
    expect(page.locator("#loyalty-discrepancy")).to_have_count(0)
    expect(page.locator("#loyalty-history")).to_contain_text("in-store visits")
    screenshot(page, "loyalty-flow-card")
