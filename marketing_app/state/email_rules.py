"""Settings → Email sending, second half: the provider webhook addresses and keys (what
verifies delivery reports), and the frequency cap. Owners change them."""

from __future__ import annotations

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.models import Role, Tenant
from marketing_app.services.campaign_send import frequency_cap, save_frequency_cap
from marketing_app.services.email_webhooks import configure_email_webhook, webhook_endpoints
from marketing_app.settings import get_settings
from marketing_app.state.session import SessionState

WEBHOOK_CHOICES = [
    ("sendgrid", "SendGrid (signed event webhook: public key)"),
    ("ses", "Amazon SES via SNS (signing certificate, PEM)"),
    ("postmark", "Postmark (user:password of the webhook URL)"),
    ("resend", "Resend (signing secret whsec_...)"),
]


def _number(text: str) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdigit() else None


class EmailRulesState(SessionState):
    endpoints: list[dict[str, str]] = []
    webhook_provider: str = "sendgrid"
    webhook_secret: str = ""
    topic_arns: str = ""
    webhook_error: str = ""
    cap_max: str = "0"
    cap_days: str = "7"
    cap_error: str = ""

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            self.endpoints = webhook_endpoints(
                session=session, tenant_id=tenant.id, base_url=get_settings().tracking_base_url
            )
            max_emails, days = frequency_cap(session.get(Tenant, tenant.id))
        self.cap_max, self.cap_days = str(max_emails), str(days)
        self.webhook_error = self.cap_error = ""

    @rx.event
    def set_webhook_provider(self, value: str):
        self.webhook_provider = value if value in dict(WEBHOOK_CHOICES) else "sendgrid"
        self.webhook_error = ""

    @rx.event
    def set_webhook_secret(self, value: str):
        self.webhook_secret, self.webhook_error = value[:20_000], ""

    @rx.event
    def set_topic_arns(self, value: str):
        self.topic_arns = value[:2_000]

    @rx.event
    def set_cap_max(self, value: str):
        self.cap_max, self.cap_error = value[:4], ""

    @rx.event
    def set_cap_days(self, value: str):
        self.cap_days, self.cap_error = value[:3], ""

    @rx.event
    def save_webhook(self):
        provider, secret = self.webhook_provider, self.webhook_secret
        arns = [a.strip() for a in self.topic_arns.replace(",", "\n").splitlines() if a.strip()]

        def change(session, tenant):
            configure_email_webhook(
                session=session,
                tenant_id=tenant.id,
                provider=provider,
                secret=secret,
                topic_arns=arns,
            )
            return provider

        _, error = self._change_as(Role.OWNER, "email_webhook.save", "email_webhook", change)
        if error:
            self.webhook_error = error.message
            return
        self.webhook_secret = self.topic_arns = ""
        self.load()
        return rx.toast.success("Webhook key saved.")

    @rx.event
    def save_cap(self):
        max_emails, days = _number(self.cap_max), _number(self.cap_days)
        if max_emails is None or days is None:
            self.cap_error = "Give whole numbers: emails (0 for no cap) and days."
            return

        def change(session, tenant):
            save_frequency_cap(
                session=session, tenant_id=tenant.id, max_emails=max_emails, days=days
            )
            return f"{max_emails}/{days}d"

        _, error = self._change_as(Role.OWNER, "frequency_cap.save", "tenant", change)
        if error:
            self.cap_error = error.message
            return
        return rx.toast.success("Frequency cap saved.")
