"""Loyalty reconciliation and sync status in the browser: discrepancies found by the real
reconciliation, filtered, resolved one at a time (reason required) and several at once; a
viewer cannot decide; "Sync now" against a local fake Alpine IQ with the progress bar and the
provider calls. Runs against the demo data (scale 0.05)."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import select

from marketing_app.db import session_scope
from marketing_app.models import Contact, LoyaltyAccount, ProviderCall
from marketing_app.models.loyalty_sync import (
    DiscrepancyStatus,
    ExternalLoyaltyBalance,
    LoyaltyDiscrepancy,
)
from marketing_app.services.loyalty_adjustments import balance_of
from marketing_app.services.loyalty_aiq_sync import save_alpineiq_credentials
from marketing_app.services.loyalty_discrepancies import discrepancy_summary
from marketing_app.services.loyalty_earning import credit_orders
from marketing_app.services.loyalty_programs import get_program, preset_settings, save_program
from marketing_app.services.loyalty_reconciliation import reconcile
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import login_and_wait, screenshot
from tests.fakes.alpineiq_server import FakeAlpineIQ, seed_alpineiq

pytestmark = pytest.mark.browser

LEAF = "carolina-leaf"
BARBER = "sharp-co"
SLOW = 30_000  # ms: a page load or an event round trip on two busy cores
JOB = 90_000


def _leaf_id():
    with session_scope() as session:
        return get_tenant_by_slug(session=session, slug=LEAF).id


def _open_count() -> int:
    with session_scope() as session:
        return discrepancy_summary(session=session, tenant_id=_leaf_id())["open"]


def _discrepancy(contact_id: int) -> LoyaltyDiscrepancy:
    with session_scope() as session:
        return session.exec(
            select(LoyaltyDiscrepancy)
            .where(LoyaltyDiscrepancy.contact_id == contact_id)
            .order_by(LoyaltyDiscrepancy.id.desc())
        ).first()


@pytest.fixture(scope="module")
def disagreeing(app_server) -> list[tuple[int, str]]:
    """Four credited members whose Alpine IQ balance differs from ours (half of it: over the
    threshold), found by the real reconciliation. Returns (contact id, name) of each."""
    with session_scope() as session:
        tenant_id = get_tenant_by_slug(session=session, slug=LEAF).id
        if get_program(session=session, tenant_id=tenant_id) is None:
            save_program(session=session, tenant_id=tenant_id, settings=preset_settings("alpineiq"))
        credit_orders(session=session, tenant_id=tenant_id)
        members = session.exec(
            select(LoyaltyAccount.contact_id, LoyaltyAccount.balance, Contact.first_name)
            .join(Contact, Contact.id == LoyaltyAccount.contact_id)
            .where(LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.balance > 200)
            .where(Contact.first_name != "")
            .order_by(LoyaltyAccount.contact_id)
            .limit(4)
        ).all()
        for contact_id, balance, _ in members:
            session.add(
                ExternalLoyaltyBalance(
                    tenant_id=tenant_id,
                    contact_id=contact_id,
                    external_id=f"aiq-e2e-{contact_id}",
                    points=balance // 2,
                )
            )
        session.flush()
        reconcile(session=session, tenant_id=tenant_id)
        names = {
            c.id: f"{c.first_name} {c.last_name}".strip()
            for c in session.exec(select(Contact).where(Contact.id.in_([m[0] for m in members])))
        }
    return [(contact_id, names[contact_id]) for contact_id, _, _ in members]


def _row_of(page: Page, name: str):
    return page.locator("#discrepancies .discrepancy-row").filter(has_text=name)


def test_marketer_resolves_one_discrepancy_with_a_reason_then_accepts_two(page, disagreeing):
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty")
    page.click("#reconciliation-link", timeout=SLOW)
    expect(page).to_have_url(re.compile("/loyalty/reconciliation"))
    opened = _open_count()
    expect(page.locator("#open-count")).to_have_text(f"{opened:,}", timeout=SLOW)
    (first_id, first_name), second, third, _ = disagreeing
    expect(_row_of(page, first_name)).to_contain_text("Alpine IQ")
    screenshot(page, "loyalty-reconciliation")

    page.fill("#discrepancy-search", first_name)
    expect(page.locator("#discrepancies .discrepancy-row")).to_have_count(1, timeout=SLOW)
    _row_of(page, first_name).locator(".resolve-button").click()
    page.get_by_role("radio", name="Set the balance myself").click()
    page.fill("#resolve-points", "500")
    page.click("#resolve-confirm")
    expect(page.get_by_role("dialog")).to_contain_text("Give a reason of 1 to 500 characters.")
    screenshot(page, "loyalty-resolve-dialog")
    page.fill("#resolve-reason", "Checked the POS receipts")
    page.click("#resolve-confirm")
    expect(page.get_by_role("dialog")).to_have_count(0, timeout=SLOW)
    expect(page.locator("#discrepancies")).to_have_count(0)  # resolved: no longer open
    resolved = _discrepancy(first_id)
    assert (resolved.status, resolved.resolution, resolved.resolved_points) == (
        DiscrepancyStatus.RESOLVED,
        "adjust",
        500,
    )
    assert resolved.reason == "Checked the POS receipts"
    with session_scope() as session:
        assert balance_of(session, _leaf_id(), first_id) == 500

    page.fill("#discrepancy-search", "")
    for _, name in (second, third):
        _row_of(page, name).locator(".row-check").click()
    expect(page.locator("#selected-count")).to_have_text("2 selected")
    page.fill("#bulk-reason", "Alpine IQ is our source of truth")
    page.click("#bulk-accept")
    expect(page.locator("#open-count")).to_have_text(f"{opened - 3:,}", timeout=SLOW)
    for contact_id, _ in (second, third):
        accepted = _discrepancy(contact_id)
        assert (accepted.status, accepted.resolution) == ("resolved", "accept_external")
        with session_scope() as session:
            assert balance_of(session, _leaf_id(), contact_id) == accepted.external_points

    page.click("#status-filter")
    page.get_by_role("option", name="Resolved").click()
    expect(_row_of(page, second[1])).to_contain_text("accepted Alpine IQ's figure", timeout=SLOW)


def test_reconcile_now_runs_in_the_background_and_shows_what_it_found(page, disagreeing):
    with session_scope() as session:
        tenant_id = _leaf_id()
        compared = select(ExternalLoyaltyBalance.contact_id).where(
            ExternalLoyaltyBalance.tenant_id == tenant_id
        )
        contact_id, balance = session.exec(
            select(LoyaltyAccount.contact_id, LoyaltyAccount.balance)
            .where(LoyaltyAccount.tenant_id == tenant_id, LoyaltyAccount.balance > 200)
            .where(LoyaltyAccount.contact_id.not_in(compared))
            .order_by(LoyaltyAccount.contact_id)
        ).first()
        session.add(
            ExternalLoyaltyBalance(
                tenant_id=tenant_id,
                contact_id=contact_id,
                external_id=f"aiq-e2e-{contact_id}",
                points=balance + 500,
            )
        )
    before = _open_count()
    login_and_wait(page, "marketer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty/reconciliation")
    expect(page.locator("#open-count")).to_have_text(f"{before:,}", timeout=SLOW)
    page.click("#reconcile-now")
    expect(page.locator("#reconcile-job")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#open-count")).to_have_text(f"{before + 1:,}", timeout=SLOW)
    assert _discrepancy(contact_id).status == DiscrepancyStatus.OPEN
    screenshot(page, "loyalty-reconcile-now")


def test_viewer_sees_discrepancies_but_cannot_decide(page, disagreeing):
    login_and_wait(page, "viewer@leaf.example.com")
    page.goto(f"/t/{LEAF}/loyalty/reconciliation")
    expect(page.locator("#viewer-note")).to_be_visible(timeout=SLOW)
    rows = page.locator("#discrepancies .discrepancy-row")
    expect(rows.first).to_be_visible()
    expect(rows.first.locator(".resolve-button")).to_be_disabled()
    expect(page.locator("#select-all")).to_be_disabled()
    expect(page.locator("#reconcile-now")).to_be_disabled()


@pytest.fixture
def fake_alpineiq(app_server):
    with FakeAlpineIQ(seed_alpineiq(contacts=12)) as server:
        with session_scope() as session:
            tenant = get_tenant_by_slug(session=session, slug=BARBER)
            if get_program(session=session, tenant_id=tenant.id) is None:
                save_program(
                    session=session, tenant_id=tenant.id, settings=preset_settings("metals")
                )
            save_alpineiq_credentials(
                session=session,
                tenant_id=tenant.id,
                api_key=server.api_key,
                uid=server.data.uid,
                base_url=server.base_url,
            )
        yield server


def test_sync_now_follows_the_job_and_lists_the_provider_calls(page, fake_alpineiq):
    login_and_wait(page, "owner@barber.example.com")
    page.goto(f"/t/{BARBER}/loyalty")
    page.click("#tab-sync", timeout=SLOW)
    providers = page.locator("#sync-providers")
    expect(providers).to_contain_text("Alpine IQ")
    # The beat's scheduled sync of a newly connected tenant may already have called Alpine IQ.
    calls_before = _provider_calls(BARBER)
    page.click("#sync-now")
    expect(page.locator("#sync-job")).to_contain_text("succeeded", timeout=JOB)
    expect(page.locator("#provider-calls")).to_contain_text("/api/v1.1/piis", timeout=SLOW)
    expect(providers.locator("tr").filter(has_text="Alpine IQ")).not_to_contain_text("never")
    screenshot(page, "loyalty-sync")
    calls = _provider_calls(BARBER)
    deadline = time.monotonic() + JOB / 1000  # "succeeded" may be a scheduled job's, shown first
    while len(calls) <= len(calls_before) and time.monotonic() < deadline:
        time.sleep(0.5)
        calls = _provider_calls(BARBER)
    assert len(calls) > len(calls_before) and {c.provider for c in calls} == {"alpineiq"}
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=BARBER)
        stored = session.exec(
            select(ExternalLoyaltyBalance).where(ExternalLoyaltyBalance.tenant_id == tenant.id)
        ).all()
    assert len(stored) == 12


def _provider_calls(slug: str) -> list[ProviderCall]:
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug=slug)
        return list(
            session.exec(select(ProviderCall).where(ProviderCall.tenant_id == tenant.id)).all()
        )
