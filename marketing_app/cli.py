"""Command-line entry points behind the Makefile: migrate and seed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from alembic.config import Config

from alembic import command
from marketing_app.db import session_scope
from marketing_app.services.demo_seed import DEMO_PASSWORD, DEMO_USERS, database_is_empty, seed_demo
from marketing_app.settings import PROJECT_ROOT


def migrate() -> None:
    config = Config(str(Path(PROJECT_ROOT) / "alembic.ini"))
    command.upgrade(config, "head")


def seed(scale: float, seed_value: int, only_if_empty: bool) -> None:
    with session_scope() as session:
        if not database_is_empty(session=session):
            if only_if_empty:
                print("seed: database already has users; leaving it as it is")
                return
            sys.exit("seed: the database is not empty; use a fresh DATABASE_URL")
        started = time.monotonic()
        last_print = [0.0]

        def progress(done: int, total: int, message: str) -> None:
            if time.monotonic() - last_print[0] > 2 or done == total:
                last_print[0] = time.monotonic()
                print(f"  {message}: {done}/{total}", flush=True)

        counts = seed_demo(session=session, scale=scale, seed=seed_value, progress=progress)
    print(f"seed: {counts} customers in {time.monotonic() - started:.1f}s")
    print(f"seed: demo logins (password '{DEMO_PASSWORD}'): " + ", ".join(u[0] for u in DEMO_USERS))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="marketing_app.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    seed_parser = sub.add_parser("seed", help="create the demo tenants, users and data")
    seed_parser.add_argument("--scale", type=float, default=1.0)
    seed_parser.add_argument("--seed", type=int, default=0)
    seed_parser.add_argument("--if-empty", action="store_true", help="skip when users exist")
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrate()
    else:
        seed(args.scale, args.seed, args.if_empty)


if __name__ == "__main__":
    main()
