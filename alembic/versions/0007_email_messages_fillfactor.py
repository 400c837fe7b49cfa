"""email_messages: fillfactor 50, so a claim's lease update is HOT

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 01:50:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: Union[str, Sequence[str], None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # A storage parameter of PostgreSQL's heap; SQLite has nothing like it. Pages written
    # from now on keep half their room (existing pages follow as they are rewritten).
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE email_messages SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE email_messages RESET (fillfactor)")
