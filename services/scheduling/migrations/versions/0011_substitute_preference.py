"""scheduling: the substitute the station chose and why dispatch did not take them

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("substitutions") as batch:
        batch.add_column(sa.Column("preferred_caregiver_id", sa.String(40), nullable=True))
        batch.add_column(sa.Column("preference_reason", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("substitutions") as batch:
        batch.drop_column("preference_reason")
        batch.drop_column("preferred_caregiver_id")
