"""dispatch: shortlists keep the blocked counts of their proposal (for the console's queries)

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shortlists") as batch:
        batch.add_column(sa.Column("blocked", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("shortlists") as batch:
        batch.drop_column("blocked")
