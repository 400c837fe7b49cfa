"""events and email_messages: no foreign key on tenant_id

Their rows are written in bulk (a tracking batch by COPY, a campaign's recipients by one
INSERT ... SELECT), and the check is one lookup per row: 28% of a COPY into events, a sixth
of a send's row creation. Tenants are deactivated, never deleted, and each row's tenant comes
from an authenticated key or from its campaign (whose own foreign key remains).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 05:10:00.000000

"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

TABLES = ("events", "email_messages")
# SQLite's foreign keys have no names: batch mode names them by this convention to drop one.
NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.drop_constraint(f"{table}_tenant_id_fkey", table, type_="foreignkey")
            continue
        with op.batch_alter_table(table, naming_convention=NAMING) as batch:
            batch.drop_constraint(f"fk_{table}_tenant_id_tenants", type_="foreignkey")


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.create_foreign_key(
                f"{table}_tenant_id_fkey", "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
            )
