"""Alembic migrations produce exactly the models' schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine, text
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


def _filler(column, references: dict[str, object]) -> object:
    """A value a NOT NULL column accepts: the referenced row's id for a foreign key."""
    for key in column.foreign_keys:
        return references[key.column.table.name]
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = str
    if python_type is object:  # JSON
        return {}
    samples = {int: 1, str: "x", bool: False, float: 0.0, dict: {}, list: []}
    samples[datetime] = datetime(2026, 1, 1)
    return samples[python_type]


def _insert_row(conn, table_name: str, references: dict[str, object]) -> object:
    table = Table(table_name, MetaData(), autoload_with=conn)
    row = {
        column.name: _filler(column, references)
        for column in table.columns
        if not column.nullable and not column.primary_key
    }
    key = table.primary_key.columns.values()[0]
    if key.type.python_type is not int:  # a UUID: 32 hex digits in SQLite
        row[key.name] = uuid.uuid4().hex
    result = conn.execute(table.insert().values(row))
    return row.get(key.name) or result.inserted_primary_key[0]


def test_dropping_tenant_keys_on_sqlite_keeps_every_row():
    """0008 rebuilds events and email_messages on SQLite; the rows referencing them (email
    events cascade from their message) must all be there afterwards."""
    url = f"sqlite:///{tempfile.mkdtemp()}/keep.db"
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0007")
    engine = create_engine(url)
    tables = ["tenants", "contacts", "campaigns", "email_messages", "email_events", "events"]
    with engine.begin() as conn:
        references: dict[str, object] = {}
        for name in tables:
            references[name] = _insert_row(conn, name, references)
    command.upgrade(config, "head")
    with engine.connect() as conn:
        counts = {
            name: conn.execute(text(f"SELECT count(*) FROM {name}")).scalar() for name in tables
        }
    engine.dispose()
    assert counts == dict.fromkeys(tables, 1)
