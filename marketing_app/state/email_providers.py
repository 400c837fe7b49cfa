"""Settings → Email sending: the tenant's email providers in priority order; adding one tests
its credentials with the provider before anything is stored. Owners change them."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.domain.errors import DomainError
from marketing_app.models import Role
from marketing_app.services import email_provider_config as providers
from marketing_app.state.session import SessionState

log = logging.getLogger(__name__)
# Per provider: the settings the form asks for, (config key, label, placeholder).
PROVIDER_FIELDS: dict[str, list[tuple[str, str, str]]] = {
    "sendgrid": [],
    "ses": [
        ("access_key_id", "Access key ID", "AKIA…"),
        ("region", "Region", "us-east-1"),
        ("configuration_set", "Configuration set (optional)", ""),
    ],
    "smtp": [
        ("host", "Host", "smtp.example.com"),
        ("port", "Port", "587"),
        ("security", "Security: starttls, ssl or none", "starttls"),
        ("username", "User name", ""),
    ],
    "resend": [],
    "postmark": [("message_stream", "Message stream", "broadcast")],
    "console": [],
}
RATE_FIELD = ("rate_limit", "Rate limit (optional)", "50/second")
CHOICES = [(name, providers.LABELS[name]) for name in PROVIDER_FIELDS]


def _save(tenant_id: uuid.UUID, provider: str, secret: str, config: dict[str, Any]) -> str:
    """ "" when saved, else the reason (the provider's own when it refused the credentials)."""
    try:
        with session_scope() as session:
            providers.save_email_provider(
                session=session,
                tenant_id=tenant_id,
                provider=provider,
                secret=secret or None,
                config=config,
            )
    except DomainError as exc:
        return exc.message
    except Exception:  # an unexpected provider answer must not take the page down
        log.exception("saving an email provider failed")
        return "The provider could not be checked just now; try again."
    return ""


class EmailProvidersState(SessionState):
    configured: list[dict[str, str]] = []
    provider: str = "sendgrid"
    secret: str = ""
    config: dict[str, str] = {}
    form_error: str = ""
    saving: bool = False

    @rx.var
    def fields(self) -> list[list[str]]:
        wanted = PROVIDER_FIELDS.get(self.provider, [])
        extra = [RATE_FIELD] if self.provider != "console" else []
        return [list(f) for f in wanted + extra]

    @rx.var
    def secret_label(self) -> str:
        label = providers.SECRET_LABELS.get(self.provider, "")
        return label[:1].upper() + label[1:]

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        self.form_error, self.secret, self.config = "", "", {}
        self._refresh()

    def _refresh(self) -> None:
        _, tenant = self._authorize(Role.VIEWER)
        with session_scope() as session:
            described = providers.describe_email_providers(session=session, tenant_id=tenant.id)
        self.configured = [
            {
                "name": p["name"],
                "label": p["label"],
                "secret": p["secret"] or "—",
                "settings": ", ".join(f"{k}: {v}" for k, v in sorted(p["config"].items())) or "—",
                "position": str(i + 1),
            }
            for i, p in enumerate(described)
        ]

    @rx.event
    def set_provider(self, value: str):
        self.provider = value if value in PROVIDER_FIELDS else "sendgrid"
        self.config, self.secret, self.form_error = {}, "", ""

    @rx.event
    def set_secret(self, value: str):
        self.secret, self.form_error = value[:500], ""

    @rx.event
    def set_config(self, key: str, value: str):
        self.config[key] = value[:300]
        self.form_error = ""

    @rx.event(background=True)
    async def save(self):
        async with self:
            if self.saving:
                return
            try:
                _, tenant = self._authorize(Role.OWNER)
            except DomainError as exc:
                self.form_error = exc.message
                return
            self.saving, self.form_error = True, ""
            job = (
                tenant.id,
                self.provider,
                self.secret,
                {k: v for k, v in self.config.items() if v},
            )
        error = await asyncio.to_thread(_save, *job)
        async with self:
            self.saving, self.form_error = False, error
            if not error:
                self.secret, self.config = "", {}
                self._refresh()
        if not error:
            yield rx.toast.success(f"{providers.LABELS[job[1]]} checked and saved.")

    def _change_order(self, action: str, change) -> Any:
        _, error = self._change_as(Role.OWNER, action, "email_provider", change)
        if error:
            return rx.toast.error(error.message)
        self._refresh()

    @rx.event
    def move(self, name: str, step: int):
        order = [p["name"] for p in self.configured]
        if name not in order:
            return
        i = order.index(name)
        j = min(max(0, i + step), len(order) - 1)
        order[i], order[j] = order[j], order[i]
        return self._change_order(
            "email_provider.order",
            lambda session, tenant: ",".join(
                providers.set_email_provider_order(
                    session=session, tenant_id=tenant.id, order=order
                )
            ),
        )

    @rx.event
    def remove(self, name: str):
        def change(session, tenant):
            providers.remove_email_provider(session=session, tenant_id=tenant.id, provider=name)
            return name

        return self._change_order("email_provider.remove", change)
