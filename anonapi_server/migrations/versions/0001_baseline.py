"""Baseline: the schema as the server created it before migrations existed.

A database made by an older server (tables, no alembic_version) is stamped with this revision
and upgraded from it, so its jobs are kept.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("token_salt", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "projects",
        sa.Column("project_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
    )
    op.create_table(
        "user_projects",
        sa.Column("user_name", sa.String(200), sa.ForeignKey("users.name"), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.project_id"), primary_key=True),
    )
    op.create_table(
        "shares",
        sa.Column("host", sa.String(200), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("local_path", sa.Text, nullable=False),
    )
    op.create_table("opt_outs", sa.Column("patient_id", sa.String(200), primary_key=True))
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("date", sa.String(19), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("description", sa.Text),
        sa.Column("project_name", sa.String(200), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("files_downloaded", sa.Integer),
        sa.Column("files_processed", sa.Integer),
        sa.Column("files_quarantined", sa.Integer),
        sa.Column("files_skipped", sa.Integer),
        sa.Column("destination_type", sa.String(16), nullable=False),
        sa.Column("destination_path", sa.Text),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("source_path", sa.Text),
        sa.Column("source_name", sa.String(200)),
        sa.Column("source_instance_id", sa.Text),
        sa.Column("source_anonymizedpatientid", sa.String(200)),
        sa.Column("source_anonymizedpatientname", sa.String(200)),
        sa.Column("source_pims_keyfile_id", sa.String(200)),
        sa.Column("source_sop_class_filter_list", sa.Text),
        sa.Column("source_ignore_opt_out", sa.Boolean, nullable=False),
        sa.Column("source_ignore_opt_out_reason", sa.Text),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(100)),
        sa.Column("lease_expires", sa.Float),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_jobs_claim", "jobs", ["status", sa.text("priority DESC"), "job_id"], unique=False
    )


def downgrade() -> None:
    for table in ("jobs", "opt_outs", "shares", "user_projects", "projects", "users"):
        op.drop_table(table)
