"""Admins create tenants and users; owners manage keys, members and jobs; viewers only look."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, login_and_wait, screenshot

pytestmark = pytest.mark.browser


def test_admin_creates_a_tenant_and_a_user_who_can_then_log_in(page):
    suffix = uuid.uuid4().hex[:6]
    login_and_wait(page, "admin@example.com")
    page.goto("/admin")
    expect(page.locator("#tenants-table")).to_contain_text("carolina-leaf")
    page.fill("#tenant-name", f"Coastal Cuts {suffix}")
    page.fill("#tenant-slug", f"coastal-{suffix}")
    page.click("#create-tenant")
    expect(page.locator("#tenants-table")).to_contain_text(f"coastal-{suffix}")

    page.fill("#tenant-name", "Duplicate")
    page.fill("#tenant-slug", f"coastal-{suffix}")
    page.click("#create-tenant")
    expect(page.get_by_text(f"The slug 'coastal-{suffix}' is already taken.").first).to_be_visible()

    email = f"barber-{suffix}@example.com"
    page.fill("#user-email", email)
    page.fill("#user-name", "Coastal Owner")
    page.fill("#user-password", "short")
    page.select_option("#user-tenant", f"coastal-{suffix}")
    page.click("#create-user")
    expect(page.get_by_text("Password must be at least 10 characters.").first).to_be_visible()
    # The refused form keeps what was typed: only the password needs fixing.
    expect(page.locator("#user-email")).to_have_value(email)
    expect(page.locator("#user-name")).to_have_value("Coastal Owner")
    page.fill("#user-password", "a-long-enough-password")
    page.click("#create-user")
    expect(page.locator("#users-table")).to_contain_text(email)
    expect(page.locator("#user-email")).to_have_value("")
    screenshot(page, "admin")

    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login"))
    login(page, email, "a-long-enough-password")
    expect(page).to_have_url(re.compile(rf"/t/coastal-{suffix}/dashboard"))
    expect(page.get_by_text("No customers yet")).to_be_visible()
    expect(page.locator("#signed-in-as")).to_have_text("Coastal Owner")
    screenshot(page, "empty-dashboard")


def test_owner_creates_a_key_shown_once_then_revokes_it(page):
    login_and_wait(page, "owner@leaf.example.com")
    page.goto("/t/carolina-leaf/settings")
    page.click("#tab-keys")
    page.click("#create-key")
    new_key = page.locator("#new-key")
    expect(new_key).to_have_text(re.compile(r"^pk_"))
    page.reload()
    page.click("#tab-keys")
    expect(page.locator("#new-key")).to_have_count(0)  # never shown again
    revoke = page.get_by_role("button", name="Revoke").first
    revoke.click()
    expect(page.get_by_text("revoked").first).to_be_visible()


def test_owner_generates_sample_data_and_watches_the_progress_bar(page):
    login_and_wait(page, "owner@barber.example.com")
    page.goto("/t/sharp-co/settings")
    page.click("#tab-jobs")
    page.click("#start-sample")
    progress = page.locator(".job-progress").first
    expect(progress).to_contain_text("Sample data: dispensary, small")
    expect(progress).to_contain_text("succeeded", timeout=90_000)
    expect(progress).to_contain_text("Added 300 customers")
    screenshot(page, "jobs")
    page.click("#tab-audit")
    expect(page.locator("#audit-table")).to_contain_text("job.start")
    expect(page.locator("#audit-table")).to_contain_text("owner@barber.example.com")


def test_viewer_cannot_change_settings(page):
    login_and_wait(page, "viewer@leaf.example.com")
    page.goto("/t/carolina-leaf/settings")
    expect(page.locator("#save-profile")).to_be_disabled()
    expect(page.get_by_text("Only owners can change settings.")).to_be_visible()
    page.click("#tab-members")
    expect(page.locator("#add-member")).to_be_disabled()
    expect(page.locator("#members-table")).to_contain_text("viewer@leaf.example.com")
    screenshot(page, "viewer-settings")
