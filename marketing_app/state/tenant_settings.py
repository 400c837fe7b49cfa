"""Tenant settings: profile, provider, API keys, provider credentials and the audit log."""

from __future__ import annotations

from typing import Any

import reflex as rx

from marketing_app.db import session_scope
from marketing_app.models import Role
from marketing_app.services import access, api_keys, credentials, tenants
from marketing_app.services.audit import list_audit
from marketing_app.state.session import SessionState


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


class TenantSettingsState(SessionState):
    profile: dict[str, str] = {}
    field_errors: dict[str, str] = {}
    keys: list[dict[str, str]] = []
    new_key_plaintext: str = ""  # shown once, right after creation
    creds: list[dict[str, str]] = []
    audit: list[dict[str, str]] = []
    time_zones: list[str] = tenants.common_time_zones()
    provider_names: list[str] = sorted(credentials.KNOWN_PROVIDERS)

    @rx.event
    def load(self):
        if self.page_error or not self.tenant_role:
            return
        self.new_key_plaintext, self.field_errors = "", {}
        self._reload()

    @rx.event
    def refresh(self, _tab: str = ""):
        """Re-read on every tab switch: other tabs' actions add audit entries and keys."""
        if self.tenant_role and not self.page_error:
            self._reload()

    def _reload(self) -> None:
        with session_scope() as session:
            tenant = tenants.get_tenant_by_slug(session=session, slug=self.current_slug)
            self.profile = {
                "name": tenant.name,
                "slug": tenant.slug,
                "time_zone": tenant.time_zone,
                "postal_address": tenant.postal_address,
                "marketing_provider": tenant.marketing_provider,
            }
            self.keys = [
                {
                    "id": str(k.id),
                    "name": k.name,
                    "kind": k.kind,
                    "prefix": k.display_prefix + "…",
                    "created": _when(k.created_at),
                    "last_used": _when(k.last_used_at) or "never",
                    "status": "revoked" if k.revoked_at else "active",
                }
                for k in api_keys.list_api_keys(session=session, tenant_id=tenant.id)
            ]
            self.creds = [
                {
                    "provider": c.provider,
                    "label": credentials.KNOWN_PROVIDERS.get(c.provider, c.provider),
                    "secret": credentials.masked(c.secret_hint),
                    "updated": _when(c.updated_at),
                }
                for c in credentials.list_credentials(session=session, tenant_id=tenant.id)
            ]
            self.audit = [
                {
                    "when": _when(a.created_at),
                    "actor": a.actor_label,
                    "action": a.action,
                    "target": f"{a.target_type} {a.target_id}".strip(),
                }
                for a in list_audit(session=session, tenant_id=tenant.id, limit=50)
            ]

    def _owner_change(self, action: str, change) -> Any:
        """Run `change(session, tenant)` as an owner, audited; errors go next to the field."""
        _, error = self._change_as(Role.OWNER, action, "", change)
        if error:
            self.field_errors = {error.field: error.message} if error.field else {}
            return rx.toast.error(error.message)
        self.field_errors = {}
        self._reload()
        return rx.toast.success("Saved.")

    @rx.event
    def save_profile(self, form: dict[str, Any]):
        return self._owner_change(
            "tenant.update",
            lambda s, tenant: (
                tenants.update_tenant(
                    session=s,
                    tenant_id=tenant.id,
                    name=str(form.get("name", "")),
                    time_zone=str(form.get("time_zone", "")),
                    postal_address=str(form.get("postal_address", "")),
                    marketing_provider=str(form.get("marketing_provider", "")),
                ).slug
            ),
        )

    @rx.event
    def create_key(self, form: dict[str, Any]):
        issued: list[str] = []

        def change(session, tenant):
            key = api_keys.create_api_key(
                session=session,
                tenant_id=tenant.id,
                kind=str(form.get("kind", "")),
                name=str(form.get("name", "")),
            )
            issued.append(key.plaintext)
            return key.id

        result = self._owner_change("api_key.create", change)
        if issued:
            self.new_key_plaintext = issued[0]
        return result

    @rx.event
    def revoke_key(self, key_id: str):
        return self._owner_change(
            "api_key.revoke",
            lambda s, tenant: (
                api_keys.revoke_api_key(
                    session=s, tenant_id=tenant.id, key_id=access.parse_id(key_id)
                ).id
            ),
        )

    @rx.event
    def dismiss_new_key(self):
        self.new_key_plaintext = ""

    @rx.event
    def save_credential(self, form: dict[str, Any]):
        provider = str(form.get("provider", ""))
        result = self._owner_change(
            "credential.set",
            lambda s, tenant: (
                credentials.set_credential(
                    session=s,
                    tenant_id=tenant.id,
                    provider=provider,
                    secret=str(form.get("secret", "")),
                ).provider
            ),
        )
        if self.field_errors:
            return result
        return [result, rx.set_value("credential-secret", "")]

    @rx.event
    def delete_credential(self, provider: str):
        return self._owner_change(
            "credential.delete",
            lambda s, tenant: (
                credentials.delete_credential(session=s, tenant_id=tenant.id, provider=provider)
                or provider
            ),
        )
