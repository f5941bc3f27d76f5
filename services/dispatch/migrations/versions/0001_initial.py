"""dispatch: plumbing tables, registry, care requests, assignments

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from services.infra.bus.tables import create_plumbing_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_plumbing_tables(op)
    op.create_table(
        "caregivers",
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=False),
        sa.Column("street", sa.String(80), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "households",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=False),
        sa.Column("street", sa.String(80), nullable=False),
        sa.Column("category", sa.String(1), nullable=True),
        sa.Column("enrolled_on", sa.Date, nullable=False),
        sa.Column("visit_start", sa.Time, nullable=False),
        sa.Column("visit_end", sa.Time, nullable=False),
    )
    op.create_table(
        "care_requests",
        sa.Column("request_id", sa.String(40), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("assignment_id", sa.String(64), primary_key=True),
        sa.Column("request_id", sa.String(40), nullable=False, unique=True),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "assignments",
        "care_requests",
        "households",
        "caregivers",
        "dead_letters",
        "inbox",
        "outbox",
    ):
        op.drop_table(table)
