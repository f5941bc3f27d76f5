"""scheduling: remember which days' shifts were generated

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
    op.create_table("generated_days", sa.Column("date", sa.Date, primary_key=True))


def downgrade() -> None:
    op.drop_table("generated_days")
