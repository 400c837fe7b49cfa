"""Frequency cap settings and the webhook addresses shown to owners."""

from __future__ import annotations

import pytest

from marketing_app.domain.errors import InvalidInput
from marketing_app.services.campaign_send import frequency_cap, save_frequency_cap
from marketing_app.services.email_webhooks import configure_email_webhook, webhook_endpoints


def test_frequency_cap_is_saved_and_bad_values_refused(session, tenant):
    assert frequency_cap(tenant) == (0, 7)  # no cap until set
    save_frequency_cap(session=session, tenant_id=tenant.id, max_emails=3, days=7)
    assert frequency_cap(tenant) == (3, 7)
    for max_emails, days in ((-1, 7), (101, 7), (2, 0), (2, 91)):
        with pytest.raises(InvalidInput):
            save_frequency_cap(
                session=session, tenant_id=tenant.id, max_emails=max_emails, days=days
            )
    assert frequency_cap(tenant) == (3, 7)


def test_webhook_endpoints_name_the_tenant_and_show_saved_keys(session, tenant, other_tenant):
    configure_email_webhook(
        session=session, tenant_id=tenant.id, provider="postmark", secret="hooks:s3cret-pass"
    )
    mine = {
        e["provider"]: e
        for e in webhook_endpoints(
            session=session, tenant_id=tenant.id, base_url="https://mk.example.com/"
        )
    }
    assert mine["postmark"]["configured"] == "yes" and mine["postmark"]["hint"] == "…pass"
    assert mine["sendgrid"]["configured"] == ""
    assert (
        mine["sendgrid"]["url"] == f"https://mk.example.com/webhooks/email/sendgrid/{tenant.slug}"
    )
    theirs = webhook_endpoints(session=session, tenant_id=other_tenant.id, base_url="https://x")
    assert all(e["configured"] == "" for e in theirs)
