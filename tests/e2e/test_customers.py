"""Customers pages: search, filters, a profile with its timeline, and the tenant boundary."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from marketing_app.db import session_scope
from marketing_app.services.event_processing import process_pending_events
from marketing_app.services.ingestion import ingest_messages
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import login_and_wait, screenshot

pytestmark = pytest.mark.browser


def _track_a_visitor() -> None:
    with session_scope() as session:
        tenant = get_tenant_by_slug(session=session, slug="piedmont-wine")
        ingest_messages(
            session=session,
            tenant_id=tenant.id,
            messages=[
                {
                    "type": "page",
                    "anonymousId": "e2e-anon",
                    "name": "Catalog",
                    "messageId": "e2e-1",
                    "timestamp": "2026-11-10T09:00:00Z",
                },
                {
                    "type": "identify",
                    "userId": "acct-9",
                    "anonymousId": "e2e-anon",
                    "messageId": "e2e-2",
                    "traits": {
                        "email": "buyer@bistro.example",
                        "name": "Rosa Bistro",
                        "territory": "Triad",
                    },
                    "timestamp": "2026-11-10T09:05:00Z",
                },
            ],
        )
        session.commit()
        process_pending_events(session=session, tenant_id=tenant.id)


def test_marketer_finds_a_tracked_customer_and_reads_the_timeline(page):
    _track_a_visitor()
    login_and_wait(page, "owner@wine.example.com")
    page.click("#nav-customers")
    expect(page.locator("#customers-table")).to_be_visible()
    page.fill("#customer-search", "bistro")
    expect(page.locator("#customers-table tbody tr")).to_have_count(1)
    screenshot(page, "customers")
    page.get_by_role("link", name="Rosa Bistro").click()
    expect(page.locator("#customer-name")).to_have_text("Rosa Bistro")
    expect(page.locator("#timeline")).to_contain_text("Viewed Catalog")
    expect(page.get_by_text("Triad").first).to_be_visible()
    screenshot(page, "customer-detail")


def test_search_with_no_match_shows_the_empty_state(page):
    login_and_wait(page, "owner@wine.example.com")
    page.goto("/t/piedmont-wine/customers")
    page.fill("#customer-search", "zzzz-nobody")
    expect(page.get_by_text("No customers match")).to_be_visible()


def test_another_tenants_customer_is_not_found(page):
    with session_scope() as session:
        leaf = get_tenant_by_slug(session=session, slug="carolina-leaf")
        from marketing_app.services.profiles import search_profiles

        [leaf_customer], _ = search_profiles(session=session, tenant_id=leaf.id, limit=1)
    login_and_wait(page, "owner@wine.example.com")
    page.goto(f"/t/piedmont-wine/customers/{leaf_customer.id}")
    expect(page.locator("#not-found")).to_be_visible()
    page.goto(f"/t/carolina-leaf/customers/{leaf_customer.id}")
    expect(page.locator("#not-found")).to_be_visible()
    page.goto("/t/piedmont-wine/customers/not-a-number")
    expect(page.locator("#not-found")).to_be_visible()
    expect(page).to_have_url(re.compile("not-a-number"))


def test_csv_import_shows_progress_and_the_refused_rows(page, tmp_path):
    csv_file = tmp_path / "bistros.csv"
    csv_file.write_text(
        "email,first_name,territory\nchef@bistro-one.example,Chef,Triad\n"
        "broken-address,Nope,\nsous@bistro-two.example,Sous,Coastal\n"
    )
    login_and_wait(page, "owner@wine.example.com")
    page.goto("/t/piedmont-wine/customers")
    page.get_by_text("Import customers").click()
    page.set_input_files("#customer-csv input[type=file]", str(csv_file))
    expect(page.get_by_text("bistros.csv")).to_be_visible()
    page.click("#start-import")
    progress = page.locator(".job-progress").first
    expect(progress).to_contain_text("succeeded", timeout=60_000)
    expect(progress).to_contain_text("2 created, 0 updated, 1 rejected")
    expect(page.locator("#import-rejected")).to_contain_text("Enter a valid email address.")
    screenshot(page, "customer-import")
    page.fill("#customer-search", "bistro-two")
    expect(page.locator("#customers-table")).to_contain_text("sous@bistro-two.example")
