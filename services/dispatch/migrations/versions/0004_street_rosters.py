"""dispatch: street_rosters (a token per street, renewed whenever one of its caregivers changes)

Revision ID: 0004
Revises: 0003
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    rosters = op.create_table(
        "street_rosters",
        sa.Column("street", sa.String(80), primary_key=True),
        sa.Column("token", sa.String(32), nullable=False),
    )
    streets = op.get_bind().execute(sa.text("SELECT DISTINCT street FROM caregivers")).scalars()
    rows = [{"street": street, "token": uuid.uuid4().hex} for street in streets]
    if rows:
        op.bulk_insert(rosters, rows)


def downgrade() -> None:
    op.drop_table("street_rosters")
