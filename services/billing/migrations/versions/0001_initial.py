"""billing: plumbing tables, categories, visits

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
        "categories",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("from_date", sa.Date, primary_key=True),
        sa.Column("category", sa.String(1), nullable=True),
    )
    op.create_table(
        "visits",
        sa.Column("visit_id", sa.String(80), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("date", sa.Date, nullable=False, index=True),
    )


def downgrade() -> None:
    for table in ("visits", "categories", "dead_letters", "inbox", "outbox"):
        op.drop_table(table)
