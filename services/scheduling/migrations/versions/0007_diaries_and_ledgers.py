"""scheduling: diaries and household ledgers

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diaries",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("date", sa.Date, primary_key=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("appetite", sa.String(8), nullable=False),
        sa.Column("mood", sa.String(10), nullable=False),
        sa.Column("entry", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_entries",
        sa.Column("entry_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("amount", sa.String(20), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("balance", sa.String(20), nullable=False),
        sa.UniqueConstraint("household_id", "seq", name="uq_ledger_entries_household_seq"),
    )


def downgrade() -> None:
    op.drop_table("ledger_entries")
    op.drop_table("diaries")
