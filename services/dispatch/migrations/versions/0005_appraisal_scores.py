"""dispatch: each caregiver's latest monthly appraisal from scheduling (used in matching)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("caregivers") as batch:
        batch.add_column(sa.Column("appraisal_score", sa.Float, nullable=True))
        batch.add_column(sa.Column("appraised_month", sa.String(7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("caregivers") as batch:
        batch.drop_column("appraised_month")
        batch.drop_column("appraisal_score")
