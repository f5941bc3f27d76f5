"""scheduling: leaves and substitutions

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leaves",
        sa.Column("leave_id", sa.String(40), primary_key=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False, index=True),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decision_reason", sa.String(500), nullable=True),
    )
    op.create_table(
        "substitutions",
        sa.Column("substitute_request_id", sa.String(40), primary_key=True),
        sa.Column("household_id", sa.String(40), nullable=False, index=True),
        sa.Column("caregiver_id", sa.String(40), nullable=False),
        sa.Column("replaces", sa.String(40), nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("substitutions")
    op.drop_table("leaves")
