"""Column helpers shared by every table module."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import BigInteger, Integer


def utcnow() -> datetime:
    """Timezone-aware now in UTC: the only clock stored in the database."""
    return datetime.now(UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


# SQLite only autoincrements a plain INTEGER primary key, so big ids fall back to it there.
BigId = BigInteger().with_variant(Integer(), "sqlite")
