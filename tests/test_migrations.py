"""Alembic migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import marketing_app.models  # noqa: F401
from alembic import command
from tests.conftest import ROOT, TEST_DATABASE_URL


def _diff(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return diff


def test_migrated_test_database_matches_models(migrated_database):
    assert _diff(TEST_DATABASE_URL) == []


def test_fresh_sqlite_database_migrates_to_models_and_back():
    url = f"sqlite:///{tempfile.mkdtemp()}/fresh.db"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")
    assert _diff(url) == []
    command.downgrade(config, "base")
    engine = create_engine(url)
    assert set(engine.dialect.get_table_names(engine.connect())) <= {"alembic_version"}


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="the PostgreSQL half runs where DATABASE_URL is PostgreSQL (CI)",
)
def test_postgresql_database_matches_models(migrated_database):
    assert migrated_database.startswith("postgresql")
    assert _diff(migrated_database) == []
