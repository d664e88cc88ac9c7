"""PACS nodes the workers retrieve studies from (issue 10).

A database made by the server version that introduced them before migrations existed already
has the table (created with the others); it is created only where missing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("pacs_nodes"):
        return
    op.create_table(
        "pacs_nodes",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("settings", sa.Text, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pacs_nodes")
