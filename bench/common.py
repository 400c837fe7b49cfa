"""Shared by the benchmarks: each run gets a fresh database on the configured server."""

from __future__ import annotations

import os
import uuid

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def use_fresh_database(prefix: str) -> str:
    """Point DATABASE_URL at a new, empty database (PostgreSQL) or SQLite file; returns it.

    Call before importing marketing_app: settings are read once.
    """
    from sqlalchemy import create_engine, text

    base = os.environ.get("DATABASE_URL") or DEFAULT_SERVER
    if base.startswith("sqlite"):
        url = f"sqlite:////tmp/{prefix}_{uuid.uuid4().hex[:8]}.db"
    else:
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        server = base.rsplit("/", 1)[0]
        admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = f"{server}/{name}"
    os.environ["DATABASE_URL"] = url
    return url


def drop_database(url: str) -> None:
    """Remove a database made by use_fresh_database (PostgreSQL; SQLite files are in /tmp)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    from marketing_app.db import get_engine

    get_engine().dispose()
    server, name = url.rsplit("/", 1)
    admin = create_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (0 when it is gone)."""
    from pathlib import Path

    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """The process and all its descendants (read from /proc)."""
    from pathlib import Path

    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo.extend(int(child) for child in children)
    return found


def postgres_cpu_seconds(pg_url: str) -> float:
    """CPU seconds so far of the whole PostgreSQL server: the postmaster, its live processes
    (backends, WAL writer, checkpointer...) and those that exited (their time is added to the
    postmaster's children when it reaps them), so a connection opened and closed within a
    measurement still counts. Meant for a server nothing else is using meanwhile."""
    from pathlib import Path

    import psycopg

    with psycopg.connect(pg_url) as conn:
        data_directory = conn.execute("SHOW data_directory").fetchone()[0]
    postmaster = int((Path(data_directory) / "postmaster.pid").read_text().split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rpartition(")")[2].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return reaped + sum(cpu_seconds(pid) for pid in process_tree(postmaster))
