from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from marketing_app.api.app import create_api
from marketing_app.services.api_keys import create_api_key


@pytest.fixture
def client():
    # A new FastAPI instance per test (REFLEX.md P15: an app that served requests cannot be reused).
    with TestClient(create_api()) as test_client:
        yield test_client


def issue_key(session, tenant, kind: str = "secret") -> str:
    key = create_api_key(session=session, tenant_id=tenant.id, kind=kind, name="test")
    session.commit()
    return key.plaintext


@pytest.fixture
def secret_key(session, tenant) -> str:
    return issue_key(session, tenant)
