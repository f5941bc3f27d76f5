"""scheduling: satisfaction ratings, complaints and monthly appraisals

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("score", sa.Integer, nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
    )
    op.create_table(
        "complaints",
        sa.Column("complaint_id", sa.String(64), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False),
        sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("recorded_by", sa.String(80), nullable=False),
    )
    op.create_table(
        "appraisals",
        sa.Column("caregiver_id", sa.String(40), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("details", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in ("appraisals", "complaints", "satisfaction"):
        op.drop_table(table)
