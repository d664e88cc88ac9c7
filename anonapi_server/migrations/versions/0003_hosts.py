"""Scale-out: the shares each job needs (so a host claims only jobs on shares it mounts), and
the heartbeats of hosts and workers (status, /ext/hosts, /metrics).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("source_share", sa.String(400)))
        batch.add_column(sa.Column("destination_share", sa.String(400)))
    from anonapi_server.store import share_key

    jobs = sa.table(
        "jobs",
        sa.column("job_id", sa.Integer),
        sa.column("source_path", sa.Text),
        sa.column("destination_path", sa.Text),
        sa.column("source_share", sa.String),
        sa.column("destination_share", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(sa.select(jobs.c.job_id, jobs.c.source_path, jobs.c.destination_path))
    for job_id, source, destination in rows.all():
        connection.execute(
            sa.update(jobs)
            .where(jobs.c.job_id == job_id)
            .values(source_share=share_key(source), destination_share=share_key(destination))
        )
    op.create_table(
        "hosts",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("hostname", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("workers", sa.Integer, nullable=False),
        sa.Column("shares", sa.Text, nullable=False),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("worker_id", sa.String(100), primary_key=True),
        sa.Column("host_name", sa.String(200), nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("job_id", sa.Integer),
        sa.Column("files_processed", sa.Integer, nullable=False),
        sa.Column("files_per_second", sa.Float, nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("claim_seconds", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("workers")
    op.drop_table("hosts")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("destination_share")
        batch.drop_column("source_share")
