"""Login, logout, wrong passwords, and the tenant boundary, as a user sees them."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import login, login_and_wait, screenshot

pytestmark = pytest.mark.browser


def test_marketer_logs_in_and_sees_their_tenants_dashboard(page):
    page.goto("/t/carolina-leaf/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))  # not signed in: sent to login
    page.fill("#email", "marketer@leaf.example.com")
    page.fill("#password", "demo-password")
    page.click("#sign-in")
    expect(page).to_have_url(re.compile(r"/t/carolina-leaf/dashboard"))
    expect(page.locator("#tenant-badge")).to_have_text("Carolina Leaf Dispensary · marketer")
    cards = page.locator("#headline-cards")
    expect(cards).to_contain_text("Customers")
    expect(cards).to_contain_text("150")  # 3,000 customers at scale 0.05
    expect(page.locator("#revenue-chart .main-svg").first).to_be_visible()
    screenshot(page, "dashboard")
    # The session cookie is HttpOnly: page scripts cannot read it.
    cookie = next(c for c in page.context.cookies() if c["name"] == "mk_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert "mk_session" not in page.evaluate("document.cookie")
    page.reload()
    expect(page.locator("#tenant-badge")).to_have_text("Carolina Leaf Dispensary · marketer")


def test_wrong_password_shows_an_error_and_stays_on_login(page):
    login(page, "marketer@leaf.example.com", "not-my-password")
    expect(page.locator("#login-error")).to_have_text("Invalid email or password.")
    expect(page).to_have_url(re.compile(r"/login"))
    login(page, "nobody@nowhere.example", "whatever-password")
    expect(page.locator("#login-error")).to_have_text("Invalid email or password.")
    screenshot(page, "login-error")


def test_user_of_tenant_a_gets_404_for_tenant_b_pages(page):
    login_and_wait(page, "marketer@leaf.example.com")
    for path in (
        "/t/piedmont-wine/dashboard",
        "/t/piedmont-wine/settings",
        "/t/no-such-tenant/dashboard",
    ):
        page.goto(path)
        expect(page.locator("#not-found")).to_have_text("Page not found")
        expect(page.locator("#headline-cards")).to_have_count(0)
    page.goto("/admin")
    expect(page.locator("#not-found")).to_be_visible()
    screenshot(page, "not-found")


def test_tenant_a_key_gets_404_for_tenant_b_api_objects(app_server):
    # API objects are scoped by the key's tenant: a job id of another tenant is not found.
    from marketing_app.db import session_scope
    from marketing_app.models.base import utcnow
    from marketing_app.services import job_runs
    from marketing_app.services.api_keys import create_api_key
    from marketing_app.services.tenants import get_tenant_by_slug

    with session_scope() as session:
        leaf = get_tenant_by_slug(session=session, slug="carolina-leaf")
        wine = get_tenant_by_slug(session=session, slug="piedmont-wine")
        key = create_api_key(
            session=session, tenant_id=leaf.id, kind="secret", name="e2e"
        ).plaintext
        theirs = job_runs.create_job_run(
            session=session,
            tenant_id=wine.id,
            kind="purge_sessions",
            label="wine job",
            due_at=utcnow().replace(year=2100),
        )
    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{app_server}/api/v1/jobs/{theirs.id}", headers=headers).status_code == 404
    assert (
        httpx.get(f"{app_server}/api/v1/tenant", headers=headers).json()["slug"] == "carolina-leaf"
    )


def test_logout_ends_the_session(page):
    login_and_wait(page, "owner@wine.example.com")
    page.click("#logout")
    expect(page).to_have_url(re.compile(r"/login"))
    page.goto("/t/piedmont-wine/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))


def test_user_in_two_tenants_switches_between_them(page):
    login_and_wait(page, "agency@example.com")
    expect(page.locator("#tenant-badge")).to_contain_text("Piedmont Wine Distributors")
    page.click("#tenant-switcher")
    page.get_by_role("option", name="Sharp & Co Barbershop").click()
    expect(page).to_have_url(re.compile(r"/t/sharp-co/dashboard"))
    expect(page.locator("#tenant-badge")).to_have_text("Sharp & Co Barbershop · marketer")


def test_repeated_wrong_passwords_lock_the_account_for_a_while(page):
    from marketing_app.db import session_scope
    from tests.factories import PASSWORD, make_user

    with session_scope() as session:
        email = make_user(session).email  # its own account: the lock lasts 15 minutes
    for _ in range(5):
        login(page, email, "wrong-password-again")
        expect(page.locator("#login-error")).to_have_text("Invalid email or password.")
    login(page, email, PASSWORD)
    expect(page.locator("#login-error")).to_contain_text("Too many failed attempts")
    expect(page).to_have_url(re.compile(r"/login"))


def test_expired_session_sends_the_user_back_to_login(page):
    from sqlalchemy import update

    from marketing_app.db import session_scope
    from marketing_app.models import AuthSession
    from marketing_app.models.base import utcnow

    login_and_wait(page, "owner@barber.example.com")
    with session_scope() as session:  # every session ends now, as if 12 hours had passed
        session.exec(update(AuthSession).values(expires_at=utcnow()))
    page.goto("/t/sharp-co/settings")
    expect(page).to_have_url(re.compile(r"/login\?next=/t/sharp-co/settings"))
    page.fill("#email", "owner@barber.example.com")
    page.fill("#password", "demo-password")
    page.click("#sign-in")
    expect(page).to_have_url(re.compile(r"/t/sharp-co/settings"))
