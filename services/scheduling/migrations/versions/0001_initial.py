"""scheduling: plumbing tables, assignments, shifts, visits

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
        "assignments",
        sa.Column("assignment_id", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("station_id", sa.String(40), nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("visit_start", sa.Time, nullable=False),
        sa.Column("visit_end", sa.Time, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "shifts",
        sa.Column("shift_id", sa.String(80), primary_key=True),
        sa.Column("assignment_id", sa.String(64), nullable=False),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
        sa.Column("date", sa.Date, nullable=False, index=True),
        sa.Column("visit_start", sa.Time, nullable=False),
        sa.Column("visit_end", sa.Time, nullable=False),
        sa.Column("visited", sa.Boolean, nullable=False),
    )
    op.create_table(
        "visits",
        sa.Column("visit_id", sa.String(80), primary_key=True),
        sa.Column("shift_id", sa.String(80), nullable=False, unique=True),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
    )


def downgrade() -> None:
    for table in ("visits", "shifts", "assignments", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)
