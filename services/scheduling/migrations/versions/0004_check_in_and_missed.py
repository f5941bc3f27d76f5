"""scheduling: a shift's check-in, and whether its missed-visit alert went out

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shifts") as batch:
        batch.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("check_in_latitude", sa.Float, nullable=True))
        batch.add_column(sa.Column("check_in_longitude", sa.Float, nullable=True))
        batch.add_column(
            sa.Column("missed_alerted", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("shifts") as batch:
        for column in (
            "missed_alerted",
            "check_in_longitude",
            "check_in_latitude",
            "checked_in_at",
        ):
            batch.drop_column(column)
