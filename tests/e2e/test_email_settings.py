"""Settings → Email sending in the browser: webhook keys (refused when they are no key,
saved when they are) and the frequency cap; a marketer sees them read-only."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import expect

from marketing_app.db import session_scope
from marketing_app.services.campaign_send import frequency_cap
from marketing_app.services.tenants import get_tenant_by_slug
from tests.e2e.conftest import login_and_wait, screenshot

pytestmark = pytest.mark.browser
WINE = "piedmont-wine"
SLOW = 30_000


def _public_key() -> str:
    der = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return base64.b64encode(der).decode()


def _open_email_tab(page) -> None:
    page.goto(f"/t/{WINE}/settings")
    page.click("#tab-email", timeout=SLOW)


def test_owner_saves_a_webhook_key_and_a_frequency_cap(page):
    login_and_wait(page, "owner@wine.example.com")
    _open_email_tab(page)
    endpoints = page.locator("#webhook-endpoints")
    expect(endpoints).to_contain_text(f"/webhooks/email/sendgrid/{WINE}", timeout=SLOW)
    page.fill("#webhook-secret", "not a key")
    page.click("#save-webhook")
    expect(page.get_by_role("alert")).to_contain_text("not a sendgrid webhook key")
    page.fill("#webhook-secret", _public_key())
    page.click("#save-webhook")
    expect(endpoints.locator("tr").filter(has_text="sendgrid")).to_contain_text("key saved")
    page.fill("#cap-max", "2")
    page.fill("#cap-days", "7")
    page.click("#save-cap")
    expect(page.get_by_text("Frequency cap saved.")).to_be_visible(timeout=SLOW)
    screenshot(page, "settings-email-rules")
    with session_scope() as session:
        assert frequency_cap(get_tenant_by_slug(session=session, slug=WINE)) == (2, 7)


def test_marketer_cannot_change_email_rules(page):
    login_and_wait(page, "agency@example.com")
    _open_email_tab(page)
    expect(page.locator("#save-webhook")).to_be_disabled(timeout=SLOW)
    expect(page.locator("#save-cap")).to_be_disabled()
