"""scheduling: households' holiday visit windows; the public holiday a shift falls on;
an index on assignments.caregiver_id

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holiday_windows",
        sa.Column("household_id", sa.String(40), primary_key=True),
        sa.Column("visit_start", sa.Time, nullable=False),
        sa.Column("visit_end", sa.Time, nullable=False),
        sa.Column("requested_by", sa.String(80), nullable=False),
    )
    with op.batch_alter_table("shifts") as batch:
        batch.add_column(sa.Column("holiday", sa.String(40), nullable=True))
    op.create_index("ix_assignments_caregiver_id", "assignments", ["caregiver_id"])


def downgrade() -> None:
    op.drop_index("ix_assignments_caregiver_id", table_name="assignments")
    with op.batch_alter_table("shifts") as batch:
        batch.drop_column("holiday")
    op.drop_table("holiday_windows")
