"""console: commands refused by a service after the console sent them

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
    op.create_table(
        "refusals",
        sa.Column("refusal_id", sa.String(64), primary_key=True),
        sa.Column("command_id", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(80), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("reason_zh", sa.String(1000), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dismissed", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("refusals")
