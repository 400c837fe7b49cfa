"""API keys shown once and stored hashed; provider secrets encrypted and masked."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from marketing_app.domain.errors import InvalidCredentials, NotFound
from marketing_app.models import ApiKey, ApiKeyKind, ProviderCredential
from marketing_app.services import api_keys, credentials


def test_keys_are_shown_once_and_only_their_hash_is_stored(session, tenant):
    issued = api_keys.create_api_key(
        session=session, tenant_id=tenant.id, kind="secret", name="CRM"
    )
    session.commit()
    assert issued.plaintext.startswith("sk_") and len(issued.plaintext) > 30
    row = session.get(ApiKey, issued.id)
    assert issued.plaintext not in (row.key_hash, row.display_prefix)
    assert row.display_prefix == issued.plaintext[:10]
    assert (
        api_keys.authenticate_api_key(
            session=session, plaintext=issued.plaintext, kind=ApiKeyKind.SECRET
        ).id
        == tenant.id
    )


def test_publishable_and_secret_keys_are_not_interchangeable(session, tenant):
    pk = api_keys.create_api_key(session=session, tenant_id=tenant.id, kind="publishable", name="")
    sk = api_keys.create_api_key(session=session, tenant_id=tenant.id, kind="secret", name="")
    session.commit()
    with pytest.raises(InvalidCredentials, match="publishable key cannot be used here"):
        api_keys.authenticate_api_key(
            session=session, plaintext=pk.plaintext, kind=ApiKeyKind.SECRET
        )
    with pytest.raises(InvalidCredentials, match="secret key cannot be used here"):
        api_keys.authenticate_api_key(
            session=session, plaintext=sk.plaintext, kind=ApiKeyKind.PUBLISHABLE
        )


def test_revoked_key_stops_working_and_other_tenants_cannot_revoke(session, tenant, other_tenant):
    issued = api_keys.create_api_key(session=session, tenant_id=tenant.id, kind="secret", name="")
    session.commit()
    with pytest.raises(NotFound):
        api_keys.revoke_api_key(session=session, tenant_id=other_tenant.id, key_id=issued.id)
    api_keys.revoke_api_key(session=session, tenant_id=tenant.id, key_id=issued.id)
    session.commit()
    with pytest.raises(InvalidCredentials, match="revoked"):
        api_keys.authenticate_api_key(
            session=session, plaintext=issued.plaintext, kind=ApiKeyKind.SECRET
        )
    assert [k.id for k in api_keys.list_api_keys(session=session, tenant_id=other_tenant.id)] == []


def test_credentials_are_encrypted_at_rest_and_masked(session, tenant, other_tenant):
    secret = "SG.live-secret-value-1234"
    credentials.set_credential(
        session=session, tenant_id=tenant.id, provider="sendgrid", secret=secret
    )
    session.commit()
    raw = session.execute(
        text("SELECT encrypted_secret, secret_hint FROM provider_credentials")
    ).all()
    assert all(secret not in row[0] for row in raw)
    listed = credentials.list_credentials(session=session, tenant_id=tenant.id)
    assert credentials.masked(listed[0].secret_hint) == "••••1234"
    assert (
        credentials.reveal_credential(session=session, tenant_id=tenant.id, provider="sendgrid")
        == secret
    )
    with pytest.raises(NotFound):
        credentials.reveal_credential(
            session=session, tenant_id=other_tenant.id, provider="sendgrid"
        )
    assert credentials.list_credentials(session=session, tenant_id=other_tenant.id) == []


def test_credential_replacement_keeps_one_row(session, tenant):
    for secret in ("first-secret-aaaa", "second-secret-bbbb"):
        credentials.set_credential(
            session=session, tenant_id=tenant.id, provider="twilio", secret=secret
        )
    session.commit()
    rows = [c for c in credentials.list_credentials(session=session, tenant_id=tenant.id)]
    assert (
        len(rows) == 1 and isinstance(rows[0], ProviderCredential) and rows[0].secret_hint == "bbbb"
    )
