"""Test database: a fresh one per pytest run, migrated with alembic; a fresh tenant per test.

DATABASE_URL pointing at PostgreSQL (as in CI) makes the run create and drop its own
database on that server; otherwise a SQLite file in a temporary directory is used.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)

_BASE_URL = os.environ.get("DATABASE_URL", "")
_TEST_DB_NAME = f"mk_test_{uuid.uuid4().hex[:10]}"
if _BASE_URL.startswith("postgresql"):
    TEST_DATABASE_URL = _BASE_URL.rsplit("/", 1)[0] + "/" + _TEST_DB_NAME
else:
    TEST_DATABASE_URL = f"sqlite:///{tempfile.mkdtemp(prefix='mk-test-')}/test.db"
os.environ["DATABASE_URL"] = TEST_DATABASE_URL
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ["CELERY_QUEUE"] = f"mk-test-{uuid.uuid4().hex[:10]}"
os.environ["PYTHONUNBUFFERED"] = "1"  # worker logs reach their files as they happen
if not os.environ.get("REDIS_URL"):
    os.environ["CELERY_BROKER_URL"] = (
        f"sqla+sqlite:///{tempfile.mkdtemp(prefix='mk-broker-')}/broker.db"
    )

import pytest  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tests.factories import make_tenant  # noqa: E402


def _admin_url() -> str:
    return _BASE_URL.rsplit("/", 1)[0] + "/postgres"


def _create_database() -> None:
    if TEST_DATABASE_URL.startswith("postgresql"):
        engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{_TEST_DB_NAME}"'))
        engine.dispose()


def _drop_database() -> None:
    from marketing_app.db import get_engine

    get_engine().dispose()
    if TEST_DATABASE_URL.startswith("postgresql"):
        engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{_TEST_DB_NAME}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session", autouse=True)
def migrated_database():
    from marketing_app.cli import migrate

    _create_database()
    migrate()
    yield TEST_DATABASE_URL
    _drop_database()


@pytest.fixture
def session(migrated_database):
    from marketing_app.db import get_engine

    with Session(get_engine(), expire_on_commit=False) as db_session:
        yield db_session


@pytest.fixture
def tenant(session):
    return make_tenant(session)


@pytest.fixture
def other_tenant(session):
    return make_tenant(session)
