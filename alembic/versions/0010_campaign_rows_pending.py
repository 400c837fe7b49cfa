"""campaigns.rows_pending_after: a send's message rows written in parts

"Send now" writes the first recipients' rows, starts the senders, and writes the rest behind
them in chunks; until the last chunk the campaign holds the profile id the rows reach.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 09:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("rows_pending_after", BIG_ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("rows_pending_after")
