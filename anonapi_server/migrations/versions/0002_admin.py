"""Users get an admin role: an admin reads and changes every user's jobs.

A database made by the server version that introduced the role before migrations existed
already has the column (it added it itself); it is added only where missing.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("users")}
    if "is_admin" not in columns:
        with op.batch_alter_table("users") as batch:
            batch.add_column(
                sa.Column("is_admin", sa.Boolean, nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("is_admin")
