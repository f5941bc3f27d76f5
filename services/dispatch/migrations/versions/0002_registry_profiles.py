"""dispatch: keep each registration whole (elders, needs, certificates, preferences ...)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("caregivers") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))
    with op.batch_alter_table("households") as batch:
        batch.add_column(sa.Column("profile", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_column("profile")
    with op.batch_alter_table("caregivers") as batch:
        batch.drop_column("profile")
